"""Child process: greedy copy from one ONNX model for the gate's held-out prompts.

Run as ``python -m adcopy_desktop.core.training.heldout --folder ONNX_FOLDER --data FILE.json``.
Loading a model parses its tokenizer while holding the GIL, and the gate needs two models; doing it
here keeps the app's window responsive and its memory flat while a training run ends.
Prints JSON lines: ``{"event": "progress", "done": N}`` per prompt, then ``{"event": "done",
"outputs": [...]}``, or ``{"event": "error", "message": ...}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}, ensure_ascii=False), flush=True)


def write_outputs(folder: Path, data: dict[str, Any], adapter: Path | None = None) -> list[str]:
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.generation import clean_candidate_text
    from adcopy_desktop.core.prompts import parse_copy_kind
    from adcopy_desktop.core.runtime import OnnxCausalLM

    model = OnnxCausalLM.load(folder, provider="cpu", threads=data.get("threads"), adapter=adapter)
    tokenizer = model.tokenizer
    outputs = []
    for number, example in enumerate(data["examples"], start=1):
        ids = tokenizer.encode(tokenizer.apply_chat_template(example["messages"], add_generation_prompt=True))
        budget = min(int(data["max_new_tokens"]),
                     max(16, int(tokenizer.count_tokens(example["completion"]) * 1.5) + 8))
        settings = GenerationSettings(n=1, temperature=0.0, seed=0, max_new_tokens=budget)
        [completion] = model.generate(ids, settings)
        outputs.append(clean_candidate_text(parse_copy_kind(example["kind"]), completion.text))
        emit("progress", done=number)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, required=True, help="the model's ONNX runtime folder")
    parser.add_argument("--data", type=Path, required=True, help="JSON: examples, max_new_tokens, threads")
    parser.add_argument("--adapter", type=Path, help="a LoRA version's adapter folder, applied to --folder's model")
    args = parser.parse_args(argv)
    try:
        outputs = write_outputs(args.folder, json.loads(args.data.read_text(encoding="utf-8")), args.adapter)
    except MemoryError:
        emit("error", message="Ran out of memory while generating the held-out copy.")
        return 3
    except Exception as exc:  # the parent shows this; the traceback goes to its log
        traceback.print_exc(file=sys.stderr)
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    emit("done", outputs=outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
