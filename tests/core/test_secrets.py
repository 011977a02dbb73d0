"""Shop credentials live in the OS keyring only; without one the user gets a clear message."""

import logging

import keyring
import keyring.backends.fail
import pytest

from adcopy_desktop.core import secrets
from adcopy_desktop.core.secrets import KeyringUnavailableError, MissingCredentialsError


def test_credentials_round_trip_through_the_keyring(memory_keyring):
    secrets.store_credentials("shopify", "https://a.myshopify.com", {"token": "shpat_round_trip_1"})
    assert memory_keyring.values == {("adcopy", "shopify|https://a.myshopify.com|token"): "shpat_round_trip_1"}
    assert secrets.load_credentials("shopify", "https://a.myshopify.com", ("token",)) == {"token": "shpat_round_trip_1"}
    secrets.delete_credentials("shopify", "https://a.myshopify.com", ("token",))
    with pytest.raises(MissingCredentialsError, match="adcopy shops add shopify --shop-url https://a.myshopify.com"):
        secrets.load_credentials("shopify", "https://a.myshopify.com", ("token",))


def test_without_a_keyring_the_message_is_clear_and_nothing_is_written(isolated_home, tmp_path):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(KeyringUnavailableError) as raised:
        secrets.store_credentials("shopify", "https://a.myshopify.com", {"token": "shpat_never_written_2"})
    message = str(raised.value)
    assert "No system keyring is available" in message and "never keeps them in a plain file" in message
    assert "Secret Service" in message
    assert "shpat_never_written_2" not in message
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not secrets.keyring_available()
    with pytest.raises(KeyringUnavailableError):
        secrets.load_credentials("shopify", "https://a.myshopify.com", ("token",))


def test_plaintext_keyrings_are_refused(memory_keyring, monkeypatch):
    class PlaintextLike(type(memory_keyring)):
        pass

    PlaintextLike.__module__ = "keyrings.alt.file"
    keyring.set_keyring(PlaintextLike())
    with pytest.raises(KeyringUnavailableError, match="readable file"):
        secrets.store_credentials("shopify", "https://a.myshopify.com", {"token": "shpat_plain_3"})


def test_empty_values_are_refused_before_anything_is_stored(memory_keyring):
    with pytest.raises(MissingCredentialsError, match="consumer_secret must not be empty"):
        secrets.store_credentials("woocommerce", "https://w.example", {"consumer_key": "ck_1", "consumer_secret": ""})
    assert memory_keyring.values == {}


def test_remembered_secrets_are_redacted_from_logs_and_text(memory_keyring, caplog):
    secrets.store_credentials("shopify", "https://a.myshopify.com", {"token": "shpat_logged_4"})
    assert secrets.redact("echo shpat_logged_4!") == "echo [redacted]!"
    with caplog.at_level(logging.INFO, logger="adcopy.test"):
        logging.getLogger("adcopy.test").info("header was %s", "shpat_logged_4")
        try:
            raise RuntimeError("bad token shpat_logged_4")
        except RuntimeError:
            logging.getLogger("adcopy.test").exception("request failed")
    assert "shpat_logged_4" not in caplog.text
    assert "header was [redacted]" in caplog.text
