"""Keep the plugin's tests away from the real user folders and the plugins installed on this machine."""

import pytest


@pytest.fixture(autouse=True)
def isolated_adcopy(tmp_path, monkeypatch):
    monkeypatch.setenv("ADCOPY_HOME", str(tmp_path / "adcopy-home"))
    monkeypatch.setenv("ADCOPY_PLUGINS", "")  # no third-party plugins unless a test opts in
    monkeypatch.delenv("ADCOPY_SAFE_MODE", raising=False)
    yield
    from adcopy_desktop.core.plugins import reset_plugin_manager

    reset_plugin_manager()
