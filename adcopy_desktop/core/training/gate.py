"""The evaluation gate: does a newly trained model replace the active one?

A pure function of the two models' held-out figures (``decide``), so the rule is easy to test and
to explain. The old and the new model write copy for the *same* held-out prompts, so the gate
compares them pair by pair instead of comparing two averages of a dozen noisy scores.

Copy metrics (paired). For ROUGE-L and BLEU (sentence BLEU-4, smoothed, per example) the gate
takes each held-out example's difference ``d_i = new_i - old_i`` and computes:

* a bootstrap confidence interval of the mean difference: ``resamples`` (default 2000) resamples
  of the n pairs with replacement, seeded (``seed``) so the same figures always give the same
  answer; the percentile interval at ``confidence`` (default 95%);
* a two-sided sign test (ties, |d_i| < 1e-9, left out), so a handful of examples can never make
  a claim by themselves: with fewer than ``min_examples(confidence)`` pairs (6 at 95%) no
  interval counts as decisive;
* the allowed loss, relative: ``margin`` times the old model's mean score, but at least
  ``MIN_ALLOWED`` (half a point), so a model that scores near 0 is not held to a zero margin.

Each copy metric is then one of:

* ``better``: the interval lies above 0 and the sign test agrees (more wins than losses, p at most
  1 - confidence);
* ``worse``: the interval lies below -allowed and the sign test agrees (more examples lost by more
  than the allowed amount than not, p at most 1 - confidence);
* ``same``: the interval lies within ±allowed (enough examples, nothing shown either way);
* ``not_worse``: the interval's low end is above -allowed, but it reaches above +allowed;
* ``unclear``: the interval reaches below -allowed (or there are too few pairs to tell).

Hard rules (point comparisons, kept from the first gate): the held-out loss may rise by at most
``margin`` of the old value (relative); the compliance, forbidden-word and empty-output rates must
not get worse at all; a figure the new model lacks (or that is not finite) while the old model has
it refuses the new model; a figure the old model lacks is not compared.

The three answers:

* ``refused``: a hard rule fails, or a copy metric is ``worse`` (clearly worse) — and also when
  every copy metric is ``same`` and nothing improved: the new model is, with confidence, no better
  (a version that changes nothing is not worth a swap);
* ``accepted``: no hard rule fails, every copy metric is ``better``, ``same`` or ``not_worse``
  (the interval says the new model is not worse beyond the relative margin), and something
  improved: a copy metric is ``better``, or the held-out loss fell by more than ``margin`` of the
  old value;
* ``not_enough`` ("not enough held-out copy to tell"): anything else. The old model stays, and the
  decision says how many held-out examples the gate would need (``needed_examples``): from the
  observed spread, the bootstrap half-width shrinks like 1/sqrt(n), so
  ``n_needed = ceil(n * (half_width / target)^2)`` with ``target`` the margin (``allowed``), or
  less when the observed mean lies closer than that to the bound that decides (−allowed for an
  ``unclear`` metric, 0 for a ``not_worse`` one; never below a quarter of the margin), and at
  least ``min_examples``. ``more_copies`` turns that into accepted copies to add: the held-out
  examples missing, divided by ``holdout_share`` (that share of new accepted copy is held out).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

# copy metrics compared pair by pair; their per-example scores are in metrics["per_example"][name]
COPY_METRICS = ("rouge_l", "bleu")
# hard rules: metric -> higher is better
RATE_METRICS: dict[str, bool] = {"compliance_rate": True, "forbidden_rate": False, "empty_rate": False}
LOSS_METRIC = "heldout_loss"
# the old single-number rule, kept for callers that read it
GATE_METRICS: dict[str, tuple[bool, bool]] = {
    "heldout_loss": (False, True),
    "rouge_l": (True, True),
    "bleu": (True, True),
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

DECISIONS = ("accepted", "refused", "not_enough")
DEFAULT_MARGIN = 0.05
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2000
MIN_ALLOWED = 0.005  # the allowed loss of a copy metric never falls below half a point
TIE = 1e-9
DIGITS = 6


@dataclass
class GateDecision:
    decision: str  # accepted | refused | not_enough
    reasons: list[str] = field(default_factory=list)  # why refused / undecided; what improved when accepted
    comparisons: list[dict[str, Any]] = field(default_factory=list)  # per metric: old, new, ok
    margin: float = 0.0
    intervals: dict[str, dict[str, Any]] = field(default_factory=dict)  # copy metric -> paired interval
    needed_examples: int | None = None  # not_enough: held-out examples the gate needs in all
    more_copies: int | None = None  # not_enough: accepted copies to add for that (via holdout_share)
    examples: int = 0  # paired held-out examples compared
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def accepted(self) -> bool:
        return self.decision == "accepted"

    def summary(self) -> str:
        return "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accepted": self.accepted}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def min_examples(confidence: float = DEFAULT_CONFIDENCE) -> int:
    """The fewest pairs with which a two-sided sign test can reach p <= 1 - confidence (6 at 95%)."""
    alpha = 1.0 - confidence
    return max(2, math.ceil(math.log2(2.0 / alpha) - 1e-12))


def sign_test(above: int, below: int) -> float:
    """Two-sided sign test p-value for ``above`` vs ``below`` (ties already left out)."""
    total = above + below
    if total == 0:
        return 1.0
    tail = sum(math.comb(total, i) for i in range(min(above, below) + 1)) / 2.0 ** total
    return min(1.0, 2.0 * tail)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def paired_interval(
    old_scores: Sequence[Any],
    new_scores: Sequence[Any],
    *,
    margin: float = DEFAULT_MARGIN,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    metric: str = "",
) -> dict[str, Any]:
    """The paired comparison of one copy metric (see the module docstring): n, means, the mean
    difference with its bootstrap interval and half-width, the allowed loss, wins / losses / ties,
    the sign test's p and the status."""
    import numpy as np

    pairs = [(float(a), float(b)) for a, b in zip(old_scores, new_scores) if _finite(a) and _finite(b)]
    n = len(pairs)
    alpha = 1.0 - confidence
    result: dict[str, Any] = {
        "metric": metric, "label": LABELS.get(metric, metric), "n": n, "confidence": confidence,
        "old_mean": None, "new_mean": None, "mean_diff": None, "low": None, "high": None, "half_width": None,
        "allowed": None, "wins": 0, "losses": 0, "ties": 0, "sign_p": 1.0, "status": "unclear",
        "resamples": resamples, "seed": seed,
    }
    if n == 0:
        result["status"] = "no_data"
        return result
    old = np.array([a for a, _ in pairs])
    new = np.array([b for _, b in pairs])
    diffs = new - old
    old_mean = float(old.mean())
    allowed = max(margin * abs(old_mean), MIN_ALLOWED)
    mean = float(diffs.mean())
    wins, losses = int((diffs > TIE).sum()), int((diffs < -TIE).sum())
    result.update(old_mean=_round(old_mean), new_mean=_round(float(new.mean())), mean_diff=_round(mean),
                  allowed=_round(allowed), wins=wins, losses=losses, ties=n - wins - losses,
                  sign_p=_round(sign_test(wins, losses)))
    if n < 2:
        return result
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    low, high = (float(x) for x in np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0]))
    low, high = min(low, mean), max(high, mean)  # float noise never puts the mean outside
    result.update(low=_round(low), high=_round(high), half_width=_round((high - low) / 2.0))
    # examples lost by more than the allowed amount, against those that were not
    lost_beyond = int((diffs < -allowed - TIE).sum())
    not_lost = int((diffs > -allowed + TIE).sum())
    worse_p = sign_test(not_lost, lost_beyond)
    result["worse_sign_p"] = _round(worse_p)
    enough = n >= min_examples(confidence)
    if high < -allowed and lost_beyond > not_lost and worse_p <= alpha + 1e-12:
        status = "worse"
    elif low > 0 and wins > losses and result["sign_p"] <= alpha + 1e-12:
        status = "better"
    elif enough and low >= -allowed and high <= allowed:
        status = "same"
    elif enough and low >= -allowed:
        status = "not_worse"
    else:
        status = "unclear"
    result["status"] = status
    return result


def needed_for(interval: Mapping[str, Any], confidence: float = DEFAULT_CONFIDENCE) -> int:
    """Held-out pairs needed for this metric's interval to decide (see the module docstring)."""
    n = int(interval.get("n") or 0)
    floor = min_examples(confidence)
    half_width, allowed = interval.get("half_width"), interval.get("allowed")
    if n < 2 or not half_width or not allowed:
        return max(floor, n + 1)
    bound = 0.0 if interval.get("status") == "not_worse" else -float(allowed)
    distance = abs(float(interval.get("mean_diff") or 0.0) - bound)
    target = min(float(allowed), max(distance, float(allowed) / 4.0))
    return max(floor, n + 1, math.ceil(n * (float(half_width) / target) ** 2))


def signed(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "?"
    if abs(value) < 0.5 * 10 ** -digits:
        value = 0.0
    text = f"{value:+.{digits}f}"
    return text.replace("-", "\u2212")


def format_interval(interval: Mapping[str, Any]) -> str:
    """``ROUGE-L +0.012 (95% CI −0.004…+0.027), n=32``."""
    label = interval.get("label") or LABELS.get(str(interval.get("metric")), str(interval.get("metric")))
    n = interval.get("n") or 0
    if interval.get("mean_diff") is None:
        return f"{label}: no held-out pairs"
    if interval.get("low") is None:
        return f"{label} {signed(interval['mean_diff'])} (no interval), n={n}"
    level = round(100 * float(interval.get("confidence") or DEFAULT_CONFIDENCE))
    return (f"{label} {signed(interval['mean_diff'])} ({level}% CI {signed(interval['low'])}\u2026"
            f"{signed(interval['high'])}), n={n}")


def decide(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    margin: float = DEFAULT_MARGIN,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    holdout_share: float | None = None,
    available: int | None = None,
    max_examples: int | None = None,
) -> GateDecision:
    """The gate's answer for two models' held-out metrics (module docstring).

    ``old`` / ``new``: ``copy_metrics`` dicts (``core/training/pipeline.py``) with the held-out
    loss, the rates, and ``per_example`` scores for the copy metrics, in the same example order.
    ``holdout_share``: turns missing held-out examples into accepted copies to add; ``available``:
    held-out examples there are (the gate may have compared fewer, up to ``max_examples``, the
    setting gate_max_examples)."""
    hard: list[str] = []
    comparisons: list[dict[str, Any]] = []
    # -- hard rules
    before, after = old.get(LOSS_METRIC), new.get(LOSS_METRIC)
    loss_improved = False
    if _finite(before):
        label = LABELS[LOSS_METRIC]
        if not _finite(after):
            hard.append(f"the new model has no usable {label} ({after!r})")
            comparisons.append({"metric": LOSS_METRIC, "old": before, "new": after, "ok": False})
        else:
            allowed = margin * abs(before)
            ok = after - before <= allowed + 1e-12
            loss_improved = before - after > allowed + 1e-12
            comparisons.append({"metric": LOSS_METRIC, "old": before, "new": after, "ok": ok,
                                "allowed": _round(allowed)})
            if not ok:
                hard.append(f"{label} got worse: {before:.4g} -> {after:.4g} (allowed +{allowed:.3g})")
    for metric, higher_better in RATE_METRICS.items():
        before, after = old.get(metric), new.get(metric)
        if not _finite(before):
            continue
        label = LABELS[metric]
        if not _finite(after):
            hard.append(f"the new model has no usable {label} ({after!r})")
            comparisons.append({"metric": metric, "old": before, "new": after, "ok": False})
            continue
        change = (after - before) if higher_better else (before - after)  # positive = better
        ok = change >= -1e-9
        comparisons.append({"metric": metric, "old": before, "new": after, "ok": ok, "allowed": 0.0})
        if not ok:
            hard.append(f"{label} got worse: {before:.4g} -> {after:.4g}")

    # -- paired copy metrics
    old_examples = old.get("per_example") if isinstance(old.get("per_example"), Mapping) else {}
    new_examples = new.get("per_example") if isinstance(new.get("per_example"), Mapping) else {}
    intervals: dict[str, dict[str, Any]] = {}
    for metric in COPY_METRICS:
        interval = paired_interval(old_examples.get(metric) or [], new_examples.get(metric) or [], margin=margin,
                                   confidence=confidence, resamples=resamples, seed=seed, metric=metric)
        intervals[metric] = interval
        status = interval["status"]
        comparisons.append({"metric": metric, "old": old.get(metric), "new": new.get(metric),
                            "ok": {"better": True, "same": True, "not_worse": True, "worse": False}.get(status),
                            "allowed": interval["allowed"], "status": status})
    examples = max((i["n"] for i in intervals.values()), default=0)
    result = GateDecision("not_enough", [], comparisons, margin, intervals, examples=examples,
                          confidence=confidence)
    statuses = {metric: interval["status"] for metric, interval in intervals.items()}
    shown = {metric: format_interval(interval) for metric, interval in intervals.items()}

    if hard:
        result.decision, result.reasons = "refused", hard
        return result
    worse = [m for m, s in statuses.items() if s == "worse"]
    if worse:
        result.decision = "refused"
        result.reasons = [f"clearly worse: {shown[m]} (allowed \u2212{intervals[m]['allowed']:.3g})" for m in worse]
        return result
    settled = all(s in ("better", "same", "not_worse") for s in statuses.values())
    better = [m for m, s in statuses.items() if s == "better"]
    if settled and (better or loss_improved):
        improved = [shown[m] for m in better]
        if loss_improved:
            loss = next(c for c in comparisons if c["metric"] == LOSS_METRIC)
            improved.append(f"held-out loss {loss['old']:.4g} -> {loss['new']:.4g}")
        result.decision = "accepted"
        result.reasons = ["better: " + ", ".join(improved)]
        rest = [shown[m] for m in COPY_METRICS if m not in better]
        if rest:
            result.reasons.append("not worse beyond the margin: " + ", ".join(rest))
        return result
    if all(s == "same" for s in statuses.values()):
        result.decision = "refused"
        result.reasons = ["no better: the new model's held-out copy is within the margin of the current "
                          "model's and nothing improved (" + ", ".join(shown.values()) + ")"]
        return result

    # -- not enough held-out copy to tell
    undecided = [m for m, s in statuses.items() if s not in ("better", "same")]
    needed = max([needed_for(intervals[m], confidence) for m in undecided] or [min_examples(confidence)])
    have = max(examples, available or 0)
    missing = max(0, needed - have)
    result.needed_examples = needed
    result.more_copies = math.ceil(missing / holdout_share) if holdout_share and missing else (0 if holdout_share else None)
    if examples == 0:
        what = "there were no held-out pairs to compare"
    else:
        what = ", ".join(shown[m] for m in undecided)
    reasons = [f"not enough held-out copy to tell: {what}"]
    ask = f"about {needed} held-out examples needed"
    if result.more_copies:
        ask += f" (about {result.more_copies} more accepted copies)"
    if max_examples is not None and needed > max_examples:
        ask += f"; the gate compares at most {max_examples} (gate_max_examples): raise it to {needed}"
    reasons.append(ask)
    result.reasons = reasons
    return result
