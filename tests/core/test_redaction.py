"""core/redaction.py: secrets in URLs, headers, key=value pairs and token shapes are masked; the
names of ordinary settings (max_new_tokens, PWD) are not mistaken for secrets."""

from __future__ import annotations

import json

import pytest

from adcopy_desktop.core.redaction import MASK, is_secret_name, redact_data, redact_text, secret_values

T = "s3cr3tValue0123456789"


@pytest.mark.parametrize("text", [
    f"https://admin:{T}@shop.example.com/wp-json",
    f"https://{T}@shop.example.com",
    f"GET https://x.myshopify.com/admin?access_token={T}&limit=5",
    f"https://shop.example.com/wp-json/wc/v3/products?consumer_key=ck_x&consumer_secret={T}",
    f"Authorization: Bearer {T}",
    f"Authorization: Basic {T}",
    f"{{'X-Shopify-Access-Token': '{T}'}}",
    f"password={T}",
    f'{{"api_key": "{T}"}}',
    f"token: {T}",
    "shpat_" + "0123456789abcdef" * 2,
    "cs_" + "a1b2c3d4e5" * 4,
])
def test_secrets_are_masked(text):
    cleaned = redact_text(text)
    assert T not in cleaned and "0123456789abcdef0123" not in cleaned and "a1b2c3d4e5a1b2" not in cleaned
    assert MASK in cleaned
    assert redact_text(cleaned) == cleaned  # applying it twice changes nothing


def test_ordinary_text_is_kept():
    text = "max_new_tokens=128 prompt_tokens: 5 https://shop.example.com/products?page=2 sha256: 0abc"
    assert redact_text(text) == text


def test_extra_values_are_masked_anywhere():
    assert redact_text(f"the shop echoed {T} back", extra=[T]) == f"the shop echoed {MASK} back"


def test_json_stays_valid_and_keys_are_masked():
    data = {"shops": [{"shop_url": f"https://u:{T}@h.example.com", "token": T}], "max_new_tokens": 5,
            "note": f"token={T}"}
    cleaned = redact_data(data)
    assert cleaned["shops"][0] == {"shop_url": f"https://{MASK}@h.example.com", "token": MASK}
    assert cleaned["max_new_tokens"] == 5
    text = redact_text(json.dumps(data))
    assert T not in text and json.loads(text)["note"] == f"token={MASK}"
    assert secret_values(data) == {T}


@pytest.mark.parametrize("name, secret", [
    ("access_token", True), ("SHOP_PASSWORD", True), ("consumerSecret", True), ("X-Api-Key", True),
    ("ADCOPY_SHOP_TOKEN", True), ("key", True), ("authorization", True),
    ("max_new_tokens", False), ("first_token_s", False), ("PWD", False), ("keep_model_versions", False),
    ("TOKENIZERS_PARALLELISM", False), ("api_version", False), ("shop_url", False),
])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret
