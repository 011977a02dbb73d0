"""LoRA adapters applied to a base ONNX graph (core/runtime/lora.py) against merged weights."""

from __future__ import annotations

import numpy as np
import pytest

from adcopy_desktop.core.model_store.builder import onnx_prompt_logits
from adcopy_desktop.core.runtime.lora import (
    AdapterError,
    adapted_initializers,
    combine,
    graph_module,
    load_adapter,
    save_adapter,
)

IDS = [5, 17, 42, 99, 3, 250, 7, 64, 11, 300]


def random_updates(model, rank: int = 4, seed: int = 0, scale: float = 0.05):
    """Random low-rank updates for every linear layer inside the decoder blocks."""
    import torch

    rng = np.random.default_rng(seed)
    updates = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and ".layers." in name:
            out_features, in_features = module.weight.shape
            updates[name] = (rng.normal(0, scale, (rank, in_features)).astype(np.float32),
                             rng.normal(0, scale, (out_features, rank)).astype(np.float32))
    return updates


def merged_copy(hf_folder, updates):
    from adcopy_desktop.core.model_store.builder import load_pretrained
    import torch

    tokenizer, model = load_pretrained("hf", hf_folder)
    with torch.no_grad():
        for name, (a, b) in updates.items():
            model.get_submodule(name).weight += torch.from_numpy(b @ a)
    return tokenizer, model


def test_graph_node_names_map_to_transformers_modules():
    assert graph_module("/model/layers.0/self_attn/q_proj/MatMul_Q8") == "model.layers.0.self_attn.q_proj"
    assert graph_module("/model/layers.11/mlp/down_proj/MatMul") == "model.layers.11.mlp.down_proj"
    assert graph_module("/model/layers.0/self_attn/Softmax") is None


def test_an_adapter_on_the_float_graph_gives_the_merged_models_logits(tiny_hf_model, tiny_onnx_model, tmp_path):
    import torch

    _, model = merged_copy(tiny_hf_model, {})
    updates = random_updates(model)
    folder = save_adapter(tmp_path / "version", updates, base="tiny")
    _, merged = merged_copy(tiny_hf_model, updates)
    with torch.no_grad():
        reference = merged(torch.tensor([IDS])).logits[0].numpy()
    base_logits = onnx_prompt_logits(tiny_onnx_model / "model.onnx", IDS)
    overrides = adapted_initializers(tiny_onnx_model / "model.onnx", load_adapter(folder))
    assert len(overrides) == len(updates)
    adapted = onnx_prompt_logits(tiny_onnx_model / "model.onnx", IDS, overrides)
    assert np.abs(adapted - reference).max() < 1e-3
    assert np.abs(base_logits - reference).max() > 100 * np.abs(adapted - reference).max()  # it did change


def test_an_adapter_on_the_int8_graph_matches_the_quantised_merged_model(tiny_hf_model, tiny_onnx_model, tmp_path):
    from adcopy_desktop.core.model_store.builder import export_onnx
    from adcopy_desktop.core.model_store.quantize import SCHEMES, quantise_graph

    base_int8 = tmp_path / "base.int8.onnx"
    quantise_graph(tiny_onnx_model / "model.onnx", base_int8, SCHEMES["int8"])
    _, model = merged_copy(tiny_hf_model, {})
    updates = random_updates(model, seed=1)

    # a zero update gives back the base's exact bytes: requantising is lossless where nothing changed
    zero = {name: (a, np.zeros_like(b)) for name, (a, b) in updates.items()}
    import onnx
    from onnx import numpy_helper

    stored = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(base_int8)).graph.initializer}
    unchanged = adapted_initializers(base_int8, load_adapter(save_adapter(tmp_path / "zero", zero)))
    assert unchanged and all(np.array_equal(stored[name], value) for name, value in unchanged.items())

    _, merged = merged_copy(tiny_hf_model, updates)
    export_onnx(merged, tmp_path / "merged")
    merged_int8 = tmp_path / "merged.int8.onnx"
    quantise_graph(tmp_path / "merged" / "model.onnx", merged_int8, SCHEMES["int8"])
    expected = onnx_prompt_logits(merged_int8, IDS)
    adapter = load_adapter(save_adapter(tmp_path / "version", updates))
    adapted = onnx_prompt_logits(base_int8, IDS, adapted_initializers(base_int8, adapter))
    base_logits = onnx_prompt_logits(base_int8, IDS)
    # both quantise the same merged weights (one from float, one from the base's int8 values)
    assert (adapted.argmax(-1) == expected.argmax(-1)).mean() >= 0.9
    assert np.abs(adapted - expected).max() < 0.25 * np.abs(base_logits - expected).max()


def test_an_adapter_for_another_model_is_refused_with_the_module_named(tiny_onnx_model, tmp_path):
    wrong = {"model.layers.0.self_attn.q_proj": (np.ones((2, 10), np.float32), np.ones((64, 2), np.float32))}
    with pytest.raises(AdapterError, match="q_proj.*another model"):
        adapted_initializers(tiny_onnx_model / "model.onnx", load_adapter(save_adapter(tmp_path / "a", wrong)))
    absent = {"model.layers.9.mlp.up_proj": (np.ones((2, 64), np.float32), np.ones((128, 2), np.float32))}
    with pytest.raises(AdapterError, match="layers.9.mlp.up_proj"):
        adapted_initializers(tiny_onnx_model / "model.onnx", load_adapter(save_adapter(tmp_path / "b", absent)))


def test_combined_adapters_add_their_updates_and_a_damaged_file_is_named(tmp_path):
    rng = np.random.default_rng(3)
    first = {"m": (rng.normal(size=(2, 8)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32))}
    second = {"m": (rng.normal(size=(3, 8)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32))}
    both = load_adapter(save_adapter(tmp_path / "both", combine(first, second)))
    assert both.rank == 5
    expected = first["m"][1] @ first["m"][0] + second["m"][1] @ second["m"][0]
    assert np.allclose(both.delta("m"), expected, atol=1e-5)
    (tmp_path / "both" / "adapter" / "adapter.npz").write_bytes(b"not a zip")
    with pytest.raises(AdapterError, match="cannot be read"):
        load_adapter(tmp_path / "both" / "adapter")


def test_an_adapter_on_a_fused_graph_in_a_hard_linked_copy(tiny_hf_model, fused_onnx_model, tmp_path):
    """The fused graph keeps its weights in model.onnx.data; a folder copied with hard links (backups,
    benchmarks) is read as well (onnx's own loader refuses such a file)."""
    import os
    import shutil

    _, model = merged_copy(tiny_hf_model, {})
    updates = random_updates(model)
    adapter = load_adapter(save_adapter(tmp_path / "version", updates, base="tiny"))
    linked = tmp_path / "linked"
    shutil.copytree(fused_onnx_model, linked, copy_function=os.link)
    assert os.stat(linked / "model.onnx.data").st_nlink == 2
    expected = adapted_initializers(fused_onnx_model / "model.onnx", adapter)
    got = adapted_initializers(linked / "model.onnx", adapter)
    assert len(got) == len(updates) and got.keys() == expected.keys()
    assert all(np.array_equal(got[name], expected[name]) for name in expected)
    adapted = onnx_prompt_logits(linked / "model.onnx", IDS, got)
    assert np.abs(adapted - onnx_prompt_logits(linked / "model.onnx", IDS)).max() > 1e-3  # it did change
