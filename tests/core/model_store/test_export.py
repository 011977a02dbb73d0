"""``adcopy models export``: a LoRA version merged into a Hugging Face folder that transformers loads
with the ONNX version's logits; refusals (unknown id, damaged model, busy folder, full disk, cancel)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from click.testing import CliRunner

from adcopy_desktop.core.errors import Cancelled, CorruptModelError, ModelError
from adcopy_desktop.core.model_store import export as export_module
from adcopy_desktop.core.model_store.builder import onnx_prompt_logits
from adcopy_desktop.core.model_store.export import ExportError, export_model
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.runtime.lora import adapted_initializers, load_adapter, save_adapter

PROMPT = [{"role": "user", "content": "Write a title for a navy cotton scarf."}]
TRAINING = {"method": "lora", "examples": 12, "held_out": 3, "pairs": 0, "data_source": "library",
            "hyper_parameters": {"epochs": 3, "learning_rate": 2e-4, "lora_rank": 4, "lora_alpha": 8}}
EVALUATION = {"decision": "accepted", "old": {"rouge_l": 0.21}, "new": {"rouge_l": 0.34}}


def adapter_version(store, seed: int = 0, scale: float = 0.08):
    """A LoRA version over the tiny model: random rank-4 updates of every decoder linear layer
    (what the trainer saves, without spending a minute training)."""
    from safetensors import safe_open

    base = store.active_model()
    rng = np.random.default_rng(seed)
    updates = {}
    with safe_open(str(base.folder / "hf" / "model.safetensors"), "np") as weights:
        for name in weights.keys():
            if ".layers." in name and name.endswith("_proj.weight"):
                out_features, in_features = weights.get_slice(name).get_shape()
                updates[name.removesuffix(".weight")] = (
                    rng.normal(0, scale, (4, in_features)).astype(np.float32),
                    rng.normal(0, scale, (out_features, 4)).astype(np.float32))
    staging = store.new_version_staging(base.id)
    save_adapter(staging, updates, base=base.id)
    return store.commit_version(staging, parent_id=base.id, metadata={"training": TRAINING, "evaluation": EVALUATION})


def logits_of(folder, ids):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def test_an_adapter_version_exports_to_a_folder_with_the_onnx_versions_logits(tiny_store, tmp_path):
    from transformers import AutoTokenizer

    version = adapter_version(tiny_store)
    events = []
    started = time.monotonic()
    out = tmp_path / "exports" / "export"
    result = export_model(tiny_store, version.id, out, progress=events.append)
    seconds = time.monotonic() - started
    assert result.folder == out and sorted(result.files) == sorted(p.name for p in out.iterdir())
    for name in ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                 "tokenizer_config.json", "README.md"):
        assert (out / name).is_file(), name
    assert [p.name for p in out.parent.iterdir()] == ["export"]  # no temporary folder left beside it
    assert {e.stage for e in events} >= {"verify", "load", "merge", "save", "check", "done"}

    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "llama" and config["torch_dtype"] == "float16"
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "np") as weights:
        assert {str(weights.get_tensor(name).dtype) for name in weights.keys()} == {"float16"}

    # what a server does: tokenizer and weights from the folder alone, the model's chat template
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True)
    exported = logits_of(out, ids)
    onnx_file = version.runtime_folder / "model.onnx"
    version_logits = onnx_prompt_logits(onnx_file, ids, adapted_initializers(onnx_file,
                                                                             load_adapter(version.adapter_folder)))
    base_logits = onnx_prompt_logits(onnx_file, ids)
    agreement = (exported.argmax(-1) == version_logits.argmax(-1)).mean()
    difference = np.abs(exported - version_logits).max()
    assert agreement >= 0.9 and exported[-1].argmax() == version_logits[-1].argmax()
    assert difference < 0.25 * np.abs(base_logits - version_logits).max()  # the adapter is merged in
    assert result.check["next_token_agreement"] >= 0.9 and result.check["onnx_precision"] == "int8"

    card = (out / "README.md").read_text()
    assert "license: other" in card and "no licence" in card  # an import: the user's own weights
    assert "- method: lora" in card and "- examples: 12" in card and "rouge_l 0.34 (was 0.21)" in card
    assert f"`{version.id}`" in card and "vllm serve" in card
    print(f"\nexport of the tiny adapter version: {seconds:.1f} s, {result.bytes / 1e3:.0f} kB "
          f"({result.parameters:,} parameters), agreement {agreement:.2f}, max logit diff {difference:.4f}")


def test_the_cli_exports_bfloat16_and_says_the_check_passed(tiny_store, tmp_path):
    from adcopy_desktop.cli import cli

    version = adapter_version(tiny_store, seed=1)
    result = CliRunner().invoke(cli, ["models", "export", version.id, "--out", str(tmp_path / "bf16"),
                                      "--dtype", "bfloat16"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "next-token choices agree with the ONNX model (int8)" in result.stdout and ": OK" in result.stdout
    assert "model.safetensors" in result.stdout
    assert json.loads((tmp_path / "bf16" / "config.json").read_text())["torch_dtype"] == "bfloat16"
    # a base model exports too (its own weights, no adapter)
    result = CliRunner().invoke(cli, ["models", "export", "tiny-llama", "--out", str(tmp_path / "base"), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "tiny-llama" and report["check"]["next_token_agreement"] >= 0.9


def test_refusals_name_the_problem_and_leave_nothing_behind(tiny_store, tmp_path, monkeypatch):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    version = adapter_version(tiny_store, seed=2)
    with pytest.raises(ModelError, match="There is no model 'nope'.*tiny-llama"):
        export_model(tiny_store, "nope", tmp_path / "a")

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists and is not empty"):
        export_model(tiny_store, version.id, busy)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]

    with pytest.raises(ExportError, match="Unknown dtype"):
        export_model(tiny_store, version.id, tmp_path / "b", dtype="float8")

    class Full:
        free = 1000

    monkeypatch.setattr(export_module.shutil, "disk_usage", lambda path: Full())
    with pytest.raises(ExportError, match="Not enough disk space.*Free some space"):
        export_model(tiny_store, version.id, tmp_path / "c")
    monkeypatch.undo()

    cancel = CancelToken()

    def cancel_when_loading(event):
        if event.stage == "load":
            cancel.cancel()

    with pytest.raises(Cancelled, match="nothing was written"):
        export_model(tiny_store, version.id, tmp_path / "d", progress=cancel_when_loading, cancel=cancel)
    assert not (tmp_path / "d").exists()

    adapter_file = version.folder / "adapter" / "adapter.npz"
    data = bytearray(adapter_file.read_bytes())
    data[-100] ^= 0xFF
    adapter_file.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="adapter.npz does not match its checksum.*Nothing was exported"):
        export_model(tiny_store, version.id, tmp_path / "e")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]  # no export and no temporary folder
