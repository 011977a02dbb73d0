"""A scorer for how well a candidate follows its style's rules (forbidden and required words, length)."""

from __future__ import annotations

from adcopy_desktop.core.plugins import Score, Scorer, hookimpl
from adcopy_desktop.core.texts import Joined, Text, flag_translated, scorer_labels, translated_score

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
        value, label = 0.0, "violates"
    elif warnings:
        value, label = max(0.0, 1.0 - WARNING_PENALTY * len(warnings)), "needs_edits"
    else:
        value, label = 1.0, "compliant"
    messages = [flag_translated(flag) for flag in errors + warnings]
    explanation = Joined(messages, "clauses") if messages else Text("style.no_problems")
    return translated_score(value, Text(f"style.{label}"), explanation)


@hookimpl
def register_scorers(register):
    register(Scorer(
        name=NAME,
        label="Style compliance",
        labels=scorer_labels(NAME),
        description="1 when the copy follows the style's word and length rules; 0 with a forbidden word; "
                    "0.25 less for each missing required word or length breach.",
        score=score,
    ))
