"""The evaluation gate: paired bootstrap intervals and sign tests on synthetic per-example scores,
the hard rules, the three answers and how much more held-out copy "not enough" asks for."""

import math
import random

import pytest

from adcopy_desktop.core.training.gate import (
    decide,
    format_interval,
    min_examples,
    needed_for,
    paired_interval,
    sign_test,
)

RATES = {"compliance_rate": 1.0, "forbidden_rate": 0.0, "empty_rate": 0.0}


def metrics(rouge: list[float], bleu: list[float] | None = None, *, loss: float | None = 2.0, **extra) -> dict:
    bleu = [x / 3 for x in rouge] if bleu is None else bleu
    return {"heldout_loss": loss, "rouge_l": sum(rouge) / len(rouge) if rouge else None,
            "bleu": sum(bleu) / len(bleu) if bleu else None, **RATES,
            "per_example": {"rouge_l": rouge, "bleu": bleu}, **extra}


def scores(n: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(0.05, 0.25), 4) for _ in range(n)]


def shifted(values: list[float], shift: float, spread: float, seed: int = 2) -> list[float]:
    rng = random.Random(seed)
    return [min(1.0, max(0.0, v + shift + rng.gauss(0, spread))) for v in values]


def test_a_clear_win_is_accepted_and_the_interval_is_above_zero():
    old = scores(32)
    decision = decide(metrics(old), metrics(shifted(old, 0.1, 0.03)), 0.05)
    assert decision.decision == "accepted" and decision.accepted
    rouge = decision.intervals["rouge_l"]
    assert rouge["status"] == "better" and 0 < rouge["low"] < rouge["mean_diff"] < rouge["high"]
    assert rouge["n"] == 32 and rouge["wins"] > 28 and rouge["sign_p"] < 0.001
    assert "better: ROUGE-L +0.09" in decision.summary() and "95% CI" in decision.summary()
    assert decision.needed_examples is None and decision.more_copies is None


def test_noise_is_not_enough_and_says_how_much_more_copy_is_needed():
    # the case that used to pass: 14 held-out examples, ROUGE-L 0.13 -> 0.11 on average, very noisy
    old = scores(14)
    new = shifted(old, -0.018, 0.08)
    decision = decide(metrics(old), metrics(new), 0.05, holdout_share=0.2, available=14, max_examples=32)
    assert decision.decision == "not_enough" and not decision.accepted
    rouge = decision.intervals["rouge_l"]
    assert rouge["status"] == "unclear" and rouge["low"] < -rouge["allowed"] < rouge["high"]
    assert decision.needed_examples > 14
    # the observed spread: the half-width shrinks like 1/sqrt(n), down to the margin
    assert decision.needed_examples >= math.ceil(14 * (rouge["half_width"] / rouge["allowed"]) ** 2) * 0.99
    assert decision.more_copies == math.ceil((decision.needed_examples - 14) / 0.2)
    text = decision.summary()
    assert text.startswith("not enough held-out copy to tell")
    assert f"about {decision.more_copies} more accepted copies" in text and "gate_max_examples" in text


def test_a_clear_loss_is_refused():
    old = scores(32)
    decision = decide(metrics(old), metrics(shifted(old, -0.1, 0.03)), 0.05)
    assert decision.decision == "refused"
    assert decision.intervals["rouge_l"]["status"] == "worse" and decision.intervals["rouge_l"]["high"] < 0
    assert "clearly worse: ROUGE-L" in decision.summary()


def test_the_same_figures_and_seed_give_the_same_interval_and_another_seed_a_close_one():
    old, new = scores(20), shifted(scores(20), 0.01, 0.05)
    first = paired_interval(old, new, seed=7)
    assert paired_interval(old, new, seed=7) == first
    assert decide(metrics(old), metrics(new), seed=7).to_dict() == decide(metrics(old), metrics(new), seed=7).to_dict()
    other = paired_interval(old, new, seed=8)
    assert other["mean_diff"] == first["mean_diff"] and other["low"] != first["low"]
    assert abs(other["low"] - first["low"]) < 0.01


def test_no_pairs_or_a_single_pair_is_not_enough():
    decision = decide(metrics([]), metrics([]), 0.05, holdout_share=0.2)
    assert decision.decision == "not_enough" and decision.examples == 0
    assert decision.needed_examples == min_examples(0.95) == 6
    assert decision.more_copies == 30 and "no held-out pairs" in decision.summary()
    one = decide(metrics([0.1]), metrics([0.9]), 0.05, holdout_share=0.2)
    assert one.decision == "not_enough" and one.intervals["rouge_l"]["low"] is None
    assert one.needed_examples == 6 and one.more_copies == 25
    assert "(no interval), n=1" in format_interval(one.intervals["rouge_l"])
    # a few pairs that all improve are still too few for the sign test
    few = decide(metrics(scores(4)), metrics(shifted(scores(4), 0.3, 0.0)), 0.05)
    assert few.decision == "not_enough" and few.intervals["rouge_l"]["low"] > 0


def test_identical_outputs_are_no_better_unless_the_loss_fell():
    old = scores(20)
    same = decide(metrics(old), metrics(list(old)), 0.05)
    assert same.decision == "refused" and "no better" in same.summary()
    assert same.intervals["rouge_l"]["half_width"] == 0 and same.intervals["rouge_l"]["ties"] == 20
    lower_loss = decide(metrics(old), metrics(list(old), loss=1.5), 0.05)
    assert lower_loss.decision == "accepted" and "held-out loss 2 -> 1.5" in lower_loss.summary()
    # too few identical pairs to say "the same": not enough
    assert decide(metrics(old[:3]), metrics(old[:3]), 0.05).decision == "not_enough"


def test_hard_rules_refuse_even_a_clear_win():
    old = scores(32)
    better = shifted(old, 0.1, 0.03)
    assert decide(metrics(old), metrics(better, loss=2.2), 0.05).decision == "refused"
    assert decide(metrics(old), metrics(better, loss=2.05), 0.05).accepted  # within 5% relative
    worse_rate = decide(metrics(old), {**metrics(better), "forbidden_rate": 1 / 32}, 0.05)
    assert worse_rate.decision == "refused" and "forbidden-word rate got worse" in worse_rate.summary()
    assert decide(metrics(old), {**metrics(better), "empty_rate": 0.03}, 0.05).decision == "refused"
    assert decide(metrics(old), {**metrics(better), "compliance_rate": 0.97}, 0.05).decision == "refused"
    assert decide(metrics(old), metrics(better, loss=math.nan), 0.05).decision == "refused"
    # a figure the old model lacks is not compared
    assert decide(metrics(old, forbidden_rate=None), {**metrics(better), "forbidden_rate": 0.5}, 0.05).accepted


def test_the_margin_is_relative_to_the_old_mean_with_a_floor():
    old = [0.4] * 10
    interval = paired_interval(old, [0.39] * 10, margin=0.05)
    assert interval["allowed"] == pytest.approx(0.02) and interval["status"] == "same"
    assert paired_interval(old, [0.37] * 10, margin=0.05)["status"] == "worse"
    assert paired_interval([0.0] * 10, [0.0] * 10, margin=0.05)["allowed"] == 0.005


def test_a_small_loss_within_the_margin_with_a_gain_elsewhere_is_accepted():
    old = scores(40)
    rouge = shifted(old, 0.08, 0.02)
    bleu_old = [x / 3 for x in old]
    bleu_new = [x - 0.0005 for x in bleu_old]  # within 5% of the old mean, with certainty
    decision = decide(metrics(old, bleu_old), metrics(rouge, bleu_new), 0.05)
    assert decision.intervals["bleu"]["status"] == "same" and decision.accepted
    assert "not worse beyond the margin: BLEU" in decision.summary()


def test_sign_test_and_needed_count_helpers():
    assert sign_test(0, 0) == 1.0
    assert sign_test(6, 0) == pytest.approx(2 / 64)
    assert sign_test(5, 5) == 1.0
    assert min_examples(0.95) == 6 and min_examples(0.99) == 8
    # half-width twice the margin: four times the examples
    assert needed_for({"n": 20, "half_width": 0.02, "allowed": 0.01, "mean_diff": -0.02, "status": "unclear"}) == 80


def test_format_interval_uses_signed_figures():
    text = format_interval({"metric": "rouge_l", "n": 32, "mean_diff": 0.012, "low": -0.004, "high": 0.027,
                            "confidence": 0.95})
    assert text == "ROUGE-L +0.012 (95% CI \u22120.004\u2026+0.027), n=32"


def test_copy_metrics_keep_per_example_scores_in_order_for_the_paired_gate():
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.training.data import Example
    from adcopy_desktop.core.training.pipeline import copy_metrics

    product = parse_product("Type: shirt\nMaterial: cotton").to_dict()
    examples = [Example(key=f"k{i}", messages=[], completion=text, kind="description", language="en",
                        product=product)
                for i, text in enumerate(["A soft cotton shirt.", "A warm wool scarf.", "Light canvas shoes."])]
    outputs = ["A soft cotton shirt.", "A scarf.", ""]
    figures = copy_metrics(examples, outputs)
    rouge, bleu = figures["per_example"]["rouge_l"], figures["per_example"]["bleu"]
    assert len(rouge) == len(bleu) == 3
    assert rouge[0] == 1.0 and 0 < rouge[1] < 1 and rouge[2] == 0.0
    assert bleu[0] > bleu[1] >= bleu[2] == 0.0
    assert figures["rouge_l"] == pytest.approx(sum(rouge) / 3, abs=1e-4)
    assert figures["empty_rate"] == pytest.approx(1 / 3, abs=1e-4)
