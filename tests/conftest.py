"""Shared fixtures: isolated user folders, tiny real models, and the real default model.

Every test runs with ADCOPY_HOME in its own temporary folder, so nothing reads or writes the
developer's settings, models or plugins.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.model_factory import build_tiny_model

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "adcopy-home"
    monkeypatch.setenv("ADCOPY_HOME", str(home))
    monkeypatch.delenv("ADCOPY_SAFE_MODE", raising=False)
    monkeypatch.delenv("ADCOPY_PLUGINS", raising=False)
    return home


@pytest.fixture(autouse=True)
def isolated_plugins(isolated_home: Path, monkeypatch: pytest.MonkeyPatch):
    """Tests never load the plugins installed on this machine: ADCOPY_PLUGINS set but empty allows no
    third-party plugin (a test opts in by naming one), the plugin folder is inside ADCOPY_HOME, and
    the process-wide plugin manager is dropped around every test so nothing registered leaks."""
    from adcopy_desktop.core.plugins import reset_plugin_manager

    monkeypatch.setenv("ADCOPY_PLUGINS", "")
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture(scope="session")
def tiny_hf_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight Llama as a Hugging Face folder (safetensors + tokenizer)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-hf") / "tiny-llama")


@pytest.fixture(scope="session")
def tiny_models_root(tmp_path_factory: pytest.TempPathFactory, tiny_hf_model: Path) -> Path:
    """A models folder holding the tiny model, imported once through the real model store."""
    from adcopy_desktop.core.model_store import ModelStore

    root = tmp_path_factory.mktemp("tiny-store") / "models"
    ModelStore(root).import_model(tiny_hf_model, name="tiny-llama", languages=["en", "zh"], activate=True)
    return root


@pytest.fixture
def tiny_store(tiny_models_root: Path, isolated_home: Path):
    """This test's own ModelStore (in ADCOPY_HOME) with the tiny model installed and active."""
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.paths import user_folders

    models = user_folders().models
    models.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(tiny_models_root, models)
    return ModelStore(models)


@pytest.fixture(scope="session")
def default_models_root() -> Path:
    """The real default model, built once into the test cache and reused between runs."""
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.model_store.store import DEFAULT_PRECISION

    cache = Path(os.environ.get("ADCOPY_TEST_CACHE", Path(__file__).resolve().parent.parent / ".adcopy-test-cache"))
    root = cache / "models"
    store = ModelStore(root)
    info = store.ensure_default_model()
    built_at = json.loads((info.folder / "manifest.json").read_text(encoding="utf-8")).get("precision", "fp32")
    if built_at != DEFAULT_PRECISION:  # a cache from before the default precision changed
        store.ensure_catalog_model(None, precision=DEFAULT_PRECISION, force=True)
    return root


@pytest.fixture
def default_store(default_models_root: Path, isolated_home: Path):
    """A ModelStore in this test's ADCOPY_HOME whose models folder is the shared default-model cache."""
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.paths import user_folders

    models = user_folders().models
    models.parent.mkdir(parents=True, exist_ok=True)
    models.symlink_to(default_models_root, target_is_directory=True)
    return ModelStore(models)


@pytest.fixture(autouse=True)
def no_system_keyring():
    """No test reads or writes the machine's keyring: the fail backend unless a test sets another."""
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(keyring.backends.fail.Keyring())


@pytest.fixture
def memory_keyring():
    """An in-memory keyring backend (a real ``keyring`` backend class) for this test."""
    import keyring

    from tests.keyrings import MemoryKeyring

    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend
