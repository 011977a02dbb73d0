import sys
from pathlib import Path

import pytest

from adcopy_desktop.core.plugins import PluginManager


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for throwaway plugin modules; their modules are forgotten afterwards."""
    folder = tmp_path / "modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(folder)):
            del sys.modules[name]


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    return tmp_path / "plugin-folder"


@pytest.fixture
def make_manager(plugins_dir: Path):
    """PluginManager factory: no installed entry points and a temporary plugin folder unless given;
    every manager is closed after the test."""
    made: list[PluginManager] = []

    def make(**options) -> PluginManager:
        options.setdefault("entry_points", [])
        options.setdefault("plugin_folder", plugins_dir)
        options.setdefault("disabled", [])
        options.setdefault("allow", "*")
        options.setdefault("safe_mode", False)
        manager = PluginManager(**options)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.close()
