"""The adcopy command, driven through click on tiny real models."""

import json

import pytest
from click.testing import CliRunner

from adcopy_desktop.cli.app import cli

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
        # the request's seed, or the fact guard's second draw of that candidate (seed + k steps)
        from adcopy_desktop.core.generation import REGENERATION_SEED_STEP
        assert (candidate["settings"]["seed"] - 7) % REGENERATION_SEED_STEP == 0
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


def _trained_version(store, parent_id, *, style=None, loss=1.5):
    import shutil

    staging = store.new_version_staging(parent_id)
    shutil.copytree(store.get(parent_id).folder / "hf", staging / "hf")
    shutil.copytree(store.get(parent_id).folder / "onnx", staging / "onnx")
    evaluation = {"old": {"heldout_loss": 2.0, "rouge_l": 0.1}, "new": {"heldout_loss": loss, "rouge_l": 0.25},
                  "margin": 0.02, "decision": "accepted", "reasons": []}
    return store.commit_version(staging, parent_id=parent_id, style=style,
                                metadata={"training": {"epochs": 1}, "evaluation": evaluation})


def test_models_list_shows_versions_with_parent_style_and_held_out_metrics(tiny_store):
    v1 = _trained_version(tiny_store, "tiny-llama")
    styled = _trained_version(tiny_store, v1.id, style="plain", loss=1.25)
    data = json.loads(run("models", "list", "--format", "json").stdout)
    by_id = {m["id"]: m for m in data}
    assert list(by_id) == ["tiny-llama", "tiny-llama-v1", "tiny-llama-v2"]
    assert by_id["tiny-llama"]["version"] is None and by_id["tiny-llama"]["parent"] is None
    assert by_id["tiny-llama-v1"]["active"] is True and by_id["tiny-llama-v1"]["version"] == 1
    assert by_id[styled.id]["parent"] == v1.id and by_id[styled.id]["style"] == "plain"
    assert by_id[styled.id]["active_styles"] == ["plain"] and by_id[styled.id]["active"] is False
    assert by_id[styled.id]["evaluation"]["new"]["heldout_loss"] == 1.25
    text = run("models", "list").stdout
    assert "* tiny-llama-v1" in text and "trained from tiny-llama" in text
    assert "version 2 of tiny-llama, parent tiny-llama-v1, style plain" in text
    assert "heldout_loss 1.25 (was 2)" in text and "gate accepted" in text
    assert "[active for style plain]" in text


def test_models_rollback_to_the_parent_a_named_version_and_per_style(tiny_store):
    v1 = _trained_version(tiny_store, "tiny-llama")
    v2 = _trained_version(tiny_store, v1.id)
    result = run("models", "rollback")
    assert result.exit_code == 0, result.output
    assert f"Active model: {v1.id} (was {v2.id})" in result.output
    assert tiny_store.active_id() == v1.id
    result = run("models", "rollback", v2.id, "--format", "json")
    assert json.loads(result.stdout) == {"previous": v1.id, "active": v2.id, "style": None}
    styled = _trained_version(tiny_store, v2.id, style="plain")
    result = run("models", "rollback", "--style", "plain")
    assert result.exit_code == 0 and "for style plain: tiny-llama-v2" in result.output
    assert tiny_store.active_id("plain") == v2.id and styled.id != v2.id
    assert "rollback" in run("models", "--help").output


def test_models_rollback_explains_what_cannot_be_done(tiny_store):
    result = run("models", "rollback")
    assert result.exit_code != 0 and "base model" in result.output and "adcopy models rollback VERSION" in result.output
    result = run("models", "rollback", "nope")
    assert result.exit_code != 0 and "no model 'nope'" in result.output
    assert tiny_store.active_id() == "tiny-llama"
