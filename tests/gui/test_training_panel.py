"""The training page on a tiny real model: data per style, hyper-parameters saved in settings,
a real training run in the background (the trainer is a child process) while the window stays
responsive and the writer keeps generating on the current model, the gate's table, the swap,
rollback from the models page, cancel, and automatic mode."""

from __future__ import annotations

import json

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.gui.responsiveness import StallMeter
from adcopy_desktop.paths import user_folders

from .conftest import add_product, wait_for_job

TRAINING_TIMEOUT_MS = 600_000
COLORS = ("white", "navy", "black", "red", "green", "grey", "beige", "blue", "brown", "pink")


def accept_copy(library, count: int, *, style: str | None = None, start: int = 0, reject: bool = False) -> list[int]:
    """``count`` products, each with one accepted description (and a rejected one with ``reject``)."""
    accepted = []
    for i in range(start, start + count):
        color = COLORS[i % len(COLORS)]
        product_id = library.add_product(parse_product(f"Type: denim jacket\nColor: {color}\nSKU: {i}"))
        texts = [f"A {color} denim jacket for every day, soft and easy to wear."]
        if reject:
            texts.append("jacket jacket jacket")
        candidates = [Candidate(text=text, kind="description", model="tiny-llama", language="en", index=n,
                                style=style) for n, text in enumerate(texts)]
        ids = library.record_generation(product_id, candidates)
        library.decide(ids[0], "accepted")
        if reject:
            library.decide(ids[1], "rejected")
        accepted.append(ids[0])
    return accepted


def quick(page, **values) -> None:
    """Small, fast settings for a tiny model."""
    for name, value in {"epochs": 1, "batch_size": 2, "gate_margin": 0.5, "gate_max_examples": 2,
                        "gate_max_new_tokens": 8, "max_length": 64, **values}.items():
        page.set_value(name, value)


def accept_anyway(monkeypatch) -> None:
    """A tiny random-weight model cannot honestly win the gate on two held-out products. The tests
    that use this are about the background job, the table and the swap, so the gate's answer is
    forced to "accepted" after the real computation (tests/core/training/test_gate.py tests the
    gate's statistics)."""
    from adcopy_desktop.core.training import gate, pipeline

    def decide(old, new, margin, **options):
        decision = gate.decide(old, new, margin, **options)
        decision.decision = "accepted"
        decision.reasons = ["forced for this test (" + decision.summary() + ")"]
        return decision

    monkeypatch.setattr(pipeline, "decide", decide)


def outcome_for(decision, **fields):
    from adcopy_desktop.core.training.pipeline import TrainingOutcome

    old = {"heldout_loss": 2.0, "rouge_l": 0.13, "bleu": 0.04, "empty_rate": 0.0}
    gate = {"decision": decision.decision, "comparisons": decision.comparisons, "intervals": decision.intervals,
            "needed_examples": decision.needed_examples, "more_copies": decision.more_copies}
    values = dict(accepted=decision.accepted, reason=decision.summary(), version=None, old_metrics=old,
                  new_metrics={**old, "rouge_l": 0.142}, examples=56, held_out=14, pairs=0, seconds=12.0,
                  parent="tiny-llama", gate=gate, decision=decision.decision,
                  needed_examples=decision.needed_examples, more_copies=decision.more_copies)
    return TrainingOutcome(**{**values, **fields})


def test_the_gate_report_shows_each_interval_and_the_three_answers(qtbot, open_window):
    import random

    from adcopy_desktop.core.training.gate import decide

    window = open_window()
    page = window.training_page
    rng = random.Random(3)
    old = [rng.uniform(0.05, 0.25) for _ in range(14)]
    noisy = [x + rng.gauss(0, 0.08) for x in old]
    per = lambda rouge: {"heldout_loss": 2.0, "empty_rate": 0.0, "per_example": {"rouge_l": rouge, "bleu": rouge}}
    undecided = decide(per(old), per(noisy), 0.05, holdout_share=0.2, available=14, max_examples=32)
    assert undecided.decision == "not_enough"
    page.show_gate(outcome_for(undecided))
    text = page.decision_label.text()
    assert text.startswith("Not enough held-out copy to tell: tiny-llama stays active.")
    assert f"About {undecided.more_copies} more accepted copies" in text
    rouge = undecided.intervals["rouge_l"]
    shown = page.interval_text(rouge)
    assert shown.startswith("ROUGE-L ") and "(95% CI " in shown and "…" in shown and shown.endswith("n=14")
    assert shown in text
    rows = {page.gate_table.item(r, 0).text(): [page.gate_table.item(r, c).text() for c in range(5)]
            for r in range(page.gate_table.rowCount())}
    assert rows["rouge l"][3] == "can't tell yet" and rows["rouge l"][4] == shown
    assert rows["heldout loss"][3] == "yes" and rows["heldout loss"][4] == ""

    worse = decide(per(old), per([x - 0.1 for x in old]), 0.05)
    page.show_gate(outcome_for(worse))
    assert page.decision_label.text().startswith("Refused: tiny-llama stays active. clearly worse")
    better = decide(per(old), per([x + 0.1 for x in old]), 0.05)
    page.show_gate(outcome_for(better, parent="tiny-llama"))
    assert page.decision_label.text().startswith("Accepted: ? replaces tiny-llama.")


def test_data_per_style_and_hyper_parameters_saved_in_settings(qtbot, open_window):
    window = open_window()
    page = window.training_page
    accept_copy(window.context.library, 3, reject=True)
    accept_copy(window.context.library, 2, style="plain", start=3)
    window.context.candidates_changed.emit()
    rows = [[page.data_table.item(r, c).text() for c in range(3)] for r in range(page.data_table.rowCount())]
    assert rows == [["All copy", "5", "3"], ["plain", "2", "0"]]
    assert page.style_box.findData("plain") > 0 and page.style_box.currentData() is None
    assert {"learning_rate", "epochs", "batch_size", "lora_rank", "early_stopping_patience"} <= set(page._editors)
    assert "style" not in page._editors
    page.set_value("epochs", 1)
    page.set_value("learning_rate", 0.001)
    page.set_value("max_steps", 5)
    assert page.save_parameters()
    saved = json.loads(user_folders().settings_file.read_text())["training"]
    assert saved == {"epochs": 1, "learning_rate": 0.001, "max_steps": 5}
    assert window.context.settings.training == saved
    page.reset_parameters()
    assert page.current_config().epochs == 3
    page.build_form(page.saved_config())
    assert page.current_config().epochs == 1 and page.current_config().max_steps == 5
    page.style_box.setCurrentIndex(page.style_box.findData("plain"))
    assert page.current_config().style == "plain"
    page.set_value("holdout_share", 0.0)
    assert page.start_training() is None
    assert "holdout_share" in page.form_error.text() and not page.form_error.isHidden()
    assert not window.context.jobs.running("training")


def test_training_runs_in_the_background_then_the_gate_swaps_and_rollback_undoes_it(qtbot, open_window,
                                                                                   monkeypatch):
    accept_anyway(monkeypatch)
    window = open_window()
    window.show()
    qtbot.waitExposed(window)
    page = window.training_page
    accept_copy(window.context.library, 10, reject=True)
    add_product(qtbot, window, "Type: canvas bag\nColor: beige")
    qtbot.waitUntil(lambda: not window.context.jobs.running("preload"), timeout=60_000)
    window.context.candidates_changed.emit()
    quick(page)
    progress = []
    meter = StallMeter(interval_ms=5)
    meter.start()
    job = page.start_training()
    assert job is not None and job.kind == "training"
    job.signals.progress.connect(progress.append)
    assert not page.start_button.isEnabled() and page.cancel_button.isEnabled()
    assert page.start_training() is None  # one training at a time
    # the writer keeps generating on the current model while the trainer works
    qtbot.waitUntil(lambda: any(e.stage == "train" for e in progress), timeout=TRAINING_TIMEOUT_MS)
    generation = window.generate()
    assert generation is not None
    wait_for_job(qtbot, generation)
    assert generation.outcome == "succeeded"
    assert {c.model for c in generation.result.candidates} == {"tiny-llama"}
    wait_for_job(qtbot, job, timeout=TRAINING_TIMEOUT_MS)
    report = meter.stop()
    print(f"\nGUI responsiveness while training the tiny model (with one generation): {report.describe()}")
    assert job.outcome == "succeeded", window.message_bar.texts()
    stages = [event.stage for event in progress]
    for stage in ("data", "train", "merge", "export", "gate", "done"):
        assert stage in stages
    assert page.last_figures["step"] >= 1 and page.last_figures["total"] >= page.last_figures["step"]
    assert "Step " in page.figures_label.text() and "ETA" in page.figures_label.text()
    outcome = page.outcome
    metrics = [page.gate_table.item(r, 0).text() for r in range(page.gate_table.rowCount())]
    assert "heldout loss" in metrics
    assert outcome.accepted, outcome.reason
    assert outcome.gate["intervals"]["rouge_l"]["n"] == 2  # the real paired comparison ran
    assert "ROUGE-L " in page.decision_label.text() and ", n=2" in page.decision_label.text()
    version = outcome.version.id
    assert version == "tiny-llama-v1" and window.context.store.active_id() == version
    assert page.decision_label.text().startswith(f"Accepted: {version} replaces tiny-llama.")
    assert window.model_label.toolTip() == version
    models_page = window.models_page
    row = [m.id for m in models_page.models].index(version)
    assert models_page.table.item(row, 0).text() == "●"
    assert models_page.table.item(row, 7).text() == "v1 from tiny-llama"
    assert "heldout_loss" in models_page.table.item(row, 8).text()
    # the writer's next generation uses the new version, without a restart
    generation = window.generate()
    wait_for_job(qtbot, generation)
    assert {c.model for c in generation.result.candidates} == {version}
    models_page.select("tiny-llama")
    assert models_page.rollback_button.isEnabled()
    assert models_page.rollback_selected()
    assert window.context.store.active_id() == "tiny-llama"
    assert window.model_label.toolTip() == "tiny-llama"
    models_page.select(version)
    assert models_page.rollback_button.isEnabled() and models_page.rollback_selected()
    assert window.context.store.active_id() == version


def test_cancel_stops_training_and_installs_nothing(qtbot, open_window):
    window = open_window()
    page = window.training_page
    accept_copy(window.context.library, 8)
    quick(page, epochs=50)
    progress = []
    job = page.start_training()
    job.signals.progress.connect(progress.append)
    qtbot.waitUntil(lambda: any(e.stage == "train" and getattr(e, "step", 0) for e in progress),
                    timeout=TRAINING_TIMEOUT_MS)
    page.cancel()
    assert not page.cancel_button.isEnabled()
    wait_for_job(qtbot, job, timeout=TRAINING_TIMEOUT_MS)
    assert job.outcome == "cancelled"
    assert "Cancelled" in page.stage_label.text() and page.start_button.isEnabled()
    store = window.context.store
    assert [m.id for m in store.list_models()] == ["tiny-llama"] and store.active_id() == "tiny-llama"
    assert not list(store.root.glob(".build-*"))


def test_automatic_mode_starts_training_after_n_accepted_copies(qtbot, open_window):
    from dataclasses import replace

    window = open_window()
    page = window.training_page
    assert "off" in page.auto_label.text()
    window.context.save_settings(replace(window.context.settings, auto_training_after=8))
    assert "after 8 newly accepted copies (0 so far)" in page.auto_label.text()
    accept_copy(window.context.library, 7)
    window.context.candidates_changed.emit()
    assert not window.context.jobs.running("training")
    assert "(7 so far)" in page.auto_label.text()
    quick(page, epochs=50)
    accept_copy(window.context.library, 1, start=7)
    window.context.candidates_changed.emit()
    [job] = window.context.jobs.running("training")
    assert job.automatic and job.name == "Automatic training"
    window.context.candidates_changed.emit()  # a second decision does not start a second run
    assert len(window.context.jobs.running("training")) == 1
    page.cancel()
    wait_for_job(qtbot, job, timeout=TRAINING_TIMEOUT_MS)
    assert job.outcome == "cancelled"


def test_settings_dialog_edits_automatic_training_and_kept_versions(qtbot, open_window):
    window = open_window()
    dialog = window.open_settings()
    assert dialog.auto_training_spin.value() == 0 and dialog.auto_training_spin.text() == "Off"
    assert dialog.keep_versions_spin.value() == 3
    dialog.auto_training_spin.setValue(25)
    dialog.keep_versions_spin.setValue(5)
    settings = dialog.result_settings()
    assert (settings.auto_training_after, settings.keep_model_versions) == (25, 5)
    window.apply_settings(settings)
    saved = json.loads(user_folders().settings_file.read_text())
    assert (saved["auto_training_after"], saved["keep_model_versions"]) == (25, 5)
    dialog.close()


def test_a_model_switched_outside_the_window_is_shown(qtbot, open_window):
    import shutil

    window = open_window()
    store = window.context.store
    staging = store.new_version_staging("tiny-llama")
    shutil.copytree(store.get("tiny-llama").folder / "hf", staging / "hf")
    shutil.copytree(store.get("tiny-llama").folder / "onnx", staging / "onnx")
    store.commit_version(staging, parent_id="tiny-llama", metadata={})  # as `adcopy train` in a terminal would
    assert window.check_active_model()
    assert window.model_label.toolTip() == "tiny-llama-v1"
    assert "tiny-llama-v1" in [m.id for m in window.models_page.models]
    assert not window.check_active_model()  # nothing changed since
    store.rollback()  # `adcopy models rollback`
    qtbot.waitUntil(lambda: window.model_label.toolTip() == "tiny-llama", timeout=10_000)  # the 2 s poll
