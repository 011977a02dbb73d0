"""The export child: a model's float weights with its LoRA adapter merged in, as a Hugging Face folder.

Runs only as ``python -m adcopy_desktop.core.model_store.exporter`` (torch and transformers are
imported here, never in the app's process); ``core/model_store/export.py`` starts it, reads its JSON
lines (``builder.emit``: progress, error, done) and moves the folder into place.

The weights come from where training takes them (``core/training/trainer.py``): the model's
``hf/`` folder, or a catalog model's GGUF assembled again from its packages. The adapter
(``adapter/adapter.npz``, a chained version's updates already combined) is added in float32, then
the model is saved in the chosen dtype. Before anything is reported done, the saved folder is loaded
again with transformers and its logits on a chat prompt are compared with the ONNX model the app
runs for this version (the base graph with the adapter applied): the export is refused when they
disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from adcopy_desktop.core.model_store.builder import (
    BuildFailure,
    check_prompt_ids,
    emit,
    fix_special_tokens,
    load_pretrained,
    normalise_byte_level_tokenizer,
    onnx_prompt_logits,
)

DTYPES = ("float16", "bfloat16")
# What AdCopy's runtime reads its tokenizer from: copied as they are, so a server tokenises and
# renders the chat template exactly as the app does.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "vocab.json", "merges.txt")
# Next-token agreement with the ONNX version the export must reach: a quantised graph (int8, int4)
# differs from float weights by its rounding, so the bar is lower for it, as in the trainer's check.
MIN_AGREEMENT = {"fp32": 0.98, "int8": 0.9, "int4": 0.8}


def progress(stage: str, message: str, fraction: float | None = None) -> None:
    emit("progress", stage=stage, message=message, fraction=fraction)


def merged_model(weights_kind: str, weights: Path, adapter: Path | None):
    """Tokenizer and float32 model with the adapter's updates added."""
    import torch

    progress("load", f"Loading the float weights from {weights.name}", 0.1)
    tokenizer, model = load_pretrained(weights_kind, weights, dtype=torch.float32)
    if weights_kind == "gguf":
        fix_special_tokens(tokenizer, model)  # as the build did
        normalise_byte_level_tokenizer(tokenizer)
    if adapter is not None:
        from adcopy_desktop.core.runtime.lora import load_adapter

        loaded = load_adapter(adapter)
        progress("merge", f"Merging the LoRA adapter (rank {loaded.rank}, {len(loaded.updates)} layers)", 0.35)
        with torch.no_grad():
            for module_name in loaded.updates:
                try:
                    weight = model.get_submodule(module_name).weight
                except AttributeError:
                    raise BuildFailure(f"The adapter changes {module_name}, which the base weights do not have: "
                                       "it was trained on another model.") from None
                delta = torch.from_numpy(loaded.delta(module_name))
                if tuple(delta.shape) != tuple(weight.shape):
                    raise BuildFailure(f"The adapter's {module_name} is {tuple(delta.shape)}, the base has "
                                       f"{tuple(weight.shape)}: it was trained on another model.")
                weight += delta
    return tokenizer, model


def save_folder(model, tokenizer_source: Path, out: Path, dtype_name: str) -> None:
    import torch

    dtype = getattr(torch, dtype_name)
    progress("save", f"Saving model.safetensors in {dtype_name}", 0.5)
    model = model.to(dtype)
    model.config.torch_dtype = dtype
    model.save_pretrained(out, safe_serialization=True)  # config.json, generation_config.json, weights
    # transformers 4.57 writes "dtype"; servers built on older transformers (TGI, vLLM < 0.10) read
    # "torch_dtype" and would load the weights as float32 without it.
    config_path = out / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.setdefault("torch_dtype", dtype_name)
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name in TOKENIZER_FILES:
        if (tokenizer_source / name).is_file():
            shutil.copy2(tokenizer_source / name, out / name)
    if not (out / "tokenizer.json").is_file():
        raise BuildFailure(f"{tokenizer_source} has no tokenizer.json; verify the model (adcopy models verify).")


def compare_with_onnx(out: Path, onnx_model: Path, adapter: Path | None, precision: str) -> dict[str, Any]:
    """Load the exported folder as a server would and compare its logits with the ONNX version's."""
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress("check", "Loading the exported folder with transformers", 0.7)
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    model = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32).eval()
    ids = check_prompt_ids(tokenizer)
    with torch.no_grad():
        exported = model(torch.tensor([ids])).logits[0].float().numpy()
    del model
    progress("check", "Comparing its logits with the ONNX model AdCopy runs", 0.85)
    overrides = None
    if adapter is not None:
        from adcopy_desktop.core.runtime.lora import adapted_initializers, load_adapter

        overrides = adapted_initializers(onnx_model, load_adapter(adapter))
    reference = onnx_prompt_logits(onnx_model, ids, overrides)
    if reference.shape != exported.shape:
        raise BuildFailure(f"The exported model gives logits of shape {exported.shape}, the ONNX model "
                           f"{reference.shape}: the weights do not belong to this model.")
    agreement = float((exported.argmax(-1) == reference.argmax(-1)).mean())
    max_diff = float(np.abs(exported - reference).max())
    spread = float(reference.max() - reference.min()) or 1.0
    wanted = MIN_AGREEMENT.get(precision, 0.9)
    check = {"prompt_tokens": len(ids), "next_token_agreement": round(agreement, 4),
             "max_logit_diff": round(max_diff, 5), "relative_max_diff": round(max_diff / spread, 5),
             "onnx_precision": precision, "required_agreement": wanted,
             "last_token_same": bool(exported[-1].argmax() == reference[-1].argmax())}
    if agreement < wanted or not check["last_token_same"]:
        raise BuildFailure(f"The exported weights do not reproduce the ONNX model (next-token agreement "
                           f"{agreement:.0%}, needed {wanted:.0%}; largest logit difference {max_diff:.3g}); "
                           "nothing was exported. Verify the model (adcopy models verify --full) and try again.")
    return check


def export(args) -> dict[str, Any]:
    started = time.monotonic()
    adapter = Path(args.adapter) if args.adapter else None
    tokenizer, model = merged_model(args.weights_kind, Path(args.weights), adapter)
    parameters = sum(p.numel() for p in model.parameters())
    save_folder(model, Path(args.tokenizer), Path(args.out), args.dtype)
    del model
    check = compare_with_onnx(Path(args.out), Path(args.onnx), adapter, args.precision)
    return {"parameters": int(parameters), "check": check, "seconds": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights-kind", choices=["hf", "gguf"], required=True)
    parser.add_argument("--weights", required=True, help="the hf/ folder or the assembled GGUF file")
    parser.add_argument("--adapter", help="the version's adapter/ folder")
    parser.add_argument("--onnx", required=True, help="the model.onnx the app runs (the base's, for an adapter)")
    parser.add_argument("--precision", default="fp32", help="that graph's weights: fp32, int8 or int4")
    parser.add_argument("--tokenizer", required=True, help="the folder with the runtime's tokenizer files")
    parser.add_argument("--out", required=True)
    parser.add_argument("--dtype", choices=DTYPES, default="float16")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        metadata = export(args)
    except BuildFailure as exc:
        emit("error", message=str(exc))
        return 2
    except MemoryError:
        emit("error", message="Ran out of memory while exporting. Close other programs and try again.")
        return 3
    except OSError as exc:
        traceback.print_exc(file=sys.stderr)
        if exc.errno == 28:  # ENOSPC
            emit("error", message=f"The disk is full ({exc}). Free some space or choose another --out folder.")
            return 4
        emit("error", message=f"Exporting failed: {exc}")
        return 1
    except Exception as exc:  # the parent shows this; the traceback goes to the export log
        traceback.print_exc(file=sys.stderr)
        if "no space left" in str(exc).lower():  # safetensors and torch wrap ENOSPC in their own errors
            emit("error", message=f"The disk is full ({exc}). Free some space or choose another --out folder.")
            return 4
        emit("error", message=f"Exporting failed: {type(exc).__name__}: {exc}")
        return 1
    emit("done", metadata=metadata)
    return 0


if __name__ == "__main__":
    sys.exit(main())
