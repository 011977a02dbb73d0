"""adcopy train from the command line."""

import json

from click.testing import CliRunner

from adcopy_desktop.cli.app import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_shows_the_training_flags():
    output = run("train", "--help").output
    for flag in ("--data", "--style", "--method", "--epochs", "--learning-rate", "--batch-size", "--rank",
                 "--holdout", "--margin", "--format"):
        assert flag in output


def test_malformed_dataset_lines_are_reported_by_number(tiny_store, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"content": "类型#上衣", "summary": "好看"}\n{"content": 3}\nnope\n', encoding="utf-8")
    result = run("train", "--data", str(path))
    assert result.exit_code == 1
    assert "line 2" in result.output and "line 3" in result.output


def test_an_empty_library_says_what_to_do(tiny_store):
    result = run("train")
    assert result.exit_code == 1 and "Accept (and edit) more candidates" in result.output


def test_bad_settings_are_refused_before_anything_runs(tiny_store, tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_text('{"prompt": "Type: cap", "completion": "A cap."}\n', encoding="utf-8")
    result = run("train", "--data", str(path), "--holdout", "1.5")
    assert result.exit_code == 1 and "holdout_share" in result.output


def test_a_run_prints_the_outcome_as_json(tiny_store, tmp_path):
    path = tmp_path / "catalogue.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"Type: cap {i}", "completion": f"A light cap, number {i}."})
                              for i in range(12)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["train", "--data", str(path), "--method", "full", "--max-steps", "2",
                                      "--margin", "0.5", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["examples"] + outcome["held_out"] == 12 and outcome["held_out"] >= 1
    assert outcome["training"]["supervised"]["steps"] == 2
    assert set(outcome["old_metrics"]) >= {"heldout_loss", "rouge_l", "bleu", "compliance_rate"}
    assert outcome["gate"]["decision"] in ("accepted", "refused", "not_enough")
    assert outcome["decision"] == outcome["gate"]["decision"]
    assert outcome["gate"]["intervals"]["rouge_l"]["n"] == outcome["held_out"]
    assert (outcome["version"] is not None) == outcome["accepted"]


def test_text_output_shows_the_paired_intervals_and_what_not_enough_needs(tiny_store, tmp_path, monkeypatch):
    import random

    from adcopy_desktop.core.training import pipeline
    from adcopy_desktop.core.training.gate import decide

    rng = random.Random(0)
    old = [rng.uniform(0.05, 0.25) for _ in range(14)]
    per = lambda rouge: {"heldout_loss": 2.0, "rouge_l": sum(rouge) / 14, "empty_rate": 0.0,
                         "per_example": {"rouge_l": rouge, "bleu": rouge}}
    before, after = per(old), per([x + rng.gauss(0, 0.08) for x in old])
    decision = decide(before, after, 0.05, holdout_share=0.2, available=14, max_examples=32)

    def fake_training(config, **kwargs):
        return pipeline.TrainingOutcome(
            accepted=False, reason="not enough held-out copy to tell, the current model stays: " + decision.summary(),
            version=None, old_metrics=before, new_metrics=after, examples=56, held_out=14, pairs=0, seconds=3.0,
            parent="tiny-llama", gate={"decision": decision.decision, "intervals": decision.intervals},
            decision=decision.decision, needed_examples=decision.needed_examples, more_copies=decision.more_copies)

    monkeypatch.setattr(pipeline, "run_training", fake_training)
    path = tmp_path / "catalogue.jsonl"
    path.write_text('{"prompt": "Type: cap", "completion": "A cap."}\n', encoding="utf-8")
    result = run("train", "--data", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("NOT ENOUGH HELD-OUT COPY: not enough held-out copy to tell")
    assert "(95% CI " in result.stdout and "n=14" in result.stdout
    assert f"about {decision.more_copies} more accepted copies" in result.stdout
