"""The evaluation gate's decision rule."""

import math

from adcopy_desktop.core.training.gate import decide

OLD = {"heldout_loss": 2.0, "rouge_l": 0.30, "bleu": 0.10, "compliance_rate": 1.0, "forbidden_rate": 0.0,
       "empty_rate": 0.0}


def test_better_model_is_accepted_and_says_what_improved():
    decision = decide(OLD, {**OLD, "heldout_loss": 1.5, "rouge_l": 0.45}, margin=0.02)
    assert decision.accepted and decision.decision == "accepted"
    assert "held-out loss" in decision.summary() and "ROUGE-L" in decision.summary()


def test_equal_or_slightly_worse_within_the_margin_is_accepted():
    assert decide(OLD, dict(OLD), 0.02).accepted
    assert decide(OLD, {**OLD, "heldout_loss": 2.03, "rouge_l": 0.29}, 0.02).accepted


def test_worse_beyond_the_margin_is_refused_with_the_reason():
    decision = decide(OLD, {**OLD, "heldout_loss": 2.1}, 0.02)
    assert not decision.accepted and "held-out loss got worse" in decision.summary()
    decision = decide(OLD, {**OLD, "rouge_l": 0.25, "forbidden_rate": 0.2}, 0.02)
    assert not decision.accepted
    assert any("ROUGE-L" in r for r in decision.reasons) and any("forbidden-word" in r for r in decision.reasons)
    assert not decide(OLD, {**OLD, "compliance_rate": 0.9}, 0.05).accepted


def test_a_wider_margin_lets_the_same_change_through():
    new = {**OLD, "rouge_l": 0.25}
    assert not decide(OLD, new, 0.02).accepted
    assert decide(OLD, new, 0.1).accepted


def test_missing_or_broken_new_metrics_refuse_and_missing_old_ones_are_skipped():
    assert not decide(OLD, {**OLD, "heldout_loss": math.nan}, 0.02).accepted
    assert not decide(OLD, {k: v for k, v in OLD.items() if k != "bleu"}, 0.02).accepted
    assert decide({**OLD, "forbidden_rate": None}, {**OLD, "forbidden_rate": 0.5}, 0.02).accepted
    assert not decide({}, OLD, 0.02).accepted
