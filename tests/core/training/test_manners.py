"""Training shares the machine: resume after kill -9, pause while generating, low priority, sweeping."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from adcopy_desktop.core.activity import generating, someone_generating
from adcopy_desktop.core.training.config import TrainingConfig
from adcopy_desktop.core.training.manners import claim, low_priority, sweep_stale_work
from tests.core.training.test_trainer import child_data

TRAINER = [sys.executable, "-m", "adcopy_desktop.core.training.trainer"]


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def steps_of(events: list[dict]) -> list[int]:
    return [e["step"] for e in events if e["event"] == "progress" and e.get("stage") == "train" and "step" in e]


def run_child(base, data, out, *extra, env=None, timeout=600):
    out.mkdir(exist_ok=True)
    return subprocess.run([*TRAINER, "--base", str(base), "--data", str(data), "--out", str(out), *map(str, extra)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_a_run_killed_mid_training_resumes_from_its_checkpoint_and_ends_where_an_unbroken_one_does(
        tiny_store, tmp_path):
    base = tiny_store.active_model().folder
    data = child_data(tmp_path, method="lora", learning_rate=1e-2, epochs=4, batch_size=2, lora_rank=4,
                      early_stopping_patience=0, max_steps=12, train_precision="fp32")
    unbroken = run_child(base, data, tmp_path / "unbroken")
    assert unbroken.returncode == 0, unbroken.stderr[-2000:]
    expected = events_of(unbroken.stdout)[-1]["metadata"]

    checkpoints = tmp_path / "checkpoints"
    env = {**os.environ, "ADCOPY_CHECKPOINT_EVERY_S": "0"}  # a checkpoint after every step
    out = tmp_path / "killed"
    out.mkdir()
    child = subprocess.Popen([*TRAINER, "--base", str(base), "--data", str(data), "--out", str(out),
                              "--checkpoint-dir", str(checkpoints)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env)
    seen = []
    for line in child.stdout:
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("stage") == "train" and "step" in event:
                seen.append(event["step"])
                if event["step"] == 5:
                    child.send_signal(signal.SIGKILL)
                    break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL and (checkpoints / "checkpoint.pt").is_file()

    resumed = run_child(base, data, tmp_path / "resumed", "--checkpoint-dir", checkpoints, env=env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    events = events_of(resumed.stdout)
    assert any("Resuming from step" in e.get("message", "") for e in events)
    steps = steps_of(events)
    assert steps[0] >= 5 and steps[-1] == 12  # it went on, not from step 1
    metadata = events[-1]["metadata"]
    assert metadata["training"]["supervised"]["resumed_from_step"] >= 4
    assert metadata["heldout_loss_old"] == pytest.approx(expected["heldout_loss_old"])
    assert metadata["heldout_loss_new"] == pytest.approx(expected["heldout_loss_new"], rel=1e-4)


def test_training_waits_while_someone_generates(tiny_store, tmp_path):
    base = tiny_store.active_model().folder
    data = child_data(tmp_path, method="lora", learning_rate=1e-2, epochs=1, batch_size=4, lora_rank=4,
                      early_stopping_patience=0, train_precision="fp32")
    activity = tmp_path / "activity"
    activity.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # the "generating" process
    marker = activity / f"generating-{other.pid}"
    marker.write_text("now")
    out = tmp_path / "out"
    out.mkdir()
    child = subprocess.Popen([*TRAINER, "--base", str(base), "--data", str(data), "--out", str(out),
                              "--activity-dir", str(activity)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
    try:
        lines = []
        for line in child.stdout:
            lines.append(line)
            if "Paused while you generate" in line:
                break
        assert any("Paused while you generate" in line for line in lines)
        assert not steps_of(events_of("".join(lines)))  # no step ran during the generation
        time.sleep(1.0)
        assert child.poll() is None
        other.kill()
        other.wait()
        rest = child.stdout.read()
        assert child.wait(timeout=300) == 0
    finally:
        other.kill()
        child.kill()
    events = events_of(rest)
    assert steps_of(events) == [1, 2] and events[-1]["event"] == "done"
    assert not marker.exists()  # a dead process's marker is swept


def test_generation_markers_nest_and_vanish(tmp_path):
    folder = tmp_path / "activity"
    with generating(folder):
        with generating(folder):
            assert (folder / f"generating-{os.getpid()}").exists()
        assert (folder / f"generating-{os.getpid()}").exists()
    assert not list(folder.iterdir())
    assert not someone_generating(folder)


def test_children_start_at_low_priority():
    script = "import os; print(os.nice(0))" if sys.platform != "win32" else "print(10)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, **low_priority())
    assert int(result.stdout) >= os.nice(0) + 10 or int(result.stdout) == 19


def test_leftover_work_of_a_killed_run_is_swept_and_live_work_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed, live, unclaimed = tmp_path / "training-a", tmp_path / "training-b", tmp_path / "training-c"
    for folder in (killed, live, unclaimed):
        folder.mkdir()
    (killed / ".owner").write_text(str(dead.pid))
    claim(live)
    assert sweep_stale_work(tmp_path, prefix="training-") == [killed]
    assert live.exists() and unclaimed.exists() and not killed.exists()


def test_the_run_fingerprint_follows_data_settings_and_parent():
    from adcopy_desktop.core.training.data import Example, TrainingData
    from adcopy_desktop.core.training.pipeline import run_fingerprint

    example = Example(key="k", messages=[{"role": "user", "content": "x"}], completion="y", kind="description",
                      language="en")
    data = TrainingData(train=[example], heldout=[example])
    same = run_fingerprint(TrainingConfig(), data, "m") == run_fingerprint(TrainingConfig(), data, "m")
    assert same
    assert run_fingerprint(TrainingConfig(epochs=1), data, "m") != run_fingerprint(TrainingConfig(), data, "m")
    assert run_fingerprint(TrainingConfig(), data, "m-v1") != run_fingerprint(TrainingConfig(), data, "m")


def test_the_pipeline_resumes_after_the_whole_app_was_killed(tiny_store, tmp_path):
    """kill -9 of the app and its training child mid-run; the next run with the same copy resumes
    and the killed run's staging folder is gone."""
    lines = [json.dumps({"prompt": f"Type: item {i}\nColor: blue", "completion": f"Blue item {i}, soft and light."})
             for i in range(30)]
    dataset = tmp_path / "data.jsonl"
    dataset.write_text("\n".join(lines), encoding="utf-8")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from adcopy_desktop.core.model_store import ModelStore
        from adcopy_desktop.core.training.config import TrainingConfig
        from adcopy_desktop.core.training.pipeline import run_training
        config = TrainingConfig(epochs=30, batch_size=2, early_stopping_patience=0, max_steps=200,
                                train_precision="fp32", gate_max_examples=2, gate_max_new_tokens=8)
        run_training(config, store=ModelStore(Path({str(tiny_store.root)!r})), data_file=Path({str(dataset)!r}))
    """)
    env = {**os.environ, "ADCOPY_CHECKPOINT_EVERY_S": "0"}
    app = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from adcopy_desktop.core.training.pipeline import _work_root

    deadline = time.monotonic() + 300
    checkpoint = None
    while time.monotonic() < deadline and checkpoint is None:
        found = list((_work_root() / "checkpoints").glob("*/checkpoint.pt")) if (_work_root() / "checkpoints").is_dir() else []
        checkpoint = found[0] if found else None
        time.sleep(0.2)
    assert checkpoint is not None, "no checkpoint appeared"
    time.sleep(1.5)
    os.killpg(app.pid, signal.SIGKILL)  # the app and its training child, as a crash would
    app.wait()
    assert list(tiny_store.root.glob(".build-*"))  # the killed run's staging is still there

    from adcopy_desktop.core.training.pipeline import run_training

    config = TrainingConfig(epochs=30, batch_size=2, early_stopping_patience=0, max_steps=200, train_precision="fp32",
                            gate_max_examples=2, gate_max_new_tokens=8)
    messages = []
    outcome = run_training(config, store=tiny_store, data_file=dataset,
                           progress=lambda event: messages.append(event.message))
    assert any("Resuming from step" in message for message in messages)
    assert outcome.training["supervised"]["resumed_from_step"] > 0
    assert not [p for p in tiny_store.root.glob(".build-*") if "train" in p.name]
    assert not (checkpoint.parent).exists()  # finished: the checkpoint is gone
