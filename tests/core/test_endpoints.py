"""configure_endpoint, the one way the CLI and the Settings dialog add or change a server: options
kept or replaced, the key kept, replaced or deleted in the keyring, nothing saved on a refusal."""

from __future__ import annotations

import pytest

from adcopy_desktop.core.endpoints import Endpoint, EndpointError, configure_endpoint, find_endpoint
from adcopy_desktop.core.secrets import KeyringUnavailableError
from adcopy_desktop.core.settings import load_settings, save_settings
from adcopy_desktop.paths import user_folders

KEY_NAME = "openai-compatible|box|api_key"


def test_changes_keep_what_they_do_not_name_and_the_key(memory_keyring):
    saved, previous = configure_endpoint("box", "gpu-box:8000", api_key="sk-one", timeout_s=33.0, n_mode="parallel")
    assert previous is None and saved.base_url == "http://gpu-box:8000/v1" and saved.has_api_key
    changed, previous = configure_endpoint("box", "http://gpu-box:8001/v1", model="qwen", max_concurrent=5)
    assert previous == saved
    assert (changed.timeout_s, changed.n_mode, changed.model, changed.max_concurrent) == (33.0, "parallel", "qwen", 5)
    assert changed.has_api_key and memory_keyring.get_password("adcopy", KEY_NAME) == "sk-one"
    replaced, _ = configure_endpoint("box", changed.base_url, api_key="sk-two")
    assert replaced.has_api_key and memory_keyring.get_password("adcopy", KEY_NAME) == "sk-two"
    forgotten, _ = configure_endpoint("box", changed.base_url, forget_api_key=True)
    assert not forgotten.has_api_key and memory_keyring.get_password("adcopy", KEY_NAME) is None
    assert find_endpoint("box") == forgotten and find_endpoint("other") is None
    assert "sk-" not in user_folders().settings_file.read_text(encoding="utf-8")


def test_refusals_save_nothing(memory_keyring):
    with pytest.raises(EndpointError, match="max_concurrent"):
        configure_endpoint("box", "http://gpu:8000/v1", api_key="sk-one", max_concurrent=0)
    with pytest.raises(EndpointError, match="not a web address"):
        configure_endpoint("box", "ftp://gpu", api_key="sk-one")
    assert load_settings().backends == [] and memory_keyring.values == {}


def test_without_a_keyring_a_key_is_refused_and_nothing_saved():
    with pytest.raises(KeyringUnavailableError):
        configure_endpoint("box", "https://gpu:8000/v1", api_key="sk-one")
    assert load_settings().backends == []


def test_a_broken_entry_elsewhere_does_not_block_a_change():
    settings = load_settings()
    settings.backends = [{"name": "broken", "base_url": "http://x", "colour": "red"}]
    save_settings(settings)
    saved, _ = configure_endpoint("box", "http://gpu:8000/v1")
    assert [entry["name"] for entry in load_settings().backends] == ["broken", "box"] and find_endpoint("box") == saved


def test_only_plain_http_beyond_this_computer_sends_a_key_in_the_clear():
    assert Endpoint(name="a", base_url="http://10.0.0.2:8000/v1").key_crosses_network_unencrypted
    assert not Endpoint(name="a", base_url="https://10.0.0.2:8000/v1").key_crosses_network_unencrypted
    assert not Endpoint(name="a", base_url="http://127.0.0.1:8000/v1").key_crosses_network_unencrypted
