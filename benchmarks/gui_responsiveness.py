"""How long the window's event loop stalls while a model loads and generates.

    .venv/bin/python benchmarks/gui_responsiveness.py                 # the default model, 3 runs
    .venv/bin/python benchmarks/gui_responsiveness.py --models DIR --runs 5 --format markdown
    .venv/bin/python benchmarks/gui_responsiveness.py --training --runs 3    # while a model trains

A 5 ms timer ticks on the UI thread (``adcopy_desktop.gui.responsiveness.StallMeter``) while the
real window generates through the real worker: run 1 loads the model inside the measured generation,
later runs reuse it. The longest stall is the longest gap between ticks minus the 5 ms interval —
the longest time a click or a keystroke would have waited. Target: under 50 ms.

It uses its own temporary ADCOPY_HOME (library, settings) and reads models from ``--models``
(default: the test cache that ``bash scripts/test.sh`` builds, ``.adcopy-test-cache/models``, then
the user's models folder). Runs offscreen unless QT_QPA_PLATFORM says otherwise.

``--training``: the same timer while the Training page fine-tunes a tiny random-weight model in the
background (built here; the trainer is a child process, the gate and the swap run in a worker
thread), alone and with the writer generating on the current model during the training steps
(runs alternate; the model is loaded before each run). The training itself needs the build extras
(torch, peft, optimum).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def default_models() -> Path | None:
    for candidate in (REPO / ".adcopy-test-cache" / "models", None):
        if candidate is None:
            from adcopy_desktop.paths import user_folders

            candidate = user_folders().models
        if (candidate / "active.json").is_file():
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, help="a models folder (default: the test cache, then yours)")
    parser.add_argument("--model", help="model id (default: the folder's active model)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-n", "--candidates", type=int, default=4)
    parser.add_argument("--kind", default="description")
    parser.add_argument("--length", default="medium")
    parser.add_argument("--product", default="Type: denim jacket\nColor: white\nMaterial: cotton denim\n"
                                              "Style: casual\nFeature: embroidered pockets")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument("--training", action="store_true",
                        help="measure while a tiny model trains in the background (see above)")
    args = parser.parse_args(argv)
    if args.training:
        return measure_training(args)

    models = args.models or default_models()
    if models is None:
        print("No models folder with an active model found; build one with: adcopy models build", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="adcopy-gui-bench-"))
    os.environ["ADCOPY_HOME"] = str(home)
    os.environ.setdefault("ADCOPY_PLUGINS", "")  # the machine's third-party plugins stay out of the figure

    from PySide6.QtWidgets import QApplication

    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.prompts import parse_copy_kind
    from adcopy_desktop.gui.main_window import MainWindow
    from adcopy_desktop.gui.responsiveness import StallMeter

    app = QApplication.instance() or QApplication(sys.argv[:1])
    store = ModelStore(models)
    library = Library(home / "library.sqlite3")
    window = MainWindow(store, library)
    window.resize(1280, 820)
    window.show()

    def pump(seconds: float, until=None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            app.processEvents()
            time.sleep(0.001)

    pump(0.5)
    pump(120, lambda: not window.context.jobs.running("preload"))
    window.new_product()
    window.writer.editor.paste_edit.setPlainText(args.product)
    window.writer.editor.apply_paste()
    panel = window.writer.panel
    panel.kind_box.setCurrentIndex(panel.kind_box.findData(parse_copy_kind(args.kind)))
    panel.length_box.setCurrentIndex(max(panel.length_box.findData(args.length), 0))
    panel.count_spin.setValue(args.candidates)
    if args.model:
        panel.model_box.setCurrentIndex(panel.model_box.findData(args.model))
    window.context.drop_generators()  # run 1 loads the model inside the measured generation
    results = []
    for run in range(1, args.runs + 1):
        meter = StallMeter(interval_ms=5)
        meter.start()
        pump(0.05)
        started = time.perf_counter()
        job = window.generate()
        if job is None:
            print("could not start:", window.message_bar.texts(), file=sys.stderr)
            return 1
        pump(600, lambda: job.delivered)
        elapsed = time.perf_counter() - started
        pump(0.05)
        report = meter.stop()
        if job.outcome != "succeeded":
            print(f"run {run} {job.outcome}: {job.error}", file=sys.stderr)
            return 1
        tokens = sum(c.timings.new_tokens for c in job.result.candidates)
        results.append({
            "run": run, "model_load": run == 1, "seconds": round(elapsed, 2), "new_tokens": tokens,
            "card_updates": window.writer.stream.flushes, "ticks": report.ticks,
            "longest_stall_ms": round(report.longest_stall_ms, 1), "p99_gap_ms": round(report.p99_gap_ms, 1),
            "median_gap_ms": round(report.median_gap_ms, 1),
        })
        window.writer.stream.flushes = 0
    info = window.context.generator(args.model).info
    summary = {
        "model": info.id, "provider": window.context.generator(args.model).provider,
        "candidates": args.candidates, "kind": args.kind, "length": args.length,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "qt_platform": app.platformName(), "runs": results,
        "longest_stall_ms": max(r["longest_stall_ms"] for r in results),
    }
    window.close()
    library.close()
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    elif args.format == "markdown":
        print(f"Model `{summary['model']}` on {summary['provider']}, {args.candidates} candidates "
              f"({args.kind}, {args.length}), Qt platform `{summary['qt_platform']}`, {summary['machine']}.\n")
        print("| run | model load | new tokens | seconds | card updates | longest stall | p99 gap | median gap |")
        print("|---|---|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['run']} | {'yes' if r['model_load'] else 'no'} | {r['new_tokens']} | {r['seconds']} | "
                  f"{r['card_updates']} | {r['longest_stall_ms']} ms | {r['p99_gap_ms']} ms | {r['median_gap_ms']} ms |")
    else:
        for r in results:
            print(f"run {r['run']}{' (model load)' if r['model_load'] else ''}: {r['new_tokens']} tokens in "
                  f"{r['seconds']} s, {r['card_updates']} card updates; longest stall {r['longest_stall_ms']} ms "
                  f"(p99 gap {r['p99_gap_ms']} ms)")
        print(f"longest event-loop stall: {summary['longest_stall_ms']} ms ({summary['model']}, target < 50 ms)")
    return 0


TRAINING_COLORS = ("white", "navy", "black", "red", "green", "grey", "beige", "blue", "brown", "pink")
TRAINING_SETTINGS = {"epochs": 2, "batch_size": 2, "gate_margin": 0.5, "gate_max_examples": 2,
                     "gate_max_new_tokens": 8, "max_length": 64}


def fill_library_for_training(library, count: int = 12) -> None:
    """Products with one accepted and one rejected description each (the user's decisions)."""
    from adcopy_desktop.core.candidates import Candidate
    from adcopy_desktop.core.product import parse_product

    for i in range(count):
        color = TRAINING_COLORS[i % len(TRAINING_COLORS)]
        product_id = library.add_product(parse_product(f"Type: denim jacket\nColor: {color}\nSKU: {i}"))
        texts = [f"A {color} denim jacket for every day, soft and easy to wear.", "jacket jacket jacket"]
        ids = library.record_generation(product_id, [
            Candidate(text=text, kind="description", model="tiny-llama", language="en", index=n)
            for n, text in enumerate(texts)])
        library.decide(ids[0], "accepted")
        library.decide(ids[1], "rejected")


def measure_training(args) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="adcopy-gui-train-bench-"))
    os.environ["ADCOPY_HOME"] = str(home)
    os.environ.setdefault("ADCOPY_PLUGINS", "")
    sys.path.insert(0, str(REPO))

    from PySide6.QtWidgets import QApplication

    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.gui.main_window import MainWindow
    from adcopy_desktop.gui.responsiveness import StallMeter
    from adcopy_desktop.paths import user_folders
    from tests.model_factory import build_tiny_model

    source = build_tiny_model(home / "source" / "tiny-llama")
    store = ModelStore(user_folders().ensure().models)
    store.import_model(source, name="tiny-llama", languages=["en", "zh"], activate=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    library = Library(home / "library.sqlite3")
    fill_library_for_training(library)
    window = MainWindow(store, library)
    window.resize(1280, 820)
    window.show()

    def pump(seconds: float, until=None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            app.processEvents()
            time.sleep(0.001)

    pump(0.5)
    pump(120, lambda: not window.context.jobs.running("preload"))
    window.new_product()
    window.writer.editor.paste_edit.setPlainText(args.product)
    window.writer.editor.apply_paste()
    window.writer.editor.save()
    window.writer.panel.count_spin.setValue(args.candidates)
    page = window.training_page
    window.context.candidates_changed.emit()
    results = []
    for run in range(1, args.runs + 1):
        with_generation = run % 2 == 0
        store.rollback("tiny-llama")  # every run trains the same base model
        window.check_active_model()
        window.context.preload_model()  # the switch's model load is not part of the figure
        pump(120, lambda: not window.context.jobs.running("preload"))
        for name, value in TRAINING_SETTINGS.items():
            page.set_value(name, value)
        stages: list[str] = []
        meter = StallMeter(interval_ms=5)
        meter.start()
        pump(0.05)
        started = time.perf_counter()
        job = page.start_training()
        if job is None:
            print("could not start training:", window.message_bar.texts(), file=sys.stderr)
            return 1
        job.signals.progress.connect(lambda event: stages.append(event.stage))
        generated = None
        if with_generation:
            pump(600, lambda: "train" in stages or job.delivered)
            generation = window.generate()
            pump(600, lambda: generation is None or generation.delivered)
            generated = generation is not None and generation.outcome == "succeeded"
        pump(900, lambda: job.delivered)
        elapsed = time.perf_counter() - started
        pump(0.05)
        report = meter.stop()
        if job.outcome != "succeeded":
            print(f"run {run} {job.outcome}: {job.error}", file=sys.stderr)
            return 1
        results.append({
            "run": run, "generation_during_training": with_generation, "generated": generated,
            "accepted": bool(page.outcome.accepted), "seconds": round(elapsed, 1), "ticks": report.ticks,
            "longest_stall_ms": round(report.longest_stall_ms, 1), "p99_gap_ms": round(report.p99_gap_ms, 1),
            "median_gap_ms": round(report.median_gap_ms, 1),
        })
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "qt_platform": app.platformName(), "training": TRAINING_SETTINGS, "runs": results,
        "longest_stall_ms": max(r["longest_stall_ms"] for r in results),
    }
    window.close()
    library.close()
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    elif args.format == "markdown":
        print(f"Tiny model training in the background, Qt platform `{summary['qt_platform']}`, {summary['machine']}.\n")
        print("| run | generation during training | seconds | longest stall | p99 gap | median gap |")
        print("|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['run']} | {'yes' if r['generation_during_training'] else 'no'} | {r['seconds']} | "
                  f"{r['longest_stall_ms']} ms | {r['p99_gap_ms']} ms | {r['median_gap_ms']} ms |")
    else:
        for r in results:
            extra = " with a generation" if r["generation_during_training"] else ""
            print(f"run {r['run']}: training{extra} {r['seconds']} s; longest stall {r['longest_stall_ms']} ms "
                  f"(p99 gap {r['p99_gap_ms']} ms, median {r['median_gap_ms']} ms)")
        print(f"longest event-loop stall while training: {summary['longest_stall_ms']} ms (target < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
