import json

from adcopy_desktop.core.settings import Settings, load_settings, save_settings
from adcopy_desktop.paths import user_folders


def test_defaults_when_no_file():
    assert load_settings() == Settings()


def test_round_trip_and_unknown_keys_ignored():
    save_settings(Settings(execution_provider="cpu", threads=2))
    path = user_folders().settings_file
    data = json.loads(path.read_text())
    data["from_a_newer_version"] = True
    path.write_text(json.dumps(data))
    assert load_settings() == Settings(execution_provider="cpu", threads=2)


def test_broken_or_invalid_settings_fall_back_to_defaults():
    path = user_folders().settings_file
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert load_settings() == Settings()
    path.write_text(json.dumps({"execution_provider": "quantum"}))
    assert load_settings().execution_provider == "auto"
