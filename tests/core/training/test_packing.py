"""Packed batches (shared prompt start read once, no padding) give each row exactly its own loss,
and the fused output-layer log-probabilities give the plain ones and their gradients."""

from __future__ import annotations

import pytest

from adcopy_desktop.core.training.config import TrainingConfig
from adcopy_desktop.core.training.trainer import IGNORE, Run, head_logprobs_function, pack_rows

torch = pytest.importorskip("torch")

SHARED = [5, 6, 7, 8, 9, 10, 11]


def row(rest_prompt: list[int], copy: list[int]) -> tuple[list[int], list[int]]:
    prompt = SHARED + rest_prompt
    return prompt + copy, [IGNORE] * len(prompt) + copy


ROWS = [
    row([20, 21], [30, 31, 32, 2]),
    row([22], [33, 34, 2]),
    row([20, 21], [30, 31, 32, 2]),  # the same example twice
    row([23, 24, 25, 26], [35, 2]),
    row([], [36, 37, 38, 39, 40, 2]),  # copy right after the shared start
]


def test_pack_rows_lays_out_the_shared_start_once_and_every_label_once():
    layout = pack_rows(ROWS[:2])
    assert layout.ids[:len(SHARED)] == SHARED and layout.segments[:len(SHARED)] == [-1] * len(SHARED)
    assert len(layout.ids) == len(SHARED) + (2 + 4) + (1 + 3)
    first = len(SHARED)
    assert layout.positions[first:first + 6] == list(range(first, first + 6))  # positions restart per row
    assert layout.positions[first + 6:] == list(range(first, first + 4))
    assert layout.owners == [0] * 4 + [1] * 3
    assert layout.targets == [30, 31, 32, 2, 33, 34, 2]
    # row 1's first copy token follows its only own prompt token, 22
    assert layout.ids[layout.sources[4]] == 22


def test_pack_rows_reads_a_label_right_after_the_shared_start_from_the_shared_part():
    layout = pack_rows([row([1], [3, 2]), row([], [4, 2])])
    shared_end = len(SHARED) - 1
    assert layout.sources[2] == shared_end and layout.targets[2] == 4 and layout.owners[2] == 1


@pytest.fixture(params=["sdpa", "eager"])
def run(request, tiny_store, tmp_path):
    base = tiny_store.active_model().folder
    config = TrainingConfig(method="lora", lora_rank=4, lora_dropout=0.0, train_precision="fp32").to_dict()
    trainer = Run(base, {"config": config, "precision": "fp32"}, tmp_path / "out", None)
    trainer.load()
    trainer.causal_lm().config._attn_implementation = request.param
    trainer.prepare_parameters()
    with torch.no_grad():  # LoRA's B starts at zero: give the adapter an effect to take gradients through
        for name, parameter in trainer.model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.02)
    return trainer


def test_packed_batch_gives_each_row_its_own_log_probability_and_gradient(run):
    assert run.packable() and run.packing_pays(ROWS, len(pack_rows(ROWS).ids))
    trainable = [p for p in run.model.parameters() if p.requires_grad]

    def loss_and_grads(packed: bool):
        run.config["pack_batches"] = packed
        run.model.zero_grad(set_to_none=True)
        sums, counts = run.token_logps(ROWS)
        (-sums.sum() / counts.sum()).backward()
        return sums.detach(), counts, [p.grad.clone() for p in trainable]

    padded_sums, padded_counts, padded_grads = loss_and_grads(False)
    packed_sums, packed_counts, packed_grads = loss_and_grads(True)
    assert packed_counts.tolist() == padded_counts.tolist() == [4, 3, 4, 2, 6]
    assert torch.allclose(packed_sums, padded_sums, atol=1e-4), (packed_sums, padded_sums)
    assert packed_sums[0] == pytest.approx(float(packed_sums[2]), abs=1e-5)  # duplicates agree
    worst = max(float((a - b).abs().max() / (b.abs().max() + 1e-12)) for a, b in zip(packed_grads, padded_grads))
    assert worst < 1e-3


def test_heldout_loss_is_the_same_packed_or_padded(run):
    run.config["pack_batches"] = False
    padded = run.heldout_loss(ROWS)
    run.config["pack_batches"] = True
    assert run.heldout_loss(ROWS) == pytest.approx(padded, rel=1e-5)


def test_fused_head_matches_log_softmax_and_its_gradient():
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(300, 16, generator=generator, requires_grad=True)
    weight = torch.randn(50, 16, generator=generator)
    targets = torch.randint(0, 50, (300,), generator=generator)
    upstream = torch.randn(300, generator=generator)

    expected = torch.log_softmax(hidden @ weight.t(), dim=-1).gather(1, targets[:, None])[:, 0]
    (expected * upstream).sum().backward()
    expected_grad = hidden.grad.clone()
    hidden.grad = None

    got = head_logprobs_function(torch).apply(hidden, weight, targets, 128, True)  # chunks of 128, 128, 44
    (got * upstream).sum().backward()
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(hidden.grad, expected_grad, atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(head_logprobs_function(torch).apply(hidden, weight, targets, 64, False), expected,
                              atol=1e-5)


def test_rows_that_share_little_and_have_one_length_stay_padded(run):
    run.causal_lm().config.hidden_size, run.causal_lm().config.intermediate_size = 896, 4864  # the 0.5B default's
    apart = [(list(range(start, start + 512)), [IGNORE] * 400 + list(range(112))) for start in (1000, 3000, 5000, 7000)]
    assert not run.packing_pays(apart, len(pack_rows(apart).ids))  # 2,048 packed: attention costs more
    assert run.packing_pays(ROWS, len(pack_rows(ROWS).ids))
    shared = [(list(range(260)) + list(range(start, start + 150)), [IGNORE] * 330 + list(range(80)))
              for start in (1000, 3000, 5000, 7000)]
    assert run.packing_pays(shared, len(pack_rows(shared).ids))  # AdvertiseGen: ~260 shared prompt tokens
