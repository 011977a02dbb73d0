"""adcopy diagnostics: the bundle's parts, and a planted secret found 0 times in any of its files.

The token is planted where secrets turn up in real life: log lines (a URL's query, an
Authorization header, a bare token a library printed), the settings file (a shop URL with
credentials, a secret-named field), an environment variable, the outbox (a shop URL and a shop's
error message) and the keyring (a shop's access key, echoed in an old log line)."""

from __future__ import annotations

import json
import logging
import secrets as random_secrets
import zipfile

import keyring
import pytest
from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.logs import log_file
from adcopy_desktop.core.outbox import Outbox
from adcopy_desktop.core.secrets import SERVICE, credential_name
from adcopy_desktop.paths import user_folders
from tests.keyrings import MemoryKeyring

# opaque, with no token shape: only the bundle's knowledge of where secrets live can catch it
TOKEN = "pl4nted" + random_secrets.token_hex(16)
KEYRING_TOKEN = "k3yring" + random_secrets.token_hex(16)
SHOP = "https://shop.example.com"


@pytest.fixture
def planted(monkeypatch, tmp_path):
    folders = user_folders().ensure()
    monkeypatch.setenv("ADCOPY_SHOP_TOKEN", TOKEN)
    memory = MemoryKeyring()
    memory.set_password(SERVICE, credential_name("shopify", SHOP, "token"), KEYRING_TOKEN)
    previous = keyring.get_keyring()
    keyring.set_keyring(memory)
    folders.settings_file.write_text(json.dumps({
        "execution_provider": "cpu",
        "shops": [{"target": "shopify", "shop_url": SHOP, "api_version": "2024-10"},
                  {"target": "woocommerce", "shop_url": f"https://admin:{TOKEN}@shop.example.com/wp",
                   "api_version": "wc/v3"}],
        "training": {"api_key": TOKEN, "epochs": 3},
    }), encoding="utf-8")
    with Library() as library:
        outbox = Outbox(library)
        job = outbox.create_job("woocommerce", f"https://admin:{TOKEN}@shop.example.com/wp",
                                [(None, "sku-1", {"name": "Mug"})])
        item = outbox.items(job)[0]
        outbox.record_error([item.id], f"HTTP 401 for ?consumer_secret={TOKEN}: bad key {TOKEN}")
    from adcopy_desktop.cli.common import configure_logging

    configure_logging(0)
    log = logging.getLogger("adcopy.test")
    log.warning("GET %s/admin/api/graphql.json?access_token=%s failed", SHOP, TOKEN)
    log.error("request headers: {'Authorization': 'Bearer %s'}", TOKEN)
    log.info("a library printed the bare token %s", TOKEN)
    try:
        raise RuntimeError(f"shop said: invalid token {TOKEN}")
    except RuntimeError:
        log.exception("export failed")
    for handler in logging.getLogger("adcopy").handlers:
        handler.flush()
    with open(log_file(), "a", encoding="utf-8") as handle:  # an old line, written before redaction
        handle.write(f"2024-01-01 10:00:00,000 WARNING adcopy.shops: echoed {KEYRING_TOKEN} and {TOKEN}\n")
    yield tmp_path
    keyring.set_keyring(previous)


def bundle_files(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def test_planted_token_is_found_zero_times_in_the_bundle(planted):
    out = planted / "support.zip"
    result = CliRunner().invoke(cli, ["diagnostics", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Diagnostics written to" in result.output
    files = bundle_files(out)
    assert {"README.txt", "system.json", "plugins.json", "models.json", "settings.json", "library.json",
            "errors.txt", "logs/adcopy.log"} <= set(files)
    for name, text in files.items():
        assert text.count(TOKEN) == 0, f"the planted token is in {name}"
        assert text.count(KEYRING_TOKEN) == 0, f"the keyring token is in {name}"
        assert text.count(TOKEN[7:]) == 0, f"part of the planted token is in {name}"
    # the bundle still says what support needs
    system = json.loads(files["system.json"])
    assert system["versions"]["onnxruntime"] and system["versions"]["python"]
    assert "torch" in system["versions"]  # from its metadata: the app never imports torch
    assert system["execution_provider"]["preference"] == "cpu"
    assert system["execution_provider"]["chosen"] == ["CPUExecutionProvider"]
    assert system["environment"]["ADCOPY_SHOP_TOKEN"] == "[redacted]"
    settings = json.loads(files["settings.json"])["settings"]
    assert settings["shops"][0]["shop_url"] == SHOP
    assert settings["shops"][1]["shop_url"] == "https://[redacted]@shop.example.com/wp"
    assert settings["training"] == {"api_key": "[redacted]", "epochs": 3}
    plugins = json.loads(files["plugins.json"])
    assert any(p["name"] == "adcopy.onnx-backend" and p["status"] == "active" for p in plugins["plugins"])
    library = json.loads(files["library.json"])
    assert library["export_items_by_status"] == [["pending", 1]]
    assert "shop.example.com" in files["library.json"]
    errors = files["errors.txt"]
    assert "failed" in errors and "export failed" in errors and "RuntimeError" in errors
    assert "a library printed the bare token" not in errors  # INFO is not an error
    assert "a library printed the bare token [redacted]" in files["logs/adcopy.log"]


def test_model_manifests_without_weights(tiny_store, planted):
    out = planted / "support.zip"
    CliRunner().invoke(cli, ["diagnostics", "--out", str(out)], catch_exceptions=False)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        models = json.loads(archive.read("models.json"))
    assert not [name for name in names if name.endswith((".onnx", ".safetensors", ".npz", ".gguf"))]
    (model_id, manifest), = models["models"].items()
    assert manifest["id"] == model_id and "onnx/model.onnx" in manifest["files"]
    assert models["pointer"]["model"] == model_id
    assert len(names) < 20  # a handful of text files


def test_json_output_and_unwritable_folder(planted):
    out = planted / "d.zip"
    result = CliRunner().invoke(cli, ["diagnostics", "--out", str(out), "--format", "json"], catch_exceptions=False)
    report = json.loads(result.output)
    assert report["path"] == str(out) and "errors.txt" in report["files"] and report["bytes"] > 0
    blocked = planted / "file"
    blocked.write_text("not a folder")
    result = CliRunner().invoke(cli, ["diagnostics", "--out", str(blocked / "d.zip")])
    assert result.exit_code == 1
    assert "could not be written" in result.output and "choose a folder" in result.output
