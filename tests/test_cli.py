"""The adcopy command, driven through click on tiny real models."""

import json

import pytest
from click.testing import CliRunner

from adcopy_desktop.cli import cli

EN_PRODUCT = "Type: denim jacket\nColor: white\nMaterial: cotton denim"


def run(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_help_documents_every_command():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("generate", "models", "bench", "paths"):
        assert command in result.output
    models_help = run("models", "--help").output
    for command in ("list", "build", "import", "use", "verify", "remove"):
        assert command in models_help


def test_generate_json_lists_candidates(tiny_store):
    result = run("generate", "--product", "类型#上衣*材质#牛仔布", "--kind", "description", "-n", "3",
                 "--lang", "en", "--format", "json", "--seed", "7", "--max-new-tokens", "12")
    assert result.exit_code == 0, result.output
    candidates = json.loads(result.stdout)
    assert len(candidates) == 3
    for index, candidate in enumerate(candidates):
        assert {"text", "kind", "model"} <= set(candidate)
        assert candidate["kind"] == "description"
        assert candidate["model"] == "tiny-llama"
        assert candidate["language"] == "en"
        assert candidate["index"] == index
        assert candidate["settings"]["seed"] == 7
        assert 0 < candidate["timings"]["new_tokens"] <= 12
    again = json.loads(run("generate", "--product", "类型#上衣*材质#牛仔布", "--kind", "description", "-n", "3",
                           "--lang", "en", "--format", "json", "--seed", "7", "--max-new-tokens", "12").stdout)
    assert [c["text"] for c in again] == [c["text"] for c in candidates]


def test_generate_jsonl_streams_tokens_then_candidates(tiny_store):
    result = run("generate", "--product", EN_PRODUCT, "--kind", "title", "-n", "2", "--format", "jsonl",
                 "--seed", "1", "--max-new-tokens", "8")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    tokens = [e for e in events if e["event"] == "token"]
    finals = [e for e in events if e["event"] == "candidate"]
    assert tokens and len(finals) == 2
    assert events.index(finals[0]) > events.index(tokens[-1])


def test_text_output_names_model_and_provider(tiny_store):
    result = run("generate", "--product", EN_PRODUCT, "-n", "1", "--max-new-tokens", "5", "--provider", "cpu")
    assert result.exit_code == 0, result.output
    assert "--- candidate 1" in result.stdout
    assert "tiny-llama on CPUExecutionProvider" in result.stderr


def test_english_only_model_refuses_chinese_with_a_pointer_to_import(tiny_store):
    run("models", "list")
    tiny_store.import_model(tiny_store.active_model().folder / "hf", name="english", languages=["en"], activate=True)
    result = run("generate", "--product", "类型#上衣*材质#牛仔布", "--kind", "title")
    assert result.exit_code != 0
    assert "cannot write Chinese" in result.output
    assert "adcopy models import" in result.output


def test_malformed_product_points_at_the_segment(tiny_store):
    result = run("generate", "--product", "类型#上衣*材质牛仔布")
    assert result.exit_code != 0
    assert "材质牛仔布" in result.output and "2" in result.output


def test_bad_settings_are_explained(tiny_store):
    result = run("generate", "--product", EN_PRODUCT, "--top-p", "1.5")
    assert result.exit_code != 0
    assert "top_p" in result.output


def test_models_list_json_marks_the_active_model(tiny_store):
    result = run("models", "list", "--format", "json")
    [model] = json.loads(result.stdout)
    assert model["id"] == "tiny-llama" and model["active"] is True
    assert model["size_bytes"] > 0 and model["status"] == "ok"
    assert model["source"]["kind"] == "hf"
    text = run("models", "list").stdout
    assert "* tiny-llama" in text and "MB" in text


def test_models_import_refuses_pickle_weights(tmp_path):
    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (folder / "pytorch_model.bin").write_bytes(b"pickle")
    result = run("models", "import", str(folder))
    assert result.exit_code != 0
    assert "pickle" in result.output and "safetensors" in result.output


def test_models_verify_and_use(tiny_store):
    assert "all files match" in run("models", "verify").output
    onnx = tiny_store.active_model().runtime_folder / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-1])
    result = run("models", "verify")
    assert result.exit_code != 0 and "damaged" in result.output
    assert run("models", "use", "nope").exit_code != 0


def test_paths_follow_adcopy_home(isolated_home):
    result = run("paths")
    assert str(isolated_home / "data" / "models") in result.output


def test_plain_adcopy_without_display_prints_help(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    result = run()
    assert result.exit_code == 0
    assert "generate" in result.output
