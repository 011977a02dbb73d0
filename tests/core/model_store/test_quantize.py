"""Weight quantisation (core/model_store/quantize.py) on the tiny real model: graphs, check, refusal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.model_store import quantize
from adcopy_desktop.core.model_store.store import DEFAULT_PRECISION, PRECISIONS


def nbits_nodes(model_path: Path):
    import onnx

    graph = onnx.load(str(model_path)).graph
    return graph, [node for node in graph.node if node.op_type == "MatMulNBits"]


def bits_of(node) -> int:
    return next(attribute.i for attribute in node.attribute if attribute.name == "bits")


@pytest.fixture(scope="module")
def float_model(tiny_hf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model built at fp32 (whatever the default precision is)."""
    store = ModelStore(tmp_path_factory.mktemp("float-store") / "models")
    return store.import_model(tiny_hf_model, precision="fp32").runtime_folder


@pytest.fixture
def float_folder(float_model: Path, tmp_path: Path) -> Path:
    """A writable copy of the float runtime folder."""
    folder = tmp_path / "onnx"
    shutil.copytree(float_model, folder)
    return folder


@pytest.fixture
def tiny_tokenizer(tiny_hf_model: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_hf_model))


def test_precisions_match_the_builder_schemes_and_the_cli_choices():
    from click.testing import CliRunner

    from adcopy_desktop.cli import cli

    assert set(PRECISIONS) == {"fp32", *quantize.SCHEMES}
    assert DEFAULT_PRECISION in PRECISIONS
    for command in (["models", "build", "--help"], ["models", "import", "--help"]):
        help_text = " ".join(CliRunner().invoke(cli, command).output.split())
        assert "[default: " + DEFAULT_PRECISION + "]" in help_text
        assert "[" + "|".join(PRECISIONS) + "]" in help_text
    builder_help = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.model_store.builder", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "{" + ",".join(PRECISIONS) + "}" in builder_help


def test_int8_build_quantises_every_matmul_to_8_bits_and_records_the_check(tiny_hf_model, tmp_path):
    store = ModelStore(tmp_path / "models")
    int8 = store.import_model(tiny_hf_model, precision="int8")
    exact = store.import_model(tiny_hf_model, name="exact", precision="fp32")
    manifest = json.loads((int8.folder / "manifest.json").read_text())
    assert manifest["precision"] == "int8"
    graph, nodes = nbits_nodes(int8.runtime_folder / "model.onnx")
    assert len(nodes) == 2 * 7 + 1  # q, k, v, o, gate, up, down per layer, and the tied lm_head
    assert {bits_of(node) for node in nodes} == {8}
    block_sizes = {attr.i for node in nodes for attr in node.attribute if attr.name == "block_size"}
    assert block_sizes == {quantize.SCHEMES["int8"].block_size} == {128}
    assert not any(node.op_type == "MatMul" and "lm_head" in node.name for node in graph.node)
    check = manifest["export_check"]
    assert check["int8_block_size"] == 128
    assert check["int8_next_token_agreement"] >= quantize.SCHEMES["int8"].min_top1
    assert check["int8_in_float_top5"] >= quantize.SCHEMES["int8"].min_top_k
    assert check["int8_check_positions"] > 20
    assert not list(int8.runtime_folder.glob("model.*.onnx"))  # no leftovers of the quantisation
    assert exact.size_bytes > int8.size_bytes
    assert not nbits_nodes(exact.runtime_folder / "model.onnx")[1]


def test_the_check_refuses_a_broken_quantisation(float_folder, tiny_tokenizer, tmp_path):
    """Negated lm_head scales (a quantiser bug flipping signs) turn every pick into the worst token."""
    import onnx
    from onnx import numpy_helper

    float_path = float_folder / "model.onnx"
    good = tmp_path / "good.onnx"
    quantize.quantise_graph(float_path, good, quantize.SCHEMES["int8"])
    sequences = quantize.check_sequences(float_folder, tiny_tokenizer)
    figures = quantize.compare_graphs(float_path, good, sequences)
    quantize.judge("int8", figures)  # the real quantisation passes

    model = onnx.load(str(good))
    [head] = [node for node in model.graph.node if node.op_type == "MatMulNBits" and "lm_head" in node.name]
    for index, initializer in enumerate(model.graph.initializer):
        if initializer.name == head.input[2]:  # the scales
            flipped = -numpy_helper.to_array(initializer)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(flipped, initializer.name))
    broken = tmp_path / "broken.onnx"
    onnx.save(model, str(broken))
    figures = quantize.compare_graphs(float_path, broken, sequences)
    assert figures["top1"] < 0.5  # the tiny random model's logits are nearly flat, so KL stays small
    with pytest.raises(quantize.QuantisationRejected, match="--precision fp32"):
        quantize.judge("int8", figures)


def test_a_refused_quantisation_fails_the_build_and_keeps_the_float_graph(
    float_folder, tiny_tokenizer, monkeypatch
):
    from adcopy_desktop.core.model_store.builder import BuildFailure, quantize_weights

    before = (float_folder / "model.onnx").read_bytes()
    monkeypatch.setitem(quantize.SCHEMES, "int8", quantize.Scheme(bits=8, block_size=32, min_top1=1.01, min_top_k=0.0))
    with pytest.raises(BuildFailure, match="int8 weights changed the model's choices too much.*needs 101%"):
        quantize_weights(float_folder, tiny_tokenizer, "int8")
    assert (float_folder / "model.onnx").read_bytes() == before
    assert sorted(path.name for path in float_folder.glob("*.onnx")) == ["model.onnx"]


def test_unknown_precision_is_refused_before_building(tiny_hf_model, tmp_path):
    with pytest.raises(ModelError, match="Unknown precision"):
        ModelStore(tmp_path / "models").import_model(tiny_hf_model, precision="int2")


def test_int8_generation_matches_float_on_the_tiny_model(float_folder, tiny_tokenizer, tmp_path):
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.runtime.decoder import OnnxCausalLM

    int8_folder = tmp_path / "int8"
    shutil.copytree(float_folder, int8_folder)
    figures = quantize.quantise_model(int8_folder, tiny_tokenizer, "int8")
    assert figures["int8_next_token_agreement"] >= 0.9
    settings = GenerationSettings(n=2, max_new_tokens=12, temperature=0.0, repetition_penalty=1.0)
    ids = tiny_tokenizer.encode("<|im_start|>user\nWrite a title.<|im_end|>\n<|im_start|>assistant\n")
    float_out = OnnxCausalLM.load(float_folder, provider="cpu").generate(ids, settings)
    int8_out = OnnxCausalLM.load(int8_folder, provider="cpu").generate(ids, settings)
    assert [c.token_ids for c in int8_out] == [c.token_ids for c in float_out]
    assert np.all([c.new_tokens > 0 for c in int8_out])


def test_the_check_also_bounds_the_divergence(monkeypatch):
    figures = {"top1": 1.0, "top_k": 1.0, "kl_median": 0.05, "positions": 96}
    quantize.judge("int4", figures)  # int4 has no divergence bound
    with pytest.raises(quantize.QuantisationRejected, match=r"median KL 0.05 nats \(at most 0.03\)"):
        quantize.judge("int8", figures)
