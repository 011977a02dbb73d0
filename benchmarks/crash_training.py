"""Crash safety of training and the model swap: SIGKILL the trainer and the app at random points.

    .venv/bin/python benchmarks/crash_training.py                     # 50 kills, a tiny model
    .venv/bin/python benchmarks/crash_training.py --runs 10 --seed 3 --format json

On a tiny random-weight model in its own temporary ADCOPY_HOME, each run starts ``adcopy train``
(the app process, which starts the training child) on a small dataset and kills it with SIGKILL:

* stage kills: the run waits for a progress line of a stage (train, merge, export, gate, swap),
  sleeps a random moment, then kills the training child, the app, or both;
* commit kills: ADCOPY_TEST_CRASH_AT makes the app kill itself right after one step of
  ``ModelStore.commit_version`` (files synced, manifest written, folder renamed, pointer's temporary
  file written, pointer replaced, during pruning, done).

After every kill it checks what the next start of the app would see: the pointer names a model
folder, the folder has its manifest, every file matches the manifest's checksums, the runtime
loads it and generates a candidate with it; then the sweep that the next training runs removes
the killed run's staging folder (one killed while it had no owner file, handed over from the
trainer to the commit, by the sweep's 60-second age rule, which the check fast-forwards). A run that fails any check counts as a broken active model.
Target: 0. Linux (it finds the child through /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

STAGES = ("train", "merge", "export", "gate", "swap")
# what `adcopy train` prints (progress messages on stderr) when a stage starts
STAGE_MARKERS = {
    "train": ("Training ",),
    "merge": ("Merging", "Saving the merged"),
    "export": ("Exporting the new model",),
    "gate": ("Comparing the old and new",),
    "swap": ("making it the active version",),
}
TARGETS = ("child", "app", "both")
RUN_TIMEOUT_S = 300
PRODUCTS = ("denim jacket", "cotton t-shirt", "hiking boots", "leather wallet", "wool scarf", "canvas bag")
COLORS = ("white", "navy", "black", "red", "green", "grey", "beige", "blue")


@dataclass
class Plan:
    kind: str  # "stage" or "commit"
    stage: str  # a stage, or a commit step
    target: str  # child | app | both (commit kills: the app kills itself)
    delay_s: float = 0.0


@dataclass
class RunResult:
    run: int
    plan: dict
    killed: str  # what was killed: child, app, both, self (commit step), none (finished first)
    app_exit: int | None
    active_before: str | None
    active_after: str | None
    new_version_active: bool
    broken: bool
    problem: str = ""
    leftovers_swept: bool = True
    swept_by_age: int = 0  # staging folders without an owner file, removed by the 60 s rule
    seconds: float = 0.0
    stages_seen: list[str] = field(default_factory=list)


def make_plans(runs: int, rng: random.Random) -> list[Plan]:
    from adcopy_desktop.core.model_store.store import COMMIT_STEPS

    plans = []
    commit_runs = max(1, round(runs * 0.4)) if runs >= 3 else (1 if runs >= 2 else 0)
    stage_runs = runs - commit_runs
    for index in range(stage_runs):
        stage = STAGES[index % len(STAGES)]
        # the child lives through train, merge and export; gate and swap run in the app
        target = TARGETS[(index // len(STAGES)) % len(TARGETS)] if stage in ("train", "merge", "export") else "app"
        delay = rng.uniform(0.0, 3.0) if stage in ("train", "gate") else rng.uniform(0.0, 0.4)
        plans.append(Plan("stage", stage, target, round(delay, 3)))
    steps = [step for step in COMMIT_STEPS]
    for index in range(commit_runs):
        plans.append(Plan("commit", steps[index % len(steps)], "app"))
    rng.shuffle(plans)
    return plans


def write_dataset(path: Path, lines: int = 40) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(lines):
            color, product = COLORS[i % len(COLORS)], PRODUCTS[i % len(PRODUCTS)]
            handle.write(json.dumps({
                "prompt": f"Type: {product}\nColor: {color}\nSKU: {i}",
                "completion": f"A {color} {product} made for everyday wear, soft and easy to care for.",
            }) + "\n")
    return path


def prepare_home(home: Path, keep_versions: int) -> Path:
    """A fresh ADCOPY_HOME with the tiny model installed and active; returns the models folder."""
    os.environ["ADCOPY_HOME"] = str(home)
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.settings import Settings, save_settings
    from adcopy_desktop.paths import user_folders
    from tests.model_factory import build_tiny_model

    folders = user_folders().ensure()
    save_settings(Settings(keep_model_versions=keep_versions))
    source = build_tiny_model(home / "source" / "tiny-llama")
    ModelStore(folders.models).import_model(source, name="tiny-llama", languages=["en", "zh"], activate=True)
    return folders.models


def children_of(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            found.extend(int(p) for p in text.split())
    except OSError:
        pass
    return found


def kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False


def check_active(models: Path) -> tuple[str | None, str]:
    """(active id, problem or ""): what the app would load at its next start."""
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.model_store.manifest import MANIFEST_NAME
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyKind, CopyRequest

    try:
        pointer = json.loads((models / "active.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"the pointer cannot be read: {exc}"
    store = ModelStore(models)
    active = store.active_id()
    if active is None or active != pointer.get("model"):
        return active, f"the pointer names no installed model: {pointer!r}"
    if not (models / active / MANIFEST_NAME).is_file():
        return active, f"{active} has no manifest (an incomplete version is active)"
    try:
        store.verified(active, full=True)
        request = CopyRequest(parse_product("Type: denim jacket\nColor: white"), CopyKind.TITLE, language="en")
        [candidate] = CopyGenerator(store).generate(
            request, GenerationSettings(n=1, max_new_tokens=8, temperature=0.0, seed=1), score=False)
    except Exception as exc:  # any failure here is a broken active model
        return active, f"{type(exc).__name__}: {exc}"
    if candidate.model != active or candidate.finish_reason not in ("stop", "length"):
        return active, f"generated with {candidate.model} ({candidate.finish_reason}), expected {active}"
    return active, ""


def run_once(number: int, plan: Plan, models: Path, data: Path, rng_seed: int) -> RunResult:
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.model_store.store import CRASH_AT_ENV

    store = ModelStore(models)
    before = store.active_id()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop(CRASH_AT_ENV, None)
    if plan.kind == "commit":
        env[CRASH_AT_ENV] = plan.stage
    command = [sys.executable, "-c", "from adcopy_desktop.cli import main; main()", "train", "--data", str(data), "--epochs", "3",
               # a learning rate the tiny random model learns the copy with, so the paired gate accepts
               "--learning-rate", "0.02", "--margin", "0.05", "--holdout", "0.2", "--format", "json"]
    started = time.monotonic()
    app = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           encoding="utf-8", start_new_session=True)
    seen: list[str] = []
    reached = threading.Event()
    want = plan.stage if plan.kind == "stage" else None

    def read_progress() -> None:
        for line in app.stderr:
            for stage, markers in STAGE_MARKERS.items():
                if any(marker in line for marker in markers) and stage not in seen:
                    seen.append(stage)
                    if stage == want:
                        reached.set()

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    killed = "none"
    if plan.kind == "stage":
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not reached.is_set() and app.poll() is None and time.monotonic() < deadline:
            reached.wait(0.05)
        if reached.is_set():
            time.sleep(plan.delay_s)
            child = [pid for pid in children_of(app.pid)]
            if plan.target in ("child", "both") and child:
                killed = "child" if plan.target == "child" else "both"
                for pid in child:
                    kill(pid)
            if plan.target in ("app", "both"):
                if kill(app.pid):
                    killed = "both" if killed == "both" else "app"
            if plan.target == "child" and not child:  # the child already finished: take the app
                killed = "app" if kill(app.pid) else "none"
    try:
        app.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill(app.pid)
        app.wait()
    if plan.kind == "commit" and app.returncode == -signal.SIGKILL:
        killed = "self"
    reader.join(timeout=5)
    active, problem = check_active(models)  # an orphaned child may still be running now
    try:
        os.killpg(app.pid, signal.SIGKILL)  # then clear the rest of the process group
    except (ProcessLookupError, PermissionError):
        pass
    time.sleep(0.2)
    store.remove_stale_staging()  # what the next training's staging does first
    # A folder killed while it had no owner file (handed from the trainer to the commit) is left to
    # the sweep's age rule (60 s); check that rule removes it, as a sweep a minute later would.
    aged = list(models.glob(".build-*"))
    for folder in aged:
        past = time.time() - 120
        os.utime(folder, (past, past))
    if aged:
        store.remove_stale_staging()
    leftovers = [p.name for p in models.glob(".build-*")]
    return RunResult(
        run=number, plan=asdict(plan), killed=killed, app_exit=app.returncode, active_before=before,
        active_after=active, new_version_active=active is not None and active != before, broken=bool(problem),
        problem=problem, leftovers_swept=not leftovers, swept_by_age=len(aged) - len(leftovers),
        seconds=round(time.monotonic() - started, 1),
        stages_seen=seen,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--keep-versions", type=int, default=3)
    parser.add_argument("--home", type=Path, help="ADCOPY_HOME to use (default: a new temporary folder)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument("--report", type=Path, help="also write the full results as JSON to this file")
    args = parser.parse_args(argv)

    home = args.home or Path(tempfile.mkdtemp(prefix="adcopy-crash-"))
    os.environ.setdefault("ADCOPY_PLUGINS", "")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    rng = random.Random(args.seed)
    models = prepare_home(home, args.keep_versions)
    data = write_dataset(home / "train.jsonl")
    plans = make_plans(args.runs, rng)
    results = []
    for number, plan in enumerate(plans, 1):
        result = run_once(number, plan, models, data, args.seed + number)
        results.append(result)
        if args.format == "text":
            where = plan.stage + (f" +{plan.delay_s:.2f}s" if plan.kind == "stage" else "")
            verdict = "BROKEN: " + result.problem if result.broken else "ok"
            print(f"run {number:2}: kill {result.killed:5} at {where:28} -> active {result.active_after} "
                  f"({'new' if result.new_version_active else 'unchanged'}), {verdict}", flush=True)
    broken = sum(r.broken for r in results)
    summary = {
        "runs": len(results), "broken_active_models": broken,
        "kills": {kind: sum(r.killed == kind for r in results) for kind in ("child", "app", "both", "self", "none")},
        "stage_kills": {stage: sum(1 for r in results if r.plan["kind"] == "stage" and r.plan["stage"] == stage
                                   and r.killed != "none") for stage in STAGES},
        "commit_kills": {r.plan["stage"]: 0 for r in results if r.plan["kind"] == "commit"},
        "new_version_active_after_kill": sum(r.new_version_active for r in results),
        "staging_left_after_sweep": sum(not r.leftovers_swept for r in results),
        "staging_swept_by_age": sum(r.swept_by_age for r in results),
        "seconds": round(sum(r.seconds for r in results), 1),
        "results": [asdict(r) for r in results],
    }
    for r in results:
        if r.plan["kind"] == "commit" and r.killed == "self":
            summary["commit_kills"][r.plan["stage"]] += 1
    if args.report is not None:
        args.report.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    elif args.format == "markdown":
        print("| runs | broken active models | kills: child / app / both / commit step / none | "
              "new version active after the kill | staging left after the sweep |")
        print("|---:|---:|---|---:|---:|")
        k = summary["kills"]
        print(f"| {summary['runs']} | **{broken}** | {k['child']} / {k['app']} / {k['both']} / {k['self']} / "
              f"{k['none']} | {summary['new_version_active_after_kill']} | {summary['staging_left_after_sweep']} |")
        print("\nStage kills: " + ", ".join(f"{s} {n}" for s, n in summary["stage_kills"].items())
              + "; commit-step kills: " + ", ".join(f"{s} {n}" for s, n in summary["commit_kills"].items()))
    else:
        print(f"{len(results)} kills, {broken} broken active models "
              f"({summary['new_version_active_after_kill']} ended on a new version); "
              f"kills {summary['kills']}; {summary['seconds']} s")
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
