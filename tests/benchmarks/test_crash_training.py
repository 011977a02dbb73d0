"""A few runs of benchmarks/crash_training.py: SIGKILL the training child, the app, and the app
inside a commit step; the active model must load and generate after each. The 50-run figure is in
docs/benchmarks.md ("Crash safety")."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")]

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "crash_training.py"


def load_script():
    spec = importlib.util.spec_from_file_location("crash_training", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def test_kills_during_training_and_inside_the_commit_never_break_the_active_model(isolated_home):
    crash = load_script()
    models = crash.prepare_home(isolated_home, keep_versions=2)
    data = crash.write_dataset(isolated_home / "train.jsonl")
    plans = [
        crash.Plan("stage", "train", "child", 0.5),
        crash.Plan("commit", "commit:renamed", "app"),
        crash.Plan("stage", "swap", "app", 0.0),
        crash.Plan("commit", "commit:activated", "app"),
    ]
    results = [crash.run_once(number, plan, models, data, number) for number, plan in enumerate(plans, 1)]
    for result in results:
        assert not result.broken, result
        assert result.leftovers_swept, result
    train_kill, renamed, swap_kill, activated = results
    assert train_kill.killed == "child" and train_kill.app_exit not in (0, None)  # the app reported the crash
    assert not train_kill.new_version_active
    assert renamed.killed == "self" and not renamed.new_version_active  # installed, not yet active
    assert activated.killed == "self" and activated.new_version_active
    assert swap_kill.killed in ("app", "none")
