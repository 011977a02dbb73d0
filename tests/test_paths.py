from pathlib import Path

from adcopy_desktop.paths import resources_dir, user_folders


def test_adcopy_home_holds_every_folder(isolated_home):
    folders = user_folders().ensure()
    for folder in (folders.config, folders.data, folders.cache, folders.models, folders.logs):
        assert folder.is_dir()
        assert isolated_home in folder.parents
    assert folders.settings_file.parent == folders.config


def test_platform_folders_without_adcopy_home(monkeypatch):
    monkeypatch.delenv("ADCOPY_HOME")
    folders = user_folders()
    assert "adcopy" in str(folders.data).lower()
    assert folders.config != folders.data or folders.data != folders.cache


def test_resources_ship_prompt_templates():
    assert (resources_dir() / "prompts" / "title.toml").is_file()
    assert isinstance(resources_dir(), Path)
