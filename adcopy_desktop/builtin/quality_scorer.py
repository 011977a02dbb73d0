"""The learned "quality-model" scorer, and retraining it in the background as decisions come in.

The scorer abstains (ranking ignores it) until a head is trained whose held-out ROC-AUC beats 0.5
by the margin with confidence (``core/quality_model.py``); then it reports the predicted chance
that the user accepts the copy (or, for a head trained on click data, its percentile among the
training copy). Accepting or rejecting candidates counts towards the next background retrain.
"""

from __future__ import annotations

import math

from adcopy_desktop.core import quality_model
from adcopy_desktop.core.plugins import Score, Scorer, hookimpl
from adcopy_desktop.core.texts import TRANSLATED_LANGUAGES, Text, Translated, scorer_labels, translated_score

NAME = "quality-model"

retrainer = quality_model.BackgroundRetrainer()


def score(candidate, context) -> Score:
    try:
        model = quality_model.loaded_model()
    except quality_model.QualityModelError as error:
        return translated_score(0.5, Text("quality.needs_retraining"),
                                Text("quality.needs_retraining.explanation", {"error": str(error)}), abstained=True)
    if model is None:
        return translated_score(0.5, Text("quality.not_trained"), Text(
            "quality.not_trained.explanation", {"minimum": quality_model.MIN_PER_CLASS}), abstained=True)
    report = model.report
    if not report.usable:
        return translated_score(0.5, Text("quality.not_reliable"),
                                Text("quality.not_reliable.explanation", {"summary": summary(report)}), abstained=True)
    probability = float(model.predict([candidate.text], [candidate.kind], [candidate.language])[0])
    value = min(1.0, max(0.0, model.value(probability)))
    if report.target == quality_model.TARGET_CTR:
        label = "likely_clicks" if value >= 0.66 else ("average" if value >= 0.33 else "few_clicks")
        what = Text("quality.ctr", {"probability": probability, "value": value})
    else:
        label = "likely_accepted" if value >= 0.66 else ("uncertain" if value >= 0.33 else "likely_rejected")
        what = Text("quality.acceptance", {"value": value})
    return translated_score(round(value, 4), Text(f"quality.{label}"),
                            Text("quality.explanation", {"what": what, "summary": summary(report)}))


def summary(report: quality_model.QualityReport) -> Text:
    """``report.summary()`` in every language; its English is the report's own words."""
    auc = Text("quality.auc", {"auc": report.auc}) if report.auc is not None else Text("quality.no_auc")
    what = Text("quality.decisions" if report.target == quality_model.TARGET_DECISIONS else "quality.click_rows")
    return Text("quality.summary", {"auc": auc, "examples": report.examples, "what": what,
                                    "reason": Translated({"en": report.reason, **gate_reason(report)})})


def gate_reason(report: quality_model.QualityReport) -> dict[str, str]:
    """Why the gate decided as it did (``quality_model.gate``), in the other languages, from the
    numbers the report keeps: the English reason is stored as text only."""
    minimum, auc, margin, lower = quality_model.MIN_PER_CLASS, report.auc, report.margin, report.auc_lower
    if report.positives < minimum or report.negatives < minimum:
        reason = Text("quality.gate.too_few", {"minimum": minimum, "positives": report.positives,
                                               "negatives": report.negatives})
    elif auc is None or not math.isfinite(auc):
        reason = Text("quality.gate.no_auc")
    elif auc < 0.5 + margin:
        reason = Text("quality.gate.below_margin", {"auc": auc, "threshold": 0.5 + margin, "margin": margin})
    elif lower is None:
        return {}  # a report from before lower bounds were kept: its English reason stands
    elif report.usable:
        reason = Text("quality.gate.usable", {"auc": auc, "margin": margin, "lower": lower})
    else:
        reason = Text("quality.gate.not_reliable", {"auc": auc, "lower": lower})
    return {language: reason.render(language) for language in TRANSLATED_LANGUAGES}


@hookimpl
def register_scorers(register):
    register(Scorer(
        name=NAME,
        label="Learned quality",
        labels=scorer_labels(NAME),
        description="A model of your own accept/reject decisions (or imported click-through data); abstains "
                    "until its held-out ROC-AUC beats 0.5 by a margin.",
        score=score,
    ))


@hookimpl
def candidate_accepted(candidate):
    retrainer.decision_recorded()


@hookimpl
def candidate_rejected(candidate, reason):
    retrainer.decision_recorded()
