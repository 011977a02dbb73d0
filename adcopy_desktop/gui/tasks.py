"""The work the writer runs off the UI thread: generate, record, score. No widgets in here.

Each ``*_task`` returns a ``fn(report, cancel)`` for ``BackgroundJob``; everything it needs is
passed in, so a task never reaches back into the window.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from adcopy_desktop.core.candidates import Candidate, GenerationSettings
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.library import Library, StoredCandidate
from adcopy_desktop.core.plugins import BrandStyle, PluginManager
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.core.prompts import CopyRequest
from adcopy_desktop.core.texts import localized_field
from adcopy_desktop.gui.i18n import interface_copy_language

log = logging.getLogger("adcopy.gui.tasks")


@dataclass(frozen=True)
class ScoreLine:
    """One scorer's verdict as a card shows it."""

    scorer: str  # the scorer's registered name
    name: str  # its label for people ("Style compliance")
    value: float  # 0..1, 1 is best
    verdict: str = ""  # the scorer's short label ("compliant")
    explanation: str = ""
    abstained: bool = False  # no verdict (nothing to check, or a learned scorer not trained yet)
    hard_fail: bool = False  # must not be used as it is (an advertising-law term, a forbidden word)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], language: str | None = None) -> "ScoreLine":
        """From the plain dict ``core.scoring`` stores in ``Candidate.scores``, in ``language``
        ("zh"/"en"; default: the interface's) where the scorer gave its words in it."""
        language = language or interface_copy_language()
        return cls(
            scorer=str(entry.get("scorer", "")),
            name=localized_field(entry, "name", language) or str(entry.get("scorer", "")),
            value=float(entry.get("value", 0.0)), verdict=localized_field(entry, "label", language),
            explanation=localized_field(entry, "explanation", language), abstained=bool(entry.get("abstained")),
            hard_fail=bool(entry.get("hard_fail")),
        )


@dataclass
class GenerationOutcome:
    product_id: int
    slots: list[int]  # the card each candidate goes to
    candidates: list[Candidate]
    ids: list[int | None]  # library ids (None: an empty, stopped candidate that was not kept)
    scores: list[list[ScoreLine]] = field(default_factory=list)


@dataclass
class ScoredSet:
    """Stored candidates with their scores, for cards loaded from the library."""

    stored: list[StoredCandidate]
    scores: list[list[ScoreLine]]


def score_entries(
    plugins: PluginManager, candidate: Candidate, request: CopyRequest | None, style: BrandStyle | None
) -> list[dict[str, Any]]:
    """Every active scorer's verdict on ``candidate`` (a failing scorer is reported by the plugin
    manager and left out), as the plain dicts ``Candidate.scores`` holds."""
    try:
        from adcopy_desktop.core.scoring import score_candidate
    except ImportError:  # a core without the scoring module: ask the plugin manager directly
        score_candidate = None
    try:
        if score_candidate is not None:
            return score_candidate(candidate, plugins=plugins, request=request, style=style)
        scorers = plugins.scorers()
        return [{"scorer": name, "name": (scorers[name].label if name in scorers and scorers[name].label else name),
                 "value": score.value, "label": score.label, "explanation": score.explanation}
                for name, score in plugins.score(candidate, request=request, style=style).items()]
    except AdCopyError as exc:
        log.warning("scoring failed: %s", exc)
        return []


def score_lines(
    plugins: PluginManager, candidate: Candidate, request: CopyRequest | None, style: BrandStyle | None
) -> list[ScoreLine]:
    """The candidate's scores: the ones generation attached, or freshly computed."""
    entries = getattr(candidate, "scores", None)
    if not entries:
        entries = score_entries(plugins, candidate, request, style)
    return [ScoreLine.from_entry(entry) for entry in entries if isinstance(entry, Mapping)]


def generation_task(
    generator: CopyGenerator,
    plugins: PluginManager,
    library: Library,
    product_id: int,
    request: CopyRequest,
    settings: GenerationSettings,
    style: str | None,
    slots: list[int],
    on_token: Callable[[int, str], None],
    load_lock: "threading.Lock | None" = None,
):
    def task(report, cancel) -> GenerationOutcome:
        report(ProgressEvent("load", "Loading the model"))
        with load_lock or contextlib.nullcontext():
            # loaded once (waits for a preload in progress); another model if the style has its own
            # version or training swapped in a new one
            generator.follow_active_model(style)
        brand = generator.resolve_style(style) if style else None
        candidates = generator.generate(
            request, settings, on_token=on_token, cancel=cancel, max_new_tokens_from_request=True, style=brand,
        )
        report(ProgressEvent("record", "Saving to the library"))
        for candidate, slot in zip(candidates, slots):
            candidate.index = slot  # the card position, so a regenerated card keeps its place
        keep = [c for c in candidates if c.text.strip() or c.finish_reason != "cancelled"]
        kept_ids = library.record_generation(product_id, keep, length=request.length, tone=request.tone)
        id_by_candidate = {id(c): i for c, i in zip(keep, kept_ids)}
        ids = [id_by_candidate.get(id(c)) for c in candidates]
        scores = [score_lines(plugins, c, request, brand) for c in candidates]
        return GenerationOutcome(product_id, list(slots), candidates, ids, scores)

    return task


def rescore_task(plugins: PluginManager, library: Library, stored: list[StoredCandidate]):
    """Scores for stored candidates (their current, possibly edited text)."""

    def task(report, cancel) -> ScoredSet:
        products: dict[int, object] = {}
        scores = []
        for item in stored:
            if cancel.cancelled:
                break
            if item.product_id not in products:
                try:
                    products[item.product_id] = library.get_product(item.product_id).product
                except AdCopyError:
                    products[item.product_id] = None
            product = products[item.product_id]
            request = None
            if product is not None:
                try:
                    request = CopyRequest(product, item.kind, language=item.language)
                except (ValueError, TypeError):
                    request = None
            style = None
            if item.style:
                try:
                    style = plugins.style(item.style)
                except AdCopyError:
                    style = None  # the plugin that provided it is gone; score without it
            scores.append(score_lines(plugins, item.to_candidate(), request, style))  # stored, or fresh
        return ScoredSet(stored, scores)

    return task


def latest_candidate_set(rows: list[StoredCandidate]) -> list[StoredCandidate]:
    """The product's current cards from its stored candidates (newest generation first): the last
    multi-candidate generation, with later single-candidate regenerations of the same kind and
    language in their card's place."""
    generations: list[list[StoredCandidate]] = []
    for row in rows:
        if generations and generations[-1][0].generation_id == row.generation_id:
            generations[-1].append(row)
        else:
            generations.append([row])
    if not generations:
        return []
    base_at = next((i for i, group in enumerate(generations) if len(group) > 1), 0)
    base = generations[base_at]
    newer = generations[:base_at]
    positions = {c.position for c in base}
    same = lambda group: all(  # noqa: E731
        c.kind == base[0].kind and c.language == base[0].language and c.position in positions for c in group)
    if not all(same(group) for group in newer):
        return sorted(generations[0], key=lambda c: c.position)
    cards = {c.position: c for c in base}
    for group in reversed(newer):  # oldest regeneration first, so the newest wins
        for candidate in group:
            cards[candidate.position] = candidate
    return [cards[position] for position in sorted(cards)]
