"""The gate's held-out copy, written by a child process per model."""

from __future__ import annotations

import shutil

import pytest

from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.training.config import TrainingConfig, TrainingError
from adcopy_desktop.core.training.data import Example
from adcopy_desktop.core.training.pipeline import generate_outputs


def examples(count: int) -> list[Example]:
    return [Example(key=f"k{i}", messages=[{"role": "user", "content": f"Write copy for item {i}."}],
                    completion="Soft cotton shirt.", kind="description", language="en") for i in range(count)]


def test_outputs_come_from_the_child_in_order_with_progress(tiny_store):
    folder = tiny_store.active_model().runtime_folder
    reported = []
    outputs = generate_outputs(folder, examples(3), TrainingConfig(gate_max_new_tokens=12), report=reported.append)
    assert reported == [1, 2, 3]
    assert len(outputs) == 3 and all(isinstance(text, str) for text in outputs)
    # greedy: the same prompt gives the same copy in another child
    assert generate_outputs(folder, examples(1), TrainingConfig(gate_max_new_tokens=12)) == outputs[:1]


def test_a_damaged_model_is_a_clear_training_error(tiny_store, tmp_path):
    folder = tmp_path / "onnx"
    shutil.copytree(tiny_store.active_model().runtime_folder, folder)
    (folder / "model.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(TrainingError, match="held-out comparison could not run the model"):
        generate_outputs(folder, examples(1), TrainingConfig(gate_max_new_tokens=8))


def test_cancel_stops_the_child(tiny_store):
    cancel = CancelToken()
    cancel.cancel()
    assert generate_outputs(tiny_store.active_model().runtime_folder, examples(2), TrainingConfig(),
                            cancel=cancel) == []
