"""The learning test: a tiny model learns a house sign-off from accepted copy, and the gate
refuses a run trained to be worse.

The tiny model (tests/model_factory.py) starts from random weights, so before training it never
writes the sign-off; after a short full fine-tune on copy that always ends with it, its greedy ONNX
output on held-out products does. A second run from the accepted version, trained on the same copy
with each target's words shuffled, is worse on the held-out set and the gate keeps the old model.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest, build_messages
from adcopy_desktop.core.training.config import TrainingConfig
from adcopy_desktop.core.training.data import is_held_out
from adcopy_desktop.core.training.pipeline import run_training
from adcopy_desktop.paths import user_folders
from tests.model_factory import build_tiny_model

SIGN_OFF = "-- Made by Qingshan"
COLORS = ["white", "navy", "red", "black", "green", "grey", "pink", "brown"]
ITEMS = ["jacket", "shirt", "boots", "wallet", "scarf", "hat", "bag", "dress"]
HOLDOUT = 0.2


def catalogue() -> list[dict[str, str]]:
    return [
        {"prompt": f"Type: {item}\nColor: {color}", "completion": f"A {color} {item} for every day. {SIGN_OFF}",
         "language": "en"}
        for color in COLORS for item in ITEMS
    ]


def write_jsonl(path: Path, lines: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def sign_off_rate(outputs: list[str]) -> float:
    return sum(output.strip().endswith(SIGN_OFF) for output in outputs) / len(outputs)


@pytest.fixture(scope="module")
def signoff_models_root(tmp_path_factory) -> Path:
    """A tiny model whose tokenizer knows the prompt wording (short prompts, fast steps)."""
    corpus = []
    for line in catalogue():
        request = CopyRequest(parse_product(line["prompt"]), "description", "en")
        corpus += [message["content"] for message in build_messages(request)] + [line["completion"]]
    hf = build_tiny_model(tmp_path_factory.mktemp("signoff") / "tiny", vocab_size=1500, corpus=corpus * 3)
    root = tmp_path_factory.mktemp("signoff-store") / "models"
    ModelStore(root).import_model(hf, name="tiny-signoff", languages=["en"], activate=True)
    return root


@pytest.fixture
def store(signoff_models_root):
    models = user_folders().models
    models.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(signoff_models_root, models)
    return ModelStore(models)


CONFIG = dict(method="full", learning_rate=3e-3, epochs=25, batch_size=8, max_length=256, holdout_share=HOLDOUT,
              early_stopping_patience=3, gate_max_new_tokens=24, gate_margin=0.02)


def test_tiny_model_learns_the_sign_off_and_the_gate_refuses_a_shuffled_run(store, tmp_path):
    base = store.active_id()
    data = write_jsonl(tmp_path / "house.jsonl", catalogue())
    events = []
    outcome = run_training(TrainingConfig(**CONFIG), store=store, data_file=data, progress=events.append)

    before = sign_off_rate([sample["old"] for sample in outcome.samples])
    after = sign_off_rate([sample["new"] for sample in outcome.samples])
    assert outcome.held_out == len(outcome.samples) >= 8
    assert before <= 0.1, outcome.samples[:3]
    assert after >= 0.9, outcome.samples[:3]
    assert outcome.accepted, outcome.reason
    assert outcome.new_metrics["heldout_loss"] < outcome.old_metrics["heldout_loss"]
    assert outcome.new_metrics["rouge_l"] > outcome.old_metrics["rouge_l"]
    assert outcome.version is not None and store.active_id() == outcome.version.id != base
    assert outcome.version.evaluation["decision"] == "accepted"
    assert {e.stage for e in events} >= {"data", "train", "export", "gate", "swap", "done"}

    # Trained to be worse: the same products, but every training target's words shuffled (the
    # held-out lines keep the real copy, so the gate measures against what the brand accepts).
    rng = random.Random(0)
    worse = []
    for line in catalogue():
        if not is_held_out(f"text:{' '.join(line['prompt'].split())}", HOLDOUT):
            words = line["completion"].split()
            rng.shuffle(words)
            line = {**line, "completion": " ".join(words)}
        worse.append(line)
    versions_before = [m.id for m in store.list_models()]
    refused = run_training(TrainingConfig(**{**CONFIG, "epochs": 10}), store=store,
                           data_file=write_jsonl(tmp_path / "worse.jsonl", worse))
    assert not refused.accepted, refused.reason
    assert refused.reason.startswith("refused") and "worse" in refused.reason
    assert refused.version is None
    assert store.active_id() == outcome.version.id
    assert [m.id for m in store.list_models()] == versions_before
    assert not list(store.root.glob(".build-*"))
