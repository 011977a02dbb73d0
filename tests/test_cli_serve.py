"""adcopy serve token …, the bind rule, adcopy backends … and adcopy batch --backend against a
real adcopy serve process on 127.0.0.1."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner

from adcopy_desktop.cli import cli
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.paths import user_folders
from tests.serve_processes import server_home, start_server


def test_tokens_are_shown_once_stored_as_hashes_and_revoked_by_id():
    runner = CliRunner()
    created = runner.invoke(cli, ["serve", "token", "create", "--name", "laptop-anna"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("adc_") and len(token) > 40
    stored = (user_folders().data / "serve" / "tokens.json").read_text(encoding="utf-8")
    assert token not in stored and "laptop-anna" in stored
    listed = runner.invoke(cli, ["serve", "token", "list", "--format", "json"])
    entries = json.loads(listed.stdout)
    assert [e["name"] for e in entries] == ["laptop-anna"] and token not in listed.output
    twice = runner.invoke(cli, ["serve", "token", "create", "--name", "laptop-anna"])
    assert twice.exit_code == 1 and "already" in twice.output
    revoked = runner.invoke(cli, ["serve", "token", "revoke", entries[0]["id"]])
    assert revoked.exit_code == 0 and "laptop-anna" in revoked.output
    assert "no tokens" in runner.invoke(cli, ["serve", "token", "list"]).output


def test_serving_beyond_this_computer_without_a_token_is_refused_before_any_model_loads():
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 1
    assert "without an access token" in result.output and "adcopy serve token create" in result.output
    assert not list(user_folders().models.glob("*/manifest.json"))  # no model was built for nothing


def test_backends_cli_and_batch_on_a_served_model(tmp_path_factory, tiny_models_root, memory_keyring):
    home = server_home(tmp_path_factory.mktemp("cli-serve"), tiny_models_root)
    server = start_server(home, "--log-prompts")
    runner = CliRunner()
    try:
        added = runner.invoke(cli, ["backends", "add", "box", "--url", server.url, "--api-key-stdin"],
                              input="sk-test-key-123456\n")
        assert added.exit_code == 0, added.output
        assert "added backend box" in added.output and "ok  box" in added.output
        settings_text = user_folders().settings_file.read_text(encoding="utf-8")
        assert "sk-test-key-123456" not in settings_text and '"has_api_key": true' in settings_text
        assert memory_keyring.get_password("adcopy", "openai-compatible|box|api_key") == "sk-test-key-123456"
        listed = json.loads(runner.invoke(cli, ["backends", "list", "--format", "json"]).stdout)
        assert [(b["name"], b["base_url"]) for b in listed] == [("box", server.url)]
        assert runner.invoke(cli, ["backends", "test", "box"]).exit_code == 0

        with Library() as library:
            for text in ("Type: mug\nMaterial: ceramic", "Type: wool hat\nColor: grey"):
                library.add_product(parse_product(text))
        batch = runner.invoke(cli, ["batch", "--kind", "title", "-n", "2", "--lang", "en", "--backend", "box"])
        assert batch.exit_code == 0, batch.output
        assert "2/2 items done" in batch.output and "Writing 2 items at once" in batch.output
        copy = json.loads(runner.invoke(cli, ["copy", "list", "--format", "json"]).stdout)
        assert len(copy) == 4 and {c["model"] for c in copy} == {f"box/{server.model}"}
        assert "prompt=" in server.log() and "mug" in server.log()  # --log-prompts

        removed = runner.invoke(cli, ["backends", "remove", "box"])
        assert removed.exit_code == 0 and memory_keyring.get_password("adcopy", "openai-compatible|box|api_key") is None
        unknown = runner.invoke(cli, ["batch", "--kind", "title", "--backend", "openai-compatible:box"])
        assert unknown.exit_code == 1 and "adcopy backends add" in unknown.output
    finally:
        server.stop()


def test_request_logs_have_no_prompts_unless_asked(tmp_path_factory, tiny_models_root):
    server = start_server(server_home(tmp_path_factory.mktemp("quiet"), tiny_models_root))
    try:
        body = {"messages": [{"role": "user", "content": "secret launch plan for the teapot"}], "max_tokens": 4}
        answer = httpx.post(server.url + "/chat/completions", json=body, timeout=60).json()
        assert answer["object"] == "chat.completion" and answer["usage"]["completion_tokens"] == 4
        bad = httpx.post(server.url + "/chat/completions", json={"messages": [], "n": 99}, timeout=60)
        assert bad.status_code == 400 and "messages" in bad.json()["error"]["message"]
        other = httpx.post(server.url + "/chat/completions", json={**body, "model": "gpt-4"}, timeout=60)
        assert other.status_code == 404 and server.model in other.json()["error"]["message"]
        log = server.log()
        assert "POST /v1/chat/completions 200" in log and "teapot" not in log
    finally:
        server.stop()
