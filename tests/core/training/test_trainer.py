"""The training child on a tiny model, and cancelling a run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from adcopy_desktop.core.errors import Cancelled
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.training.config import TrainingConfig
from adcopy_desktop.core.training.pipeline import TrainingProgress, run_training

COPY = "Soft cotton t-shirt in navy blue, breathable and easy to care for."


def example(index: int) -> dict:
    return {"key": f"k{index}", "messages": [{"role": "user", "content": f"Write copy for item {index}."}],
            "completion": COPY, "kind": "description", "language": "en", "style": None, "origin": f"line {index}",
            "product": None}


def child_data(tmp_path, **config) -> tuple:
    data = {"config": TrainingConfig(**config).to_dict(), "precision": "fp32",
            "train": [example(i) for i in range(8)], "heldout": [example(i) for i in range(8, 10)],
            "pairs": [], "heldout_pairs": []}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_child_trains_with_falling_loss_merges_and_exports(tiny_store, tmp_path):
    base = tiny_store.active_model().folder
    out = tmp_path / "staging"
    out.mkdir()
    data = child_data(tmp_path, method="lora", learning_rate=1e-2, epochs=4, batch_size=4, lora_rank=4,
                      early_stopping_patience=0, version_format="merged")
    result = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.training.trainer", "--base", str(base), "--data", str(data),
         "--out", str(out)], capture_output=True, text=True, timeout=600,
    )
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, result.stderr[-2000:]
    steps = [e for e in events if e["event"] == "progress" and e.get("stage") == "train" and "step" in e]
    assert [e["step"] for e in steps] == list(range(1, 9)) and all(e["total"] == 8 for e in steps)
    assert all("eta_s" in e and e["loss"] > 0 for e in steps)
    assert steps[-1]["loss"] < steps[0]["loss"]
    done = events[-1]
    assert done["event"] == "done"
    metadata = done["metadata"]
    assert metadata["heldout_loss_new"] < metadata["heldout_loss_old"]
    assert metadata["training"]["method"] == "lora" and metadata["training"]["trainable_parameters"] > 0
    supervised = metadata["training"]["supervised"]  # the curves the Insights tab draws
    assert [step for step, _ in supervised["loss_curve"]] == list(range(1, 9))
    assert [round(loss, 3) for _, loss in supervised["loss_curve"]] == [round(e["loss"], 3) for e in steps]
    assert supervised["heldout_curve"] and supervised["heldout_curve"][-1][0] == 8
    assert metadata["export_check"]["next_token_agreement"] >= 0.95
    assert (out / "hf" / "model.safetensors").is_file() and (out / "onnx" / "model.onnx").is_file()
    assert (out / "onnx" / "tokenizer.json").is_file()
    assert not list((out / "hf").glob("adapter_*"))  # merged, not an adapter


@pytest.mark.parametrize("method", ["top_layers", "full"])
def test_other_freezing_strategies_train_fewer_or_all_parameters(tiny_store, tmp_path, method):
    base = tiny_store.active_model().folder
    out = tmp_path / "staging"
    out.mkdir()
    data = child_data(tmp_path, method=method, learning_rate=1e-3, epochs=1, batch_size=4, top_layers=1)
    result = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.training.trainer", "--base", str(base), "--data", str(data),
         "--out", str(out)], capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metadata = json.loads(result.stdout.strip().splitlines()[-1])["metadata"]
    trainable = metadata["training"]["trainable_parameters"]
    from safetensors import safe_open

    with safe_open(str(base / "hf" / "model.safetensors"), "np") as weights:
        total = sum(weights.get_tensor(name).size for name in weights.keys())
    if method == "full":
        assert trainable == total
    else:
        assert 0 < trainable < total / 2


def test_cancel_stops_within_a_step_and_leaves_no_version(tiny_store, tmp_path):
    lines = [json.dumps({"prompt": f"Type: item {i}\nColor: blue", "completion": f"Blue item {i}, soft and light."})
             for i in range(24)]
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(lines), encoding="utf-8")
    before = sorted(p.name for p in tiny_store.root.iterdir())
    active = tiny_store.active_id()
    cancel = CancelToken()
    steps = []

    def progress(event):
        if isinstance(event, TrainingProgress):
            steps.append(event.step)
            if event.step == 2:
                cancel.cancel()

    # long prompts (the tiny tokenizer spends many tokens on them): each step takes a while, so the
    # step number the parent relays is the one in flight
    config = TrainingConfig(method="full", epochs=200, batch_size=8, max_length=512, early_stopping_patience=0)
    with pytest.raises(Cancelled):
        run_training(config, store=tiny_store, data_file=data, progress=progress, cancel=cancel)
    assert steps and max(steps) <= 3  # the step in flight may finish, no further one starts
    assert tiny_store.active_id() == active
    assert sorted(p.name for p in tiny_store.root.iterdir()) == before


def pair(index: int, chosen: str, rejected: str) -> dict:
    return {"key": f"p{index}", "messages": [{"role": "user", "content": f"Write copy for item {index}."}],
            "chosen": chosen, "rejected": rejected, "kind": "description", "language": "en", "style": None,
            "origin": f"pair {index}"}


def test_preference_stage_moves_the_model_towards_the_accepted_copy(tiny_store, tmp_path):
    base = tiny_store.active_model().folder
    out = tmp_path / "staging"
    out.mkdir()
    chosen, rejected = "Soft cotton, made to last.", "Cheap stuff, buy now!!!"
    data = {"config": TrainingConfig(method="lora", learning_rate=1e-3, epochs=1, batch_size=4, lora_rank=4,
                                     early_stopping_patience=0, preference="auto", min_pairs=8,
                                     dpo_learning_rate=5e-3, dpo_epochs=3, dpo_beta=0.5).to_dict(),
            "precision": "fp32", "train": [example(i) for i in range(8)], "heldout": [example(i) for i in range(8, 10)],
            "pairs": [pair(i, chosen, rejected) for i in range(8)],
            "heldout_pairs": [pair(i, chosen, rejected) for i in range(8, 10)]}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.training.trainer", "--base", str(base), "--data", str(path),
         "--out", str(out)], capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    dpo_steps = [e for e in events if e["event"] == "progress" and e.get("stage") == "preference" and "step" in e]
    assert [e["step"] for e in dpo_steps] == [1, 2, 3, 4, 5, 6]  # 8 pairs, batch 4, 3 epochs
    preference = events[-1]["metadata"]["training"]["preference"]
    assert preference["pairs"] == 8 and preference["steps"] == 6
    assert preference["last_loss"] < preference["first_loss"]
    # the share of pairs where the model prefers the accepted copy more than its reference did
    assert preference["train_preference_accuracy"] == 1.0
    assert preference["heldout_preference_accuracy"] == 1.0


def test_preference_stage_waits_for_enough_pairs(tiny_store, tmp_path):
    base = tiny_store.active_model().folder
    out = tmp_path / "staging"
    out.mkdir()
    data = {"config": TrainingConfig(method="lora", epochs=1, batch_size=4, lora_rank=4, early_stopping_patience=0,
                                     preference="auto", min_pairs=16).to_dict(),
            "precision": "fp32", "train": [example(i) for i in range(8)], "heldout": [example(i) for i in range(8, 10)],
            "pairs": [pair(i, "Soft cotton.", "Cheap!") for i in range(4)], "heldout_pairs": []}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.training.trainer", "--base", str(base), "--data", str(path),
         "--out", str(out)], capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    training = json.loads(result.stdout.strip().splitlines()[-1])["metadata"]["training"]
    assert training["pairs"] == 4 and training["preference"] is None


def test_length_grouped_batches_cover_every_example_once_with_similar_lengths():
    import random

    from adcopy_desktop.core.training.trainer import batches

    lengths = [random.Random(i).randint(10, 400) for i in range(200)]
    grouped = batches(lengths, 4, random.Random(0))
    plain = batches(lengths, 4, random.Random(0), group_by_length=False)
    for result in (grouped, plain):
        assert sorted(i for batch in result for i in batch) == list(range(200))
        assert all(1 <= len(batch) <= 4 for batch in result)

    def padding(result):
        return sum(max(lengths[i] for i in batch) * len(batch) - sum(lengths[i] for i in batch) for batch in result)

    assert padding(grouped) < padding(plain) / 4
    assert grouped != batches(lengths, 4, random.Random(1))  # still shuffled per epoch


def test_bfloat16_training_merges_onto_the_float32_weights(tiny_store, tmp_path):
    """Trained with bfloat16 frozen weights, the saved model keeps the base's exact float32 values
    wherever LoRA changed nothing, and the ONNX export matches the merged weights."""
    from safetensors.torch import load_file

    base = tiny_store.active_model().folder
    out = tmp_path / "staging"
    out.mkdir()
    data = child_data(tmp_path, method="lora", learning_rate=1e-2, epochs=2, batch_size=4, lora_rank=4,
                      early_stopping_patience=0, train_precision="bf16", gradient_checkpointing=True,
                      version_format="merged")
    result = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.training.trainer", "--base", str(base), "--data", str(data),
         "--out", str(out)], capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    metadata = events[-1]["metadata"]
    import torch

    native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert metadata["training"]["precision"] == ("bf16" if native else "fp32")
    assert metadata["training"]["gradient_checkpointing"] is True
    assert metadata["heldout_loss_new"] < metadata["heldout_loss_old"]
    assert metadata["export_check"]["next_token_agreement"] >= 0.95
    before, after = load_file(base / "hf" / "model.safetensors"), load_file(out / "hf" / "model.safetensors")
    assert all(tensor.dtype == torch.float32 for tensor in after.values())
    untouched = [name for name in before if "norm" in name or "embed" in name]
    assert untouched and all(torch.equal(before[name], after[name]) for name in untouched)
    changed = [name for name in before if name.endswith("q_proj.weight")]
    assert changed and any(not torch.equal(before[name], after[name]) for name in changed)


def test_a_lora_version_is_saved_as_an_adapter_that_reproduces_the_trained_model(tiny_store, tmp_path):
    from adcopy_desktop.core.runtime.lora import load_adapter

    base = tiny_store.active_model().folder
    out = tmp_path / "staging"
    out.mkdir()
    data = child_data(tmp_path, method="lora", learning_rate=1e-2, epochs=3, batch_size=4, lora_rank=4,
                      early_stopping_patience=0)
    result = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.core.training.trainer", "--base", str(base), "--data", str(data),
         "--out", str(out)], capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metadata = json.loads(result.stdout.strip().splitlines()[-1])["metadata"]
    check = metadata["export_check"]
    # the check ran the base graph with the adapter applied against the merged torch model
    assert check["next_token_agreement"] >= 0.95 and check["adapter_rank"] == 4
    assert sorted(p.name for p in out.iterdir()) == ["adapter"]  # no hf/ and no onnx/ copy of the base
    adapter = load_adapter(out / "adapter")
    assert adapter.rank == 4 and adapter.updates and check["adapter_bytes"] < 1_000_000
    assert any(abs(adapter.delta(module)).max() > 0 for module in adapter.updates)
