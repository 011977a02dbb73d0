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


def test_training_settings_default_off_and_bad_values_fall_back():
    settings = load_settings()
    assert (settings.auto_training_after, settings.keep_model_versions, settings.training) == (0, 3, {})
    save_settings(Settings(auto_training_after=20, keep_model_versions=5, training={"epochs": 2}))
    assert load_settings().auto_training_after == 20 and load_settings().training == {"epochs": 2}
    path = user_folders().settings_file
    path.write_text(json.dumps({"auto_training_after": -4, "keep_model_versions": "many", "training": [1]}))
    settings = load_settings()
    assert (settings.auto_training_after, settings.keep_model_versions, settings.training) == (0, 3, {})
