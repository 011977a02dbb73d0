"""How long the window's event loop stalls while a model loads and generates.

    .venv/bin/python benchmarks/gui_responsiveness.py                 # the default model, 3 runs
    .venv/bin/python benchmarks/gui_responsiveness.py --models DIR --runs 5 --format markdown

A 5 ms timer ticks on the UI thread (``adcopy_desktop.gui.responsiveness.StallMeter``) while the
real window generates through the real worker: run 1 loads the model inside the measured generation,
later runs reuse it. The longest stall is the longest gap between ticks minus the 5 ms interval —
the longest time a click or a keystroke would have waited. Target: under 50 ms.

It uses its own temporary ADCOPY_HOME (library, settings) and reads models from ``--models``
(default: the test cache that ``bash scripts/test.sh`` builds, ``.adcopy-test-cache/models``, then
the user's models folder). Runs offscreen unless QT_QPA_PLATFORM says otherwise.
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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
