"""The learned "quality-model" scorer, and retraining it in the background as decisions come in.

The scorer abstains (ranking ignores it) until a head is trained whose held-out ROC-AUC beats 0.5
by the margin with confidence (``core/quality_model.py``); then it reports the predicted chance
that the user accepts the copy (or, for a head trained on click data, its percentile among the
training copy). Accepting or rejecting candidates counts towards the next background retrain.
"""

from __future__ import annotations

from adcopy_desktop.core import quality_model
from adcopy_desktop.core.plugins import Score, Scorer, hookimpl

NAME = "quality-model"

retrainer = quality_model.BackgroundRetrainer()


def score(candidate, context) -> Score:
    try:
        model = quality_model.loaded_model()
    except quality_model.QualityModelError as error:
        return Score(0.5, "needs retraining", str(error), abstained=True)
    if model is None:
        return Score(0.5, "not trained yet",
                     f"Learns from the copy you accept and reject; it is used once it predicts your held-out "
                     f"decisions better than chance (at least {quality_model.MIN_PER_CLASS} of each). "
                     "Train now: adcopy quality train", abstained=True)
    report = model.report
    if not report.usable:
        return Score(0.5, "not reliable yet", f"Not used for ranking: {report.summary()}.", abstained=True)
    probability = float(model.predict([candidate.text], [candidate.kind], [candidate.language])[0])
    value = min(1.0, max(0.0, model.value(probability)))
    if report.target == quality_model.TARGET_CTR:
        label = "likely clicks" if value >= 0.66 else ("average" if value >= 0.33 else "few clicks")
        what = f"predicted click-through {probability:.2%}, above {value:.0%} of your imported copy"
    else:
        label = "likely accepted" if value >= 0.66 else ("uncertain" if value >= 0.33 else "likely rejected")
        what = f"predicted acceptance {value:.0%}"
    return Score(round(value, 4), label, f"{what} ({report.summary()}).")


@hookimpl
def register_scorers(register):
    register(Scorer(
        name=NAME,
        label="Learned quality",
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
