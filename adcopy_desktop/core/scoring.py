"""Scoring candidates with every active scorer, and ranking them.

``score_candidate`` runs the scorers (``PluginManager.score``: built-in and plugin scorers, each in
its own error boundary) and returns one plain dict per scorer, which ``attach_scores`` stores in
``Candidate.scores``. ``rank`` orders candidates by a weighted mean of their scores:

- weights: ``DEFAULT_WEIGHTS``, overridden by the brand style's ``score_weights``, overridden by
  the caller's; a scorer without a weight counts ``DEFAULT_WEIGHT``; weight 0 ignores a scorer;
- a score that abstained (nothing to check, or the learned quality model before it beats chance on
  held-out decisions) is left out of the mean;
- a hard failure (a score with ``hard_fail``, such as an advertising-law term or a chosen channel's
  platform limit, or a style's forbidden word still in the text) sinks the candidate below every
  candidate without one, and ``ranking["reasons"]`` says why.

Ties keep generation order. ``Candidate.ranking`` gets ``rank`` (1 is best), ``total``, ``sunk``
and ``reasons``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.languages import DEFAULT_LANGUAGE
from adcopy_desktop.core.texts import TRANSLATED_LANGUAGES, Text, flag_message, localized_field

if TYPE_CHECKING:
    from adcopy_desktop.core.plugins import BrandStyle, PluginManager
    from adcopy_desktop.core.prompts import CopyRequest

DEFAULT_WEIGHTS: dict[str, float] = {
    "faithfulness": 2.0,
    "ad-compliance": 2.0,
    "style-compliance": 1.5,
    "language-match": 1.5,
    "channel-rules": 1.0,
    "keyword-coverage": 1.0,
    "repetition": 1.0,
    "quality-model": 1.0,
    "readability": 0.5,
}
DEFAULT_WEIGHT = 1.0  # scorers from plugins that no weight table names


def resolve_weights(style: "BrandStyle | None" = None, weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """The weights in force: defaults, then the style's ``score_weights``, then ``weights``."""
    resolved = dict(DEFAULT_WEIGHTS)
    if style is not None:
        resolved.update({name: float(value) for name, value in style.score_weights.items()})
    if weights:
        for name, value in weights.items():
            value = float(value)
            if value < 0:
                raise ValueError(f"the weight of '{name}' must be 0 or more (got {value})")
            resolved[name] = value
    return resolved


def score_candidate(
    candidate: Candidate,
    *,
    plugins: "PluginManager | None" = None,
    request: "CopyRequest | None" = None,
    style: "BrandStyle | None" = None,
    scorers: Iterable[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    weights: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Every active scorer's verdict on ``candidate`` as plain dicts (``scorer``, ``name``, ``value``,
    ``label``, ``explanation``, ``spans``, ``hard_fail``, ``abstained``, ``weight``), in scorer order."""
    from adcopy_desktop.core.plugins import get_plugin_manager

    plugins = plugins or get_plugin_manager()
    resolved = resolve_weights(style, weights)
    registered = plugins.scorers()
    results = plugins.score(candidate, request=request, style=style, scorers=scorers, options=options)
    entries = []
    for name, score in results.items():
        scorer = registered.get(name)
        entry = {
            "scorer": name,
            "name": (scorer.label if scorer is not None and scorer.label else name),
            **score.to_dict(),
            "value": round(float(score.value), 4),
            "weight": resolved.get(name, DEFAULT_WEIGHT),
        }
        for language, label in (scorer.labels.items() if scorer is not None else ()):
            entry.setdefault("localized", {}).setdefault(language, {})["name"] = label
        entries.append(entry)
    return entries


def attach_scores(candidates: Sequence[Candidate], **kwargs: Any) -> list[Candidate]:
    """Score each candidate (``score_candidate`` keyword arguments) and store it in ``.scores``."""
    for candidate in candidates:
        candidate.scores = score_candidate(candidate, **kwargs)
    return list(candidates)


def ranking_of(candidate: Candidate, weights: Mapping[str, float]) -> dict[str, Any]:
    """``total`` (weighted mean of the non-abstained scores), ``sunk`` and the ``reasons`` it sank;
    with reasons, ``localized_reasons`` has them in the other languages (``{"zh": [...]}``)."""
    numerator = denominator = 0.0
    sinking: list[Mapping[str, Any]] = []
    for entry in candidate.scores:
        weight = float(weights.get(entry["scorer"], entry.get("weight", DEFAULT_WEIGHT)))
        if weight <= 0:
            continue
        if entry.get("hard_fail"):
            sinking.append(entry)
        if entry.get("abstained"):
            continue
        numerator += weight * float(entry["value"])
        denominator += weight
    errors = [flag for flag in candidate.flags if flag.get("severity") == "error"]
    reasons = _reasons(sinking, errors, DEFAULT_LANGUAGE)
    total = numerator / denominator if denominator else 0.0
    ranking: dict[str, Any] = {"total": round(total, 4), "sunk": bool(reasons), "reasons": reasons}
    if reasons:
        ranking["localized_reasons"] = {language: _reasons(sinking, errors, language)
                                        for language in TRANSLATED_LANGUAGES}
    return ranking


def _reasons(entries: Sequence[Mapping[str, Any]], flags: Sequence[Mapping[str, Any]], language: str) -> list[str]:
    reasons = [_reason(entry, language) for entry in entries]
    for flag in flags:
        message = flag_message(flag, language) or "a rule of the style is broken"
        if not any(message in reason for reason in reasons):
            reasons.append(message)
    return reasons


def _reason(entry: Mapping[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    name = localized_field(entry, "name", language) or entry["scorer"]
    label = localized_field(entry, "label", language)
    if language == DEFAULT_LANGUAGE:  # the spans' messages are English
        spans = [span for span in entry.get("spans", ()) if span.get("severity") == "error" and span.get("message")]
        detail = "; ".join(span["message"] for span in spans[:3]) if spans else entry.get("explanation", "")
    else:
        detail = localized_field(entry, "explanation", language)
    values = {"name": name, "label": label, "detail": detail}
    return Text("ranking.reason_detail" if detail else "ranking.reason", values).render(language)


def rank(
    candidates: Sequence[Candidate],
    *,
    style: "BrandStyle | None" = None,
    weights: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Candidates best first (see the module docstring); sets each one's ``ranking``."""
    resolved = resolve_weights(style, weights)
    order = []
    for position, candidate in enumerate(candidates):
        ranking = ranking_of(candidate, resolved)
        candidate.ranking = ranking
        order.append((ranking["sunk"], -ranking["total"], position, candidate))
    order.sort(key=lambda item: item[:3])
    ranked = [item[3] for item in order]
    for number, candidate in enumerate(ranked, start=1):
        candidate.ranking = {"rank": number, **(candidate.ranking or {})}
    return ranked


def rank_candidates(
    candidates: Sequence[Candidate],
    *,
    plugins: "PluginManager | None" = None,
    request: "CopyRequest | None" = None,
    style: "BrandStyle | None" = None,
    scorers: Iterable[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    weights: Mapping[str, float] | None = None,
    top: int | None = None,
    rescore: bool = False,
) -> list[Candidate]:
    """Score the candidates that have no scores yet (all with ``rescore``), rank them, keep ``top``."""
    for candidate in candidates:
        if rescore or not candidate.scores:
            candidate.scores = score_candidate(candidate, plugins=plugins, request=request, style=style,
                                               scorers=scorers, options=options, weights=weights)
    ranked = rank(candidates, style=style, weights=weights)
    return ranked[:top] if top is not None else ranked
