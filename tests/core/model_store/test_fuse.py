"""The fused decoder graph (core/model_store/fuse.py): what it holds, the build's check, refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adcopy_desktop.core.model_store import ModelStore, fuse, quantize
from adcopy_desktop.core.runtime.lora import graph_module
from tests.model_factory import build_tiny_model


def load_graph(path: Path):
    import onnx

    return onnx.load(str(path)).graph


def modules(graph) -> set[str]:
    return {module for node in graph.node if node.op_type == "MatMulNBits" and (module := graph_module(node.name))}


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Qwen2 has q/k/v biases, which the fused graph must keep."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen") / "tiny-qwen", architecture="qwen2", seed=3)


def run_builder(source: Path, out: Path, *options: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.model_store.builder", "--kind", "hf", "--source", str(source),
         "--out", str(out), "--id", "tiny", "--name", "tiny", "--precision", "int8", *options],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines() if '"done"' in line][-1]["metadata"]


@pytest.fixture(scope="module")
def exported(tiny_qwen: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen2 as the builder exports and quantises it, not fused (``--graph export``: the
    reference benchmarks compare the fused graph against)."""
    out = tmp_path_factory.mktemp("export-build")
    assert run_builder(tiny_qwen, out, "--graph", "export")["graph"] == "export"
    return out / "onnx"


def test_a_built_model_runs_the_fused_graph_and_its_manifest_says_how_close_it_is(tiny_qwen, tmp_path):
    info = ModelStore(tmp_path / "models").import_model(tiny_qwen, name="tiny-qwen")
    manifest = json.loads((info.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["graph"] == fuse.FUSED_FORMAT
    check = manifest["export_check"]
    assert check["fused_next_token_agreement"] >= fuse.MIN_TOP1 and check["fused_check_positions"] > 0
    assert check["graph_nodes"] < check["export_nodes"] / 3
    assert fuse.is_fused(info.runtime_folder / "model.onnx")
    assert not list(info.runtime_folder.glob("model.fused.onnx*"))
    # the weights sit in an external file the runtime maps; the manifest checks it like any file
    data = info.runtime_folder / "model.onnx.data"
    assert data.stat().st_size > 20 * (info.runtime_folder / "model.onnx").stat().st_size
    assert manifest["files"]["onnx/model.onnx.data"]["size"] == data.stat().st_size
    assert quantize.external_data_files(info.runtime_folder / "model.onnx") == {"model.onnx.data"}


def test_the_fused_graph_has_one_attention_kernel_per_layer_and_the_exports_weights(exported, tmp_path):
    config = json.loads((exported / "config.json").read_text(encoding="utf-8"))
    assert not fuse.is_fused(exported / "model.onnx")
    described = fuse.fuse_graph(exported / "model.onnx", config, tmp_path / "fused.onnx")
    source, fused = load_graph(exported / "model.onnx"), load_graph(tmp_path / "fused.onnx")
    ops = [node.op_type for node in fused.node]
    assert ops.count("GroupQueryAttention") == config["num_hidden_layers"] == described["layers"]
    assert "Concat" not in ops and "Softmax" not in ops
    # The same quantised matmuls under the same names: adapters find every module they adapt.
    assert modules(fused) == modules(source) and len(modules(fused)) == 7 * config["num_hidden_layers"] + 1
    weights = {item.name: item for item in source.initializer}
    for node in fused.node:
        if node.op_type == "MatMulNBits":
            assert node.input[1] in weights
    assert sum(node.op_type == "Add" and node.name.endswith("_proj/Add") for node in fused.node) == 3 * config[
        "num_hidden_layers"]  # the q/k/v biases


def test_fused_logits_match_the_export_at_every_position(exported, tmp_path):
    config = json.loads((exported / "config.json").read_text(encoding="utf-8"))
    fuse.fuse_graph(exported / "model.onnx", config, tmp_path / "fused.onnx")
    ids = list(range(5, 45))
    reference = quantize.sequence_logits(exported / "model.onnx", ids)
    fused = quantize.sequence_logits(tmp_path / "fused.onnx", ids)
    assert fused.shape == reference.shape
    assert (fused.argmax(-1) == reference.argmax(-1)).mean() >= 0.95
    assert np.abs(fused - reference).max() < 0.05


@pytest.mark.parametrize("change, reason", [
    ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, "rope scaling"),
    ({"model_type": "gpt2"}, "model type"),
    ({"hidden_act": "gelu"}, "activation"),
    ({"use_sliding_window": True}, "sliding-window"),
    ({"hidden_size": 24, "num_attention_heads": 4}, "head size 6"),
])
def test_architectures_the_rewrite_does_not_know_are_refused_by_name(exported, change, reason):
    config = {**json.loads((exported / "config.json").read_text(encoding="utf-8")), **change}
    with pytest.raises(fuse.FuseUnsupported, match=reason):
        fuse.read_shape(config)


def test_an_unknown_architecture_keeps_the_export_and_says_why(exported, tmp_path):
    folder = tmp_path / "onnx"
    shutil.copytree(exported, folder)
    before = (folder / "model.onnx").read_bytes()
    config = {**json.loads((folder / "config.json").read_text(encoding="utf-8")), "model_type": "phi3"}
    result = fuse.fuse_model(folder, None, config)
    assert result["graph"] == "export" and "phi3" in result["fuse_skipped"]
    assert (folder / "model.onnx").read_bytes() == before
    assert not (folder / "model.fused.onnx").exists() and not (folder / "model.onnx.data").exists()


def test_a_fused_graph_that_strays_from_the_export_is_not_kept(exported, tmp_path, monkeypatch, tiny_qwen):
    from transformers import AutoTokenizer

    folder = tmp_path / "onnx"
    shutil.copytree(exported, folder)
    before = (folder / "model.onnx").read_bytes()
    # A norm epsilon read wrong: the kind of slip the check is there to catch.
    from dataclasses import replace

    real = fuse.read_shape
    monkeypatch.setattr(fuse, "read_shape", lambda config: replace(real(config), eps=1.0))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    result = fuse.fuse_model(folder, AutoTokenizer.from_pretrained(str(tiny_qwen)), config)
    assert result["graph"] == "export" and "strayed" in result["fuse_skipped"]
    assert result["fused_next_token_agreement"] < fuse.MIN_TOP1 or result["fused_kl_median"] > fuse.MAX_KL_MEDIAN
    assert (folder / "model.onnx").read_bytes() == before
    assert not (folder / "model.fused.onnx").exists() and not (folder / "model.onnx.data").exists()
