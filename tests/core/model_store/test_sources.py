import json

import pytest

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.model_store.sources import inspect_source


def make_hf_folder(folder, model_type="llama", weights="model.safetensors", tokenizer=True):
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    (folder / weights).write_bytes(b"0")
    if tokenizer:
        (folder / "tokenizer.json").write_text("{}")
    return folder


def test_hf_folder_with_safetensors_is_accepted(tmp_path):
    source = inspect_source(make_hf_folder(tmp_path / "qwen", model_type="qwen2"))
    assert (source.kind, source.architecture, source.display_name) == ("hf", "qwen2", "qwen")


def test_pickle_only_weights_are_refused_with_an_explanation(tmp_path):
    folder = make_hf_folder(tmp_path / "old", weights="pytorch_model.bin")
    with pytest.raises(ModelError, match="pickle") as info:
        inspect_source(folder)
    assert "safetensors" in str(info.value)
    with pytest.raises(ModelError, match="pickle"):
        inspect_source(folder / "pytorch_model.bin")


def test_unsupported_architecture_is_named(tmp_path):
    with pytest.raises(ModelError, match="'gpt2' model") as info:
        inspect_source(make_hf_folder(tmp_path / "g", model_type="gpt2"))
    assert "qwen2" in str(info.value)  # lists what is supported


def test_missing_pieces_are_explained(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        inspect_source(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        inspect_source(tmp_path / "empty")
    with pytest.raises(ModelError, match="tokenizer.json"):
        inspect_source(make_hf_folder(tmp_path / "notok", tokenizer=False))
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelError, match="not a model AdCopy can import"):
        inspect_source(tmp_path / "notes.txt")


def test_broken_gguf_file_is_refused(tmp_path):
    pytest.importorskip("gguf")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 20)
    with pytest.raises(ModelError, match="not a readable GGUF"):
        inspect_source(broken)
