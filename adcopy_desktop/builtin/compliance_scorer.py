"""A scorer for how well a candidate follows its style's rules (forbidden and required words, length)."""

from __future__ import annotations

from adcopy_desktop.core.plugins import Score, Scorer, hookimpl

NAME = "style-compliance"
WARNING_PENALTY = 0.25


def score(candidate, context) -> Score:
    style = context.style
    if style is not None and style.covers(candidate.language):
        flags = style.check(candidate.text, candidate.language, candidate.kind)
    else:
        flags = list(candidate.flags)
    errors = [flag for flag in flags if flag.get("severity") == "error"]
    warnings = [flag for flag in flags if flag.get("severity") != "error"]
    if errors:
        value, label = 0.0, "violates rules"
    elif warnings:
        value, label = max(0.0, 1.0 - WARNING_PENALTY * len(warnings)), "needs edits"
    else:
        value, label = 1.0, "compliant"
    explanation = "; ".join(str(flag.get("message", flag.get("rule", ""))) for flag in errors + warnings)
    return Score(value=value, label=label, explanation=explanation or "No rule problems found.")


@hookimpl
def register_scorers(register):
    register(Scorer(
        name=NAME,
        label="Style compliance",
        description="1 when the copy follows the style's word and length rules; 0 with a forbidden word; "
                    "0.25 less for each missing required word or length breach.",
        score=score,
    ))
