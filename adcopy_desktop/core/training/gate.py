"""The evaluation gate: does a newly trained model replace the active one?

A pure function of the two models' held-out metrics, so the rule is easy to test and to explain.
The new model must not be worse than the old beyond ``margin`` on any metric both have: held-out
loss may rise by at most ``margin`` of the old value (relative), and each 0..1 rate may move the
wrong way by at most ``margin`` (absolute points). Missing or non-finite values of the new model
refuse it; a metric the old model lacks (None) is not compared.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

# metric -> (higher is better, relative margin)
GATE_METRICS: dict[str, tuple[bool, bool]] = {
    "heldout_loss": (False, True),
    "rouge_l": (True, False),
    "bleu": (True, False),
    "compliance_rate": (True, False),
    "forbidden_rate": (False, False),
    "empty_rate": (False, False),
}

LABELS = {
    "heldout_loss": "held-out loss",
    "rouge_l": "ROUGE-L",
    "bleu": "BLEU",
    "compliance_rate": "compliance rate",
    "forbidden_rate": "forbidden-word rate",
    "empty_rate": "empty-output rate",
}


@dataclass
class GateDecision:
    accepted: bool
    reasons: list[str] = field(default_factory=list)  # why refused; what improved when accepted
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    margin: float = 0.0

    @property
    def decision(self) -> str:
        return "accepted" if self.accepted else "refused"

    def summary(self) -> str:
        return "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "decision": self.decision}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def decide(old: Mapping[str, Any], new: Mapping[str, Any], margin: float = 0.02) -> GateDecision:
    worse: list[str] = []
    better: list[str] = []
    comparisons: list[dict[str, Any]] = []
    for metric, (higher_better, relative) in GATE_METRICS.items():
        before, after = old.get(metric), new.get(metric)
        if before is None or not _finite(before):
            continue
        label = LABELS[metric]
        if not _finite(after):
            worse.append(f"the new model has no usable {label} ({after!r})")
            comparisons.append({"metric": metric, "old": before, "new": after, "ok": False})
            continue
        allowed = margin * abs(before) if relative else margin
        change = (after - before) if higher_better else (before - after)  # positive = better
        ok = change >= -allowed - 1e-12
        comparisons.append({"metric": metric, "old": before, "new": after, "ok": ok, "allowed": allowed})
        if not ok:
            worse.append(f"{label} got worse: {before:.4g} -> {after:.4g} (allowed {allowed:.3g})")
        elif change > 1e-12:
            better.append(f"{label} {before:.4g} -> {after:.4g}")
    if not comparisons:
        return GateDecision(False, ["there were no held-out metrics to compare"], comparisons, margin)
    if worse:
        return GateDecision(False, worse, comparisons, margin)
    reasons = ["not worse beyond the margin on any held-out metric"] + (["better: " + ", ".join(better)] if better else [])
    return GateDecision(True, reasons, comparisons, margin)
