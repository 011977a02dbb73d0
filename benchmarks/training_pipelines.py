"""Today's training pipeline beside the new one, in one run, on AdvertiseGen lines.

    .venv/bin/python benchmarks/training_pipelines.py --data ../shared/data/advertisegen_dev_101_1070.jsonl \
        --lines 200 --max-steps 12 --out result.json

Each pipeline trains the default model (LoRA, batch 4) on the same ``--lines`` lines in its own
temporary ADCOPY_HOME (the model folder is hard-linked from ``--models``, never written):

* ``today``: float32 weights, no gradient checkpointing, batches in random order and padded, LoRA
  dropout 0.05, the version merged and exported as a full ONNX copy (the settings before the
  laptop work);
* ``new``: the defaults (bfloat16 frozen weights where the CPU has them, gradient checkpointing,
  length-grouped batches packed into one sequence with their shared prompt start read once, no
  LoRA dropout, the version stored as a LoRA adapter over the shared base).

Both use today's chunked output layer and the prompt without the worked example (neither is a
setting), so the figures understate the difference to the pipeline as it was.

Printed side by side, with new/today ratios: wall time, training examples per second, peak RSS of
the whole process tree per phase (load, train, export, gate), disk of the version, held-out loss
before and after, and the gate's answer with its paired intervals.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MODEL_ID = "qwen2.5-coder-0.5b-instruct"
PHASES = ("data", "load", "train", "export", "gate")


def tree_rss_mb(process) -> float:
    import psutil

    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


class PhaseMemory:
    """Peak RSS of this process and its children, per phase of the run (from progress events)."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.phase = "data"
        self.peaks = {phase: 0.0 for phase in PHASES}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def record(self) -> None:
        phase = self.phase
        self.peaks[phase] = max(self.peaks[phase], tree_rss_mb(self.process))

    def sample(self) -> None:
        while not self.stop.is_set():
            self.record()
            time.sleep(0.1)

    def on_event(self, event) -> None:
        from adcopy_desktop.core.training.pipeline import TrainingProgress

        message = (event.message or "").lower()
        if isinstance(event, TrainingProgress):
            self.phase = "train"
        elif event.stage == "gate" or event.stage == "swap":
            self.phase = "gate"
        elif event.stage in ("merge", "export"):
            self.phase = "export"
        elif event.stage in ("train", "evaluate") and self.phase in ("data", "load"):
            self.phase = "load"  # loading weights and the held-out loss before training
        elif "loss of the new model" in message:
            self.phase = "train"
        # A phase shorter than the sampling period (a tiny model's two steps) still gets its figure.
        self.record()


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def write_lines(data: Path, count: int, out: Path) -> Path:
    rows = [line for line in data.read_text(encoding="utf-8").splitlines() if line.strip()][:count]
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def run_pipeline(name: str, overrides: dict, args, lines: Path) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    os.environ["ADCOPY_HOME"] = str(home)
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.training.config import TrainingConfig
    from adcopy_desktop.core.training.pipeline import run_training
    from adcopy_desktop.paths import user_folders

    models = user_folders().models
    models.mkdir(parents=True)
    source = args.models / args.model
    shutil.copytree(source, models / source.name, copy_function=os.link)
    store = ModelStore(models)
    store.set_active(source.name)
    config = TrainingConfig(max_steps=args.max_steps, gate_max_examples=args.gate_examples, **overrides)
    memory = PhaseMemory()
    staging_bytes: dict[str, int] = {}

    def progress(event) -> None:
        memory.on_event(event)
        if event.stage == "gate" and not staging_bytes:  # the version as it would be installed
            for staging in models.glob(".build-*-train-*"):
                staging_bytes["bytes"] = folder_bytes(staging)
        print(f"  [{name}] {event.message}", file=sys.stderr)

    memory.thread.start()
    started = time.monotonic()
    try:
        outcome = run_training(config, store=store, data_file=lines, progress=progress, threads=args.threads)
    finally:
        memory.stop.set()
        memory.thread.join()
        shutil.rmtree(home, ignore_errors=True)
    wall = time.monotonic() - started
    training = outcome.training
    supervised = training.get("supervised", {})
    examples = supervised.get("steps", 0) * config.batch_size
    return {
        "pipeline": name, "settings": overrides, "wall_s": round(wall, 1),
        "train_s": training.get("train_seconds"), "export_s": training.get("export_seconds"),
        "examples_trained": examples,
        "examples_per_s": round(examples / training["train_seconds"], 3) if training.get("train_seconds") else None,
        "precision": training.get("precision"), "peak_rss_mb": {k: round(v) for k, v in memory.peaks.items()},
        "trainer_peak_rss_mb": training.get("peak_rss_mb"), "version_bytes": staging_bytes.get("bytes"),
        "heldout_loss_old": outcome.old_metrics.get("heldout_loss"),
        "heldout_loss_new": outcome.new_metrics.get("heldout_loss"),
        "rouge_l_old": outcome.old_metrics.get("rouge_l"), "rouge_l_new": outcome.new_metrics.get("rouge_l"),
        "decision": outcome.gate.get("decision"), "reason": outcome.reason,
        "intervals": outcome.gate.get("intervals"), "examples": outcome.examples, "held_out": outcome.held_out,
    }


def ratio(new, old):
    return f"{new / old:.2f}x" if isinstance(new, (int, float)) and isinstance(old, (int, float)) and old else "-"


def print_table(today: dict, new: dict) -> None:
    rows = [("wall time, s", "wall_s"), ("training time, s", "train_s"), ("examples trained", "examples_trained"),
            ("examples / s", "examples_per_s"), ("version on disk, MB", "version_mb"),
            ("held-out loss before", "heldout_loss_old"), ("held-out loss after", "heldout_loss_new"),
            ("gate ROUGE-L old", "rouge_l_old"), ("gate ROUGE-L new", "rouge_l_new")]
    for result in (today, new):
        result["version_mb"] = round(result["version_bytes"] / 2**20, 1) if result.get("version_bytes") else None
    print(f"{'':28} {'today':>12} {'new':>12} {'new/today':>10}")
    for label, key in rows:
        print(f"{label:28} {str(today.get(key)):>12} {str(new.get(key)):>12} {ratio(new.get(key), today.get(key)):>10}")
    for phase in PHASES:
        old, now = today["peak_rss_mb"][phase], new["peak_rss_mb"][phase]
        print(f"{'peak RSS ' + phase + ', MB':28} {old:>12} {now:>12} {ratio(now, old):>10}")
    for result in (today, new):
        print(f"{result['pipeline']}: {result['reason']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="AdvertiseGen-style JSON lines")
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--max-steps", type=int, default=12, help="optimiser steps per pipeline (batch 4)")
    parser.add_argument("--gate-examples", type=int, default=16)
    parser.add_argument("--models", type=Path, default=REPO / ".adcopy-test-cache" / "models",
                        help="a models folder holding the default model (hard-linked, never written)")
    parser.add_argument("--model", default=MODEL_ID)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--only", choices=["today", "new"], help="run one pipeline")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not (args.models / args.model / "manifest.json").is_file():
        print(f"No model {args.model} in {args.models}; build it with: adcopy models build", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-lines-"))
    lines = write_lines(args.data, args.lines, work / "lines.jsonl")
    pipelines = {
        "today": {"train_precision": "fp32", "gradient_checkpointing": False, "group_by_length": False,
                  "version_format": "merged", "pack_batches": False, "lora_dropout": 0.05},
        "new": {},
    }
    results = {}
    for name, overrides in pipelines.items():
        if args.only and name != args.only:
            continue
        results[name] = run_pipeline(name, overrides, args, lines)
    shutil.rmtree(work, ignore_errors=True)
    if len(results) == 2:
        print_table(results["today"], results["new"])
    report = {"lines": args.lines, "max_steps": args.max_steps, "gate_examples": args.gate_examples,
              "cpu_count": os.cpu_count(), "results": results}
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
