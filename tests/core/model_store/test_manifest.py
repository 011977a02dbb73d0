import os

import pytest

from adcopy_desktop.core.errors import CorruptModelError
from adcopy_desktop.core.model_store import manifest as manifest_module
from adcopy_desktop.core.model_store.manifest import (
    MANIFEST_NAME,
    read_manifest,
    verify_model_folder,
    write_json_atomically,
    write_manifest,
)


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "m"
    (folder / "onnx").mkdir(parents=True)
    (folder / "onnx" / "model.onnx").write_bytes(os.urandom(4096))
    (folder / "onnx" / "tokenizer.json").write_text("{}")
    (folder / "hf").mkdir()
    (folder / "hf" / "model.safetensors").write_bytes(b"w" * 100)
    write_manifest(folder, {"id": "m", "name": "M"})
    return folder


def test_manifest_lists_every_file_with_size_and_checksum(model_folder):
    manifest = read_manifest(model_folder)
    assert set(manifest["files"]) == {"onnx/model.onnx", "onnx/tokenizer.json", "hf/model.safetensors"}
    assert manifest["files"]["onnx/model.onnx"]["size"] == 4096
    assert len(manifest["files"]["onnx/model.onnx"]["sha256"]) == 64
    assert manifest["id"] == "m"


def test_truncated_file_is_detected(model_folder):
    path = model_folder / "onnx" / "model.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CorruptModelError, match=r"onnx/model.onnx has 1000 bytes, expected 4096"):
        verify_model_folder(model_folder)


def test_same_size_corruption_is_detected_by_checksum(model_folder):
    verify_model_folder(model_folder)  # records the verified stamp
    path = model_folder / "onnx" / "model.onnx"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="does not match its checksum"):
        verify_model_folder(model_folder)


def test_missing_file_and_missing_manifest(model_folder):
    (model_folder / "onnx" / "tokenizer.json").unlink()
    with pytest.raises(CorruptModelError, match="tokenizer.json is missing"):
        verify_model_folder(model_folder)
    (model_folder / MANIFEST_NAME).unlink()
    with pytest.raises(CorruptModelError, match="not completely built"):
        verify_model_folder(model_folder)


def test_unchanged_files_are_not_hashed_again(model_folder, monkeypatch):
    verify_model_folder(model_folder)
    calls = []
    real = manifest_module.sha256_of
    monkeypatch.setattr(manifest_module, "sha256_of", lambda p: calls.append(p) or real(p))
    verify_model_folder(model_folder)
    assert calls == []
    verify_model_folder(model_folder, force_hash=True)
    assert len(calls) == 3


def test_prefix_limits_the_check_to_runtime_files(model_folder):
    (model_folder / "hf" / "model.safetensors").write_bytes(b"x")
    verify_model_folder(model_folder, prefix="onnx/")
    with pytest.raises(CorruptModelError, match="hf/model.safetensors"):
        verify_model_folder(model_folder)


def test_atomic_json_write_replaces_whole_file(tmp_path):
    target = tmp_path / "active.json"
    write_json_atomically(target, {"model": "a"})
    write_json_atomically(target, {"model": "b"})
    assert target.read_text().count("model") == 1
    assert "b" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["active.json"]
