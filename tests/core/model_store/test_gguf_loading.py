"""The lean GGUF loader (one tensor, or a block of rows, at a time) against transformers' own."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gguf = pytest.importorskip("gguf")

from adcopy_desktop.core.model_store import builder  # noqa: E402
from adcopy_desktop.core.model_store.builder import _fill_from_gguf  # noqa: E402


class PassThrough:
    def process(self, weights, name, **_):
        return SimpleNamespace(weights=weights, name=name)


class Transposing:
    """Like a processor that reorders a tensor (the Llama q/k permutation): it needs all of it."""

    def process(self, weights, name, **_):
        return SimpleNamespace(weights=weights.T.copy(), name=name)


def f32_tensor(values: np.ndarray, name: str = "token_embd.weight"):
    return SimpleNamespace(data=values, tensor_type=gguf.GGMLQuantizationType.F32, name=name)


def dequantize(data, tensor_type):
    return gguf.dequantize(data, tensor_type)


def test_a_large_tensor_is_read_in_blocks_of_rows_and_filled_exactly(monkeypatch):
    monkeypatch.setattr(builder, "GGUF_ROWS_PER_READ", 7)
    values = np.arange(50 * 3, dtype=np.float32).reshape(50, 3)
    target = torch.zeros(50, 3, dtype=torch.bfloat16)
    reads = []

    def counting(data, tensor_type):
        reads.append(data.shape[0])
        return dequantize(data, tensor_type)

    name = _fill_from_gguf(f32_tensor(values), PassThrough(), {"token_embd.weight": "embed"}, {},
                           {"embed": target}, counting)
    assert name == "embed"
    assert max(reads) == 7 and sum(reads) == 50  # never the whole tensor at once
    assert torch.equal(target, torch.from_numpy(values).to(torch.bfloat16))


def test_a_tensor_the_processor_reshapes_is_read_whole(monkeypatch):
    monkeypatch.setattr(builder, "GGUF_ROWS_PER_READ", 4)
    values = np.random.default_rng(0).random((10, 6), dtype=np.float32)
    target = torch.zeros(6, 10)
    _fill_from_gguf(f32_tensor(values), Transposing(), {"token_embd.weight": "w"}, {}, {"w": target}, dequantize)
    assert torch.equal(target, torch.from_numpy(values.T.copy()))


def test_a_tensor_of_the_wrong_shape_is_refused_with_both_shapes():
    target = torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"shape \(5, 3\).*\(4, 3\)"):
        _fill_from_gguf(f32_tensor(np.zeros((5, 3), dtype=np.float32)), PassThrough(), {"token_embd.weight": "w"},
                        {}, {"w": target}, dequantize)


def test_tensors_the_model_does_not_have_are_skipped():
    assert _fill_from_gguf(f32_tensor(np.zeros((2, 2), dtype=np.float32), "rope_freqs"), PassThrough(), {}, {},
                           {}, dequantize) is None


@pytest.fixture(scope="module")
def smollm2_gguf(tmp_path_factory):
    from adcopy_desktop.core.errors import ModelError
    from adcopy_desktop.core.model_store.catalog import CATALOG, assemble

    try:
        return assemble(CATALOG["smollm2-135m-instruct"], tmp_path_factory.mktemp("gguf"))
    except ModelError as exc:
        pytest.skip(f"the SmolLM2 package is not installed: {exc}")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_real_gguf_gives_the_same_model_as_transformers(smollm2_gguf, dtype):
    """SmolLM2 is a Llama: its q/k weights go through transformers' permutation, its embedding
    through the blocks; every weight and the logits must be bit for bit transformers' own."""
    from transformers import AutoModelForCausalLM

    dtype = getattr(torch, dtype)
    lean = builder.load_gguf_model(smollm2_gguf, dtype)
    reference = AutoModelForCausalLM.from_pretrained(str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name,
                                                     dtype=dtype)
    expected = reference.state_dict()
    for name, value in lean.state_dict().items():
        assert value.dtype == dtype or not value.is_floating_point()
        assert torch.equal(value, expected[name]), name
    ids = torch.tensor([[1, 2, 3, 100, 200, 300]])
    with torch.no_grad():
        assert torch.equal(lean(ids).logits, reference.eval()(ids).logits)
