"""Build one model folder: load (GGUF or Hugging Face), fix the tokenizer, export to ONNX, check.

This module imports torch, transformers and optimum, so it runs only in a child process started by
``model_store.store`` (``python -m adcopy_desktop.core.model_store.builder``). It reports progress
and errors as JSON lines on stdout; the parent turns them into ProgressEvents and ModelErrors.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from adcopy_desktop.core.model_store.quantize import SCHEMES, QuantisationRejected, quantise_model

EMBEDDINGS_FOLDER = "embeddings"
RUNTIME_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "config.json",
    "generation_config.json",
)
CHINESE_PROBE = "这款白色牛仔外套版型宽松，面料柔软透气，日常通勤和周末出游都很百搭。"
# Byte-level tokenizers without Chinese merges spend more than one token per Han character.
CHINESE_CHARS_PER_TOKEN_MIN = 1.0


def emit(kind: str, **fields: Any) -> None:
    print(json.dumps({"event": kind, **fields}, ensure_ascii=False), flush=True)


class MemoryWatch:
    """Peak resident memory of this process per build stage, sampled by a thread (for the manifest
    and docs/benchmarks.md: the build must fit a merchant's machine)."""

    def __init__(self, interval: float = 0.1):
        import threading

        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stage = "start"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def sample(self) -> None:
        rss = self._process.memory_info().rss / 1e6
        if rss > self.peaks.get(self._stage, 0.0):
            self.peaks[self._stage] = round(rss, 1)

    def stage(self, name: str) -> None:
        self.sample()
        self._stage = name

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(timeout=1)
        self.sample()
        return {**self.peaks, "peak": max(self.peaks.values(), default=0.0)}


_watch: MemoryWatch | None = None


def progress(stage: str, message: str, fraction: float | None = None) -> None:
    if _watch is not None:
        _watch.stage(stage)
    emit("progress", stage=stage, message=message, fraction=fraction)


class BuildFailure(Exception):
    """An expected failure: the message is shown to the user as it is."""


def load_pretrained(kind: str, source: Path, dtype=None):
    """Tokenizer and model (float32 unless ``dtype`` says otherwise, e.g. ``torch.bfloat16``)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if kind in ("gguf", "default"):
        folder, extra = str(source.parent), {"gguf_file": source.name}
    else:
        folder, extra = str(source), {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **extra)
        if extra:
            model = load_gguf_model(source, dtype or torch.float32)
        else:
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise BuildFailure(f"transformers could not load {source}: {exc}") from exc
    model.eval()
    return tokenizer, model


def load_gguf_model(source: Path, dtype):
    """A GGUF file's model in ``dtype``, one tensor at a time.

    transformers dequantises every tensor of a GGUF into one float32 state dict before it fills the
    model: for the 0.5B default that dict (2 GB) sits beside the model, 4.2 GB at peak for a
    bfloat16 load. Here the model is allocated once, uninitialised, and each tensor is dequantised,
    renamed as transformers does (the same tensor processors) and copied in before the next one is
    read (large ones in blocks of rows), so the peak is little more than the model."""
    import numpy as np
    import torch
    from gguf import GGUFReader, dequantize
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import (
        TENSOR_PROCESSORS, TensorProcessor, get_gguf_hf_weights_map, load_gguf_checkpoint,
    )
    from transformers.modeling_utils import no_init_weights

    config = AutoConfig.from_pretrained(str(source.parent), gguf_file=source.name)
    with no_init_weights():
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    parsed = load_gguf_checkpoint(str(source))  # metadata only: the processors read its config
    mapping = get_gguf_hf_weights_map(model)
    processor = TENSOR_PROCESSORS.get(config.model_type, TensorProcessor)(config=parsed.get("config", {}))
    targets = dict(model.named_parameters())
    targets.update(model.named_buffers())
    unfilled = {name for name, _ in model.named_parameters()}
    reader = GGUFReader(str(source))
    with torch.no_grad():
        for tensor in reader.tensors:
            name = _fill_from_gguf(tensor, processor, mapping, parsed, targets, dequantize)
            unfilled.discard(name)
            _drop_mapped_pages(reader.data)
    model.tie_weights()
    if getattr(config, "tie_word_embeddings", False):
        unfilled.discard("lm_head.weight")
    if unfilled:
        raise ValueError(f"the GGUF file holds no values for {len(unfilled)} of the model's weights "
                         f"(e.g. {sorted(unfilled)[0]})")
    return model


GGUF_ROWS_PER_READ = 8192  # rows of a large tensor dequantised at once (the embedding: 30 MB in float32)


def _fill_from_gguf(tensor, processor, mapping, parsed, targets, dequantize) -> str | None:
    """Dequantise one GGUF tensor into the model's parameter of the same name; which one, or None.
    A large tensor that the processor passes through unchanged (embeddings, the output layer) is
    read in blocks of rows, so its float32 copy never exists whole."""
    import numpy as np
    import torch

    def processed(data):
        return processor.process(weights=dequantize(data, tensor.tensor_type), name=tensor.name,
                                 tensor_key_mapping=mapping, parsed_parameters=parsed)

    rows = tensor.data.shape[0] if tensor.data.ndim == 2 else 0
    first = processed(tensor.data[:GGUF_ROWS_PER_READ] if rows > GGUF_ROWS_PER_READ else tensor.data)
    name = mapping.get(first.name)
    if name is None or name not in targets:
        return None
    target = targets[name]
    blocks = rows > GGUF_ROWS_PER_READ and first.name == tensor.name and first.weights.shape[0] == GGUF_ROWS_PER_READ
    if not blocks:
        if rows > GGUF_ROWS_PER_READ:
            first = processed(tensor.data)  # the processor reshapes it: it needs the whole tensor
        parts = [(0, first.weights)]
    else:
        step = GGUF_ROWS_PER_READ
        parts = ((start, first.weights if start == 0 else processed(tensor.data[start:start + step]).weights)
                 for start in range(0, rows, step))
    filled = 0
    for start, weights in parts:
        weights = np.asarray(weights)
        if not weights.flags.writeable:  # a float32 tensor is a view of the read-only mapped file
            weights = weights.copy()
        values = torch.from_numpy(weights)
        if not blocks and tuple(values.shape) != tuple(target.shape):
            raise ValueError(f"tensor {tensor.name} has shape {tuple(values.shape)}, the model's {name} "
                             f"{tuple(target.shape)}")
        if blocks and tuple(values.shape[1:]) != tuple(target.shape[1:]):
            raise ValueError(f"tensor {tensor.name} has rows of {tuple(values.shape[1:])}, the model's {name} "
                             f"{tuple(target.shape[1:])}")
        target[start:start + values.shape[0]].copy_(values)
        filled += values.shape[0]
    if filled != target.shape[0]:
        raise ValueError(f"tensor {tensor.name} has {filled} rows, the model's {name} {target.shape[0]}")
    return name


def _drop_mapped_pages(data) -> None:
    """Let the kernel drop the pages of the mapped GGUF file read so far: they are counted in the
    process's memory until then, and each tensor is read once."""
    import mmap

    mapping = getattr(data, "_mmap", None)
    if mapping is not None and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mapping.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


def fix_special_tokens(tokenizer, model) -> list[str]:
    """Make eos/pad mean the chat end-of-turn token, as the model was trained.

    GGUF conversion in transformers 4.57 leaves SmolLM2 with eos=<|im_start|> and no pad; a chat
    model must stop at <|im_end|>.
    """
    fixes = []
    vocab = tokenizer.get_vocab()
    template = tokenizer.chat_template or ""
    end_of_turn = "<|im_end|>" if "<|im_end|>" in vocab and "<|im_end|>" in template else None
    if end_of_turn and tokenizer.eos_token != end_of_turn:
        fixes.append(f"eos {tokenizer.eos_token!r} -> {end_of_turn!r}")
        tokenizer.eos_token = end_of_turn
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
        fixes.append(f"pad None -> {tokenizer.pad_token!r}")
    eos_id = tokenizer.convert_tokens_to_ids(tokenizer.eos_token)
    pad_id = tokenizer.convert_tokens_to_ids(tokenizer.pad_token)
    model.config.eos_token_id = eos_id
    model.config.pad_token_id = pad_id
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = pad_id
    return fixes


def normalise_byte_level_tokenizer(tokenizer) -> list[str]:
    """Give a byte-level BPE tokenizer a plain byte-level decoder and no BOS post-processor.

    The GGUF converter writes a Llama-style decoder (byte fallback, '▁') and a post-processor that
    prepends BOS, which doubles BOS after a chat template and confuses other tokenizer readers.
    """
    from tokenizers import decoders, pre_tokenizers, processors

    backend = tokenizer.backend_tokenizer
    if not isinstance(backend.pre_tokenizer, pre_tokenizers.ByteLevel):
        return []
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    return ["byte-level decoder and post-processor"]


def detect_languages(tokenizer, model_type: str, kind: str) -> list[str]:
    if kind == "default":
        return ["en"]  # measured: SmolLM2-135M writes English only
    ids = tokenizer.encode(CHINESE_PROBE, add_special_tokens=False)
    chars_per_token = len(CHINESE_PROBE) / max(1, len(ids))
    return ["zh", "en"] if chars_per_token >= CHINESE_CHARS_PER_TOKEN_MIN else ["en"]


def save_embedding_table(model, folder: Path) -> None:
    """The input embeddings alone, in bfloat16 (a quarter of a 0.5B model's float weights): the
    learned quality scorer's features (core/quality_model.py) when hf/ is left out."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    table = model.get_input_embeddings().weight.detach().to(torch.bfloat16).contiguous()
    save_file({"model.embed_tokens.weight": table}, str(folder / "model.safetensors"))


def export_onnx(model, out_dir: Path) -> None:
    from optimum.exporters.onnx import onnx_export_from_model

    onnx_export_from_model(
        model, out_dir, task="text-generation-with-past", do_validation=False, monolith=False
    )


def check_prompt_ids(tokenizer) -> list[int]:
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Write a short title for a white denim jacket."}],
        tokenize=False,
        add_generation_prompt=True,
    )
    return tokenizer.encode(text, add_special_tokens=False)


def onnx_prompt_logits(model_path: Path, ids: list[int], initializers: dict[str, Any] | None = None):
    """Logits of every position of ``ids``; ``initializers`` replace the graph's weights by name
    (an adapter applied to a base graph, ``core/runtime/lora.py``)."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    values = []  # the session reads these buffers: keep them alive while it runs
    for name, array in (initializers or {}).items():
        values.append(ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array)))
        options.add_initializer(name, values[-1])
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    feeds: dict[str, Any] = {}
    length = len(ids)
    for spec in session.get_inputs():
        if spec.name == "input_ids":
            feeds[spec.name] = np.array([ids], dtype=np.int64)
        elif spec.name == "attention_mask":
            feeds[spec.name] = np.ones((1, length), dtype=np.int64)
        elif spec.name == "position_ids":
            feeds[spec.name] = np.arange(length, dtype=np.int64)[None, :]
        elif spec.name == "num_logits_to_keep":  # a fused graph (core/model_store/fuse.py): keep all
            feeds[spec.name] = np.zeros(1, dtype=np.int64)
        elif spec.name.startswith("past_key_values"):
            heads, head_dim = spec.shape[1], spec.shape[3]
            dtype = np.float16 if "float16" in spec.type else np.float32
            feeds[spec.name] = np.zeros((1, heads, 0, head_dim), dtype=dtype)
    return session.run(["logits"], feeds)[0][0].astype(np.float32)


def check_export(model, tokenizer, onnx_dir: Path) -> dict[str, float]:
    """Compare ONNX and PyTorch next-token choices on a real prompt: Optimum's own check is no gate."""
    import numpy as np
    import torch

    ids = check_prompt_ids(tokenizer)
    with torch.no_grad():
        reference = model(torch.tensor([ids])).logits[0].numpy()
    logits = onnx_prompt_logits(onnx_dir / "model.onnx", ids)
    agreement = float((logits.argmax(-1) == reference.argmax(-1)).mean())
    max_diff = float(np.abs(logits - reference).max())
    if agreement < 0.95 or logits[-1].argmax() != reference[-1].argmax():
        raise BuildFailure(
            f"The ONNX export disagrees with the original model (next-token agreement "
            f"{agreement:.0%}, max logit difference {max_diff:.3g}); the model was not installed."
        )
    return {"next_token_agreement": agreement, "max_logit_diff": max_diff, "prompt_tokens": len(ids)}


def quantize_weights(onnx_dir: Path, tokenizer, precision: str) -> dict[str, float]:
    """Replace model.onnx with its ``precision`` weights (core/model_store/quantize.py), checked
    against the float graph; a failed check keeps the float graph and fails the build."""
    try:
        return quantise_model(onnx_dir, tokenizer, precision)
    except QuantisationRejected as exc:
        raise BuildFailure(str(exc)) from None


def build(kind: str, source: Path, out: Path, model_id: str, name: str, precision: str = "fp32",
          keep_weights: bool = True, graph: str = "fused") -> dict[str, Any]:
    """``keep_weights`` False: no hf/ copy of the float weights (2 GB for a 0.5B model), for sources
    that can give them again (catalog packages), so a base model costs only what generation reads.
    ``graph`` "fused": rewrite the export with fused attention (core/model_store/fuse.py);
    "export": keep Optimum's graph (the reference benchmarks compare against)."""
    started = time.monotonic()
    progress("load", f"Loading {source.name} with transformers", 0.05)
    tokenizer, model = load_pretrained(kind, source)
    model_type = model.config.model_type
    from adcopy_desktop.core.model_store.sources import check_architecture

    try:
        check_architecture(model_type, f"The model {source.name}")
    except Exception as exc:
        raise BuildFailure(str(exc)) from None
    if not tokenizer.chat_template:
        raise BuildFailure(
            f"{source.name} has no chat template: AdCopy needs an instruction-tuned (chat) model. "
            "Import the 'Instruct' or 'Chat' variant of the model."
        )
    fixes = fix_special_tokens(tokenizer, model) + normalise_byte_level_tokenizer(tokenizer)
    if fixes:
        progress("tokenizer", "Fixed tokenizer: " + ", ".join(fixes), 0.3)

    hf_dir = out / "hf"
    if keep_weights:
        progress("save", "Saving safetensors weights", 0.35)
        model.save_pretrained(hf_dir, safe_serialization=True)
    tokenizer.save_pretrained(hf_dir)

    onnx_dir = out / "onnx"
    progress("export", "Exporting to ONNX with Optimum (the longest step)", 0.45)
    export_onnx(model, onnx_dir)
    for file_name in RUNTIME_FILES:
        if (hf_dir / file_name).is_file():
            shutil.copy2(hf_dir / file_name, onnx_dir / file_name)
    if not keep_weights:
        shutil.rmtree(hf_dir)
        save_embedding_table(model, out / EMBEDDINGS_FOLDER)

    progress("check", "Checking the ONNX model against the original", 0.85)
    check = check_export(model, tokenizer, onnx_dir)
    parameters = sum(p.numel() for p in model.parameters())
    context_length = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
    # The float weights are no longer needed: quantising loads the ONNX graph (as large again), so
    # keeping both would double the build's peak memory.
    config = model.config.to_dict()
    del model
    gc.collect()
    if precision != "fp32":
        progress("quantize", f"Quantising weights to {precision} and checking them", 0.9)
        check.update(quantize_weights(onnx_dir, tokenizer, precision))
    graph_figures = {"graph": "export"}
    if graph == "fused":
        from adcopy_desktop.core.model_store.fuse import fuse_model

        progress("fuse", "Fusing attention into one kernel per layer and checking it", 0.95)
        graph_figures = fuse_model(onnx_dir, tokenizer, config)
        if graph_figures.get("fuse_skipped"):
            progress("fuse", f"Kept the export's graph: {graph_figures['fuse_skipped']}", 0.97)
    check.update({key: value for key, value in graph_figures.items() if key != "graph"})
    languages = detect_languages(tokenizer, model_type, kind)
    return {
        "id": model_id,
        "name": name,
        "architecture": model_type,
        "languages": languages,
        "parameters": int(parameters),
        "context_length": context_length,
        "source": {"kind": kind, "path": str(source.resolve())},
        "onnx": "onnx/model.onnx",
        "precision": precision,
        "graph": graph_figures["graph"],
        "weights": "hf" if keep_weights else "source",  # where training finds the float weights
        "export_check": check,
        "tokenizer_fixes": fixes,
        "build_seconds": round(time.monotonic() - started, 1),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=["default", "gguf", "hf"], required=True)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--id", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--precision", choices=["fp32", *SCHEMES], default="fp32")
    parser.add_argument("--no-weights", action="store_true", help="leave out hf/ (the source gives them again)")
    parser.add_argument("--graph", choices=["fused", "export"], default="fused",
                        help="fused attention (the default) or Optimum's graph as exported (a benchmark's reference)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    global _watch
    _watch = MemoryWatch()
    try:
        metadata = build(args.kind, args.source, args.out, args.id, args.name, args.precision,
                         keep_weights=not args.no_weights, graph=args.graph)
        metadata["build_peak_rss_mb"] = _watch.stop()
    except BuildFailure as exc:
        emit("error", message=str(exc))
        return 2
    except MemoryError:
        emit("error", message="Ran out of memory while building the model. Close other programs or import a smaller model.")
        return 3
    except Exception as exc:  # the parent shows this; the traceback goes to the build log
        traceback.print_exc(file=sys.stderr)
        emit("error", message=f"Building the model failed: {type(exc).__name__}: {exc}")
        return 1
    emit("done", metadata=metadata)
    return 0


if __name__ == "__main__":
    sys.exit(main())
