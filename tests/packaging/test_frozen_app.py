"""The frozen app's behaviour, simulated in the test process (a real PyInstaller build takes
minutes: that one is test_real_build.py, opt-in): ``sys.frozen`` set, ``sys.executable`` a
stand-in for the bundle's ``adcopy`` executable that runs packaging/adcopy_main.py.

Covers: helper processes started as ``sys.executable -m MODULE`` (the plugin host) reach their
module through the frozen entry point; ``adcopy plugins install FILE.whl`` puts the wheel in the
plugin folder and its entry points are found and loaded in that set-up; the lite edition answers
training and model building with "install the full edition"; a prebuilt default model an
installer carries is copied on first start instead of built.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.core.plugins import reset_plugin_manager
from adcopy_desktop.paths import user_folders

from tests.core.plugins.helpers import build_wheel

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "packaging" / "adcopy_main.py"

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in executable is a shell script")


@pytest.fixture
def frozen_app(tmp_path, monkeypatch):
    """sys.frozen set and sys.executable a stand-in bundle executable (tmp/bundle/adcopy)."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    exe = bundle / "adcopy"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ENTRY}" "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # what the bundle's own archive gives a real one
    from adcopy_desktop.edition import training_needs_full_edition

    training_needs_full_edition.cache_clear()
    yield exe
    training_needs_full_edition.cache_clear()


@posix_only
def test_the_frozen_entry_point_runs_a_module_like_python_dash_m(tmp_path):
    result = subprocess.run([sys.executable, str(ENTRY), "-m", "json.tool"], input='{"b": [1]}',
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"b": [1]}


def test_the_frozen_entry_point_otherwise_is_the_adcopy_command():
    result = subprocess.run([sys.executable, str(ENTRY), "--version"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("adcopy, version")


@posix_only
def test_a_wheel_installed_in_the_frozen_app_loads_through_its_plugin_host(frozen_app, tmp_path, monkeypatch):
    wheel, package = build_wheel(tmp_path, "adcopy-style-frozen", "1.0")
    runner = CliRunner()
    result = runner.invoke(cli, ["plugins", "install", str(wheel), "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    folder = user_folders().plugins / "adcopy-style-frozen"
    assert folder.is_dir() and list(folder.glob("*.dist-info"))
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-frozen")
    reset_plugin_manager()
    result = runner.invoke(cli, ["plugins", "list", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    plugin = plugins["adcopy-style-frozen"]
    assert plugin["status"] == "active", plugin
    assert plugin["source"] == "plugin folder"
    assert plugin.get("runs_in") == "plugin host", plugin  # out of process: started as "adcopy -m ..."
    reset_plugin_manager()
    assert "wheelstyle" in runner.invoke(cli, ["styles", "list"]).stdout
    reset_plugin_manager()


def test_lite_training_says_install_the_full_edition(frozen_app, monkeypatch):
    from adcopy_desktop import edition
    from adcopy_desktop.core.errors import AdCopyError
    from adcopy_desktop.core.model_store.store import require_build_extras
    from adcopy_desktop.core.training import pipeline

    real_find_spec = edition.importlib.util.find_spec
    missing = {"torch", "transformers", "peft", "optimum", "optimum.exporters.onnx", "gguf"}

    def find_spec(name, *args):
        return None if name in missing or name.split(".")[0] in missing else real_find_spec(name, *args)

    monkeypatch.setattr("importlib.util.find_spec", find_spec)
    edition.training_needs_full_edition.cache_clear()
    assert edition.training_needs_full_edition()
    with pytest.raises(AdCopyError, match="needs the full edition of AdCopy Desktop"):
        pipeline.require_training_extras()
    with pytest.raises(AdCopyError, match="Building or importing a model needs the full edition"):
        require_build_extras()


def test_a_source_install_never_looks_for_torch_to_decide(monkeypatch):
    from adcopy_desktop import edition

    monkeypatch.delattr(sys, "frozen", raising=False)
    edition.training_needs_full_edition.cache_clear()
    monkeypatch.setattr(edition, "missing_modules", lambda *a: pytest.fail("looked for torch"))
    assert edition.edition() == edition.SOURCE
    assert not edition.training_needs_full_edition()
    edition.training_needs_full_edition.cache_clear()


def test_the_training_page_offers_the_full_edition(qtbot, tiny_store, frozen_app, monkeypatch):
    from adcopy_desktop import edition
    from adcopy_desktop.gui.training_panel import TrainingPage
    from adcopy_desktop.gui.context import AppContext

    monkeypatch.setattr(edition, "training_needs_full_edition", lambda: True)
    context = AppContext(store=tiny_store)
    panel = TrainingPage(context)
    qtbot.addWidget(panel)
    assert not panel.start_button.isEnabled()
    assert "full edition" in panel.stage_label.text()
    assert panel.start_training() is None
    context.close()


def test_the_frozen_app_looks_for_bundled_models_beside_itself(frozen_app, monkeypatch, tmp_path):
    from adcopy_desktop.paths import bundled_models_dirs

    monkeypatch.setenv("ADCOPY_BUNDLED_MODELS", str(tmp_path / "extra"))
    folders = bundled_models_dirs()
    assert folders[0] == tmp_path / "extra"
    assert frozen_app.parent.resolve() / "models" in folders
    if sys.platform.startswith("linux"):
        assert Path("/usr/share/adcopy/models") in folders


def test_first_start_copies_the_bundled_default_model_instead_of_building(tiny_models_root, isolated_home,
                                                                          monkeypatch, tmp_path):
    from adcopy_desktop.core.model_store import ModelStore, store as store_module

    bundled = tmp_path / "bundled-models"
    shutil.copytree(tiny_models_root / "tiny-llama", bundled / "tiny-llama")
    monkeypatch.setenv("ADCOPY_BUNDLED_MODELS", str(bundled))
    default = store_module.catalog_model(None)
    from dataclasses import replace

    monkeypatch.setattr(store_module, "catalog_model", lambda name=None: replace(default, id="tiny-llama"))
    monkeypatch.setattr(ModelStore, "build_catalog_model",
                        lambda *a, **k: pytest.fail("built instead of copying the installer's model"))
    store = ModelStore(user_folders().ensure().models)
    events = []
    info = store.ensure_default_model(progress=events.append)
    assert info.id == "tiny-llama" and store.active_id() == "tiny-llama"
    assert (store.root / "tiny-llama" / "manifest.json").is_file()
    assert any(e.stage == "copy" for e in events)
    assert not list(store.root.glob(".build-*"))


def test_the_first_start_dialog_says_it_installs_the_installers_copy(qapp, tiny_models_root, monkeypatch, tmp_path):
    from adcopy_desktop.core.model_store import catalog_model
    from adcopy_desktop.gui.app import FirstStart

    assert "Building the default model" in FirstStart().preparing()
    bundled = tmp_path / "bundled"
    shutil.copytree(tiny_models_root / "tiny-llama", bundled / catalog_model(None).id)
    monkeypatch.setenv("ADCOPY_BUNDLED_MODELS", str(bundled))
    assert "from this installer's copy" in FirstStart().preparing()
