"""Weight-only quantisation of an exported decoder graph, checked against the float graph.

Runs in the builder's child process. Decoding on CPU reads every weight once per token, so the
weights' size sets the speed: 8-bit weights read a quarter of the bytes of float32, 4-bit an eighth.
Every MatMul with a constant weight, the tied lm_head included, becomes an onnxruntime
``MatMulNBits`` (block-wise, symmetric); the embedding lookup stays float32.

A quantised graph is only kept if it still writes what the float graph writes: both graphs read
the same texts (chat prompts plus the float model's own greedy continuation of them) and, at every
position of the continuation, the quantised pick must match the float pick (top-1) and lie in the
float model's top few often enough. The thresholds per scheme are in ``SCHEMES``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

TOP_K = 5
CONTINUATION_TOKENS = 32
# Prompts the check continues: a short English task, a product with facts, and a Chinese one.
CHECK_CONVERSATIONS: tuple[tuple[dict[str, str], ...], ...] = (
    ({"role": "user", "content": "Write a short title for a white denim jacket."},),
    (
        {"role": "system", "content": "You write product copy for an online shop. Use only the given facts."},
        {
            "role": "user",
            "content": "Write a product description.\n\nFacts:\nType: backpack\nMaterial: recycled "
            "polyester\nCapacity: 20 liters\nFeature: padded laptop sleeve",
        },
    ),
    ({"role": "user", "content": "为这款商品写一段商品描述：白色牛仔外套，宽松版型，纯棉面料。"},),
)


@dataclass(frozen=True)
class Scheme:
    """One quantisation setting and the agreement with the float graph it must keep."""

    bits: int
    block_size: int
    min_top1: float  # share of continuation positions where the quantised pick is the float pick
    min_top_k: float  # share where it is within the float model's TOP_K
    max_kl_median: float = float("inf")  # median KL(float || quantised) over those positions, nats
    accuracy_level: int = 4  # MatMulNBits: int8 activations on CPU (the fast kernels)


SCHEMES: dict[str, Scheme] = {
    # SmolLM2-135M measured top-1 0.93, top-5 1.00, median KL 0.004 nats on this check (4-bit
    # weights: KL 0.09). The margins leave room for other CPUs' int8 kernels; a broken graph
    # lands far outside them.
    # Block 128: one scale per 128 weights. On the default Qwen model, against block 32, decode
    # 1.3-1.4x and a 500-token prompt 1.2-1.3x faster (onnxruntime's 8-bit kernels spend less on
    # scales), 100 MB less RSS, and still top-1 0.96 / top-5 1.00 / KL 0.0016 (block 32: 0.95 /
    # 1.00 / 0.0005; block 256 no faster and further off). Figures in docs/benchmarks.md.
    "int8": Scheme(bits=8, block_size=128, min_top1=0.85, min_top_k=0.97, max_kl_median=0.03),
    # Opt-in and measurably lossy (docs/benchmarks.md): only guard against a broken graph.
    "int4": Scheme(bits=4, block_size=32, min_top1=0.0, min_top_k=0.75),
}


class QuantisationRejected(Exception):
    """The quantised graph strays too far from the float graph; the message says how far."""


def fold_constants(float_path: Path, out_path: Path) -> None:
    """Let onnxruntime fold constants so the tied lm_head (a Transpose of the embedding) becomes an
    initializer that the quantizer can take."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out_path)
    ort.InferenceSession(str(float_path), options, providers=["CPUExecutionProvider"])


def quantise_graph(float_path: Path, out_path: Path, scheme: Scheme) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # beside the float graph: the folded graph refers to its external data file by relative name
    folded = Path(float_path).with_name(Path(out_path).stem + ".folded.onnx")
    try:
        fold_constants(float_path, folded)
        quantizer = MatMulNBitsQuantizer(
            onnx.load(str(folded)),
            bits=scheme.bits,
            block_size=scheme.block_size,
            is_symmetric=True,
            accuracy_level=scheme.accuracy_level,
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(out_path), use_external_data_format=False)
    finally:
        folded.unlink(missing_ok=True)


def external_data_files(model_path: Path) -> set[str]:
    """The files a graph keeps its weights in beside model.onnx (graphs over 2 GB), read without
    loading the weights."""
    import onnx

    proto = onnx.load(str(model_path), load_external_data=False)
    names = set()
    for tensor in proto.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                names.add(entry.value)
    return {name for name in names if "/" not in name and "\\" not in name and name != model_path.name}


def check_sequences(onnx_dir: Path, tokenizer) -> list[tuple[int, list[int]]]:
    """(prompt length, prompt + the float graph's greedy continuation) for each check prompt."""
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.runtime.decoder import OnnxCausalLM

    model = OnnxCausalLM.load(onnx_dir, provider="cpu")
    settings = GenerationSettings(
        n=1, max_new_tokens=CONTINUATION_TOKENS, temperature=0.0, repetition_penalty=1.0
    )
    sequences = []
    for conversation in CHECK_CONVERSATIONS:
        text = tokenizer.apply_chat_template(list(conversation), tokenize=False, add_generation_prompt=True)
        ids = tokenizer.encode(text, add_special_tokens=False)
        [completion] = model.generate(ids, settings)
        sequences.append((len(ids), ids + completion.token_ids))
    return sequences


def sequence_logits(model_path: Path, ids: Sequence[int]):
    """Logits at every position of ``ids`` read in one pass with an empty KV cache."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    length = len(ids)
    feeds: dict[str, Any] = {}
    for spec in session.get_inputs():
        if spec.name == "input_ids":
            feeds[spec.name] = np.asarray([ids], dtype=np.int64)
        elif spec.name == "attention_mask":
            feeds[spec.name] = np.ones((1, length), dtype=np.int64)
        elif spec.name == "position_ids":
            feeds[spec.name] = np.arange(length, dtype=np.int64)[None, :]
        elif spec.name == "num_logits_to_keep":  # a fused graph (core/model_store/fuse.py): keep all
            feeds[spec.name] = np.zeros(1, dtype=np.int64)
        elif spec.name == "use_cache_branch":
            feeds[spec.name] = np.zeros(1, dtype=bool)
        elif spec.name.startswith("past_key_values"):
            dtype = np.float16 if "float16" in spec.type else np.float32
            feeds[spec.name] = np.zeros((1, spec.shape[1], 0, spec.shape[3]), dtype=dtype)
    return session.run(["logits"], feeds)[0][0].astype(np.float64)


def compare_graphs(float_path: Path, quantised_path: Path, sequences) -> dict[str, float]:
    """Top-1 agreement, top-k containment and KL(float || quantised) over the continuations."""
    import numpy as np

    top1, top_k, divergences = [], [], []
    for prompt_length, ids in sequences:
        # The logits at position i predict token i + 1: score the positions that chose a continuation.
        span = slice(prompt_length - 1, len(ids) - 1)
        reference = sequence_logits(float_path, ids)[span]
        quantised = sequence_logits(quantised_path, ids)[span]
        picks = quantised.argmax(-1)
        top1.extend(picks == reference.argmax(-1))
        best = np.argsort(-reference, axis=-1)[:, :TOP_K]
        top_k.extend((best == picks[:, None]).any(-1))
        log_p = reference - np.logaddexp.reduce(reference, axis=-1, keepdims=True)
        log_q = quantised - np.logaddexp.reduce(quantised, axis=-1, keepdims=True)
        divergences.extend((np.exp(log_p) * (log_p - log_q)).sum(-1))
    return {
        "top1": float(np.mean(top1)),
        "top_k": float(np.mean(top_k)),
        "kl_median": float(np.median(divergences)),
        "positions": len(top1),
    }


def judge(precision: str, figures: dict[str, float]) -> None:
    scheme = SCHEMES[precision]
    if (
        figures["top1"] < scheme.min_top1
        or figures["top_k"] < scheme.min_top_k
        or figures["kl_median"] > scheme.max_kl_median
    ):
        raise QuantisationRejected(
            f"{precision} weights changed the model's choices too much: its pick matches the float "
            f"model's at {figures['top1']:.0%} of {figures['positions']} positions (needs "
            f"{scheme.min_top1:.0%}), is in the float model's top {TOP_K} at {figures['top_k']:.0%} "
            f"(needs {scheme.min_top_k:.0%}), median KL {figures['kl_median']:.3g} nats (at most "
            f"{scheme.max_kl_median:.3g}); build it with --precision fp32."
        )


def quantise_model(onnx_dir: Path, tokenizer, precision: str) -> dict[str, float]:
    """Replace ``onnx_dir/model.onnx`` with its ``precision`` version if it passes the check.

    Returns the check's figures for the manifest; raises QuantisationRejected (the float graph is
    left in place) when the quantised graph strays too far.
    """
    scheme = SCHEMES[precision]
    float_path = onnx_dir / "model.onnx"
    quantised_path = onnx_dir / f"model.{precision}.onnx"
    try:
        quantise_graph(float_path, quantised_path, scheme)
        figures = compare_graphs(float_path, quantised_path, check_sequences(onnx_dir, tokenizer))
        judge(precision, figures)
    except BaseException:
        quantised_path.unlink(missing_ok=True)
        raise
    stale = external_data_files(float_path)
    os.replace(quantised_path, float_path)
    for name in stale:  # the float weights of a graph over 2 GB; the quantised one holds its own
        (onnx_dir / name).unlink(missing_ok=True)
    return {
        f"{precision}_block_size": scheme.block_size,
        f"{precision}_next_token_agreement": figures["top1"],
        f"{precision}_in_float_top{TOP_K}": figures["top_k"],
        f"{precision}_kl_median": figures["kl_median"],
        f"{precision}_check_positions": figures["positions"],
    }
