"""Cold start: from launching a fresh process to the first token of copy, beside llama.cpp.

    .venv/bin/python benchmarks/cold_start.py [--model ID] [--runs 5] [--gguf FILE]

Each run starts a new ``adcopy generate --format jsonl`` (greedy, one candidate, 8 new tokens)
and times, from the moment the process is launched, the first streamed token event it prints.
The model's files are in the OS page cache after the first run (as on a user's second start);
the first run is reported apart. llama.cpp gets the same: a fresh Python process that imports
llama_cpp, loads the GGUF the model was built from and streams its first token, on the same
chat prompt. The medians go side by side with their ratio; docs/benchmarks.md has a run's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PRODUCT = "类型#上衣*材质#牛仔布*颜色#白色*风格#简约"
LLAMA_CHILD = r"""
import sys, time
started = float(sys.argv[3])
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=4096, n_threads=int(sys.argv[2]), verbose=False)
ids = [int(i) for i in sys.stdin.read().split(",")]
for token in llm.generate(ids, temp=0.0):
    print(time.time() - started, flush=True)
    break
"""


def time_adcopy(model: str | None) -> float:
    """Seconds from launching ``adcopy generate`` to its first token event (threads: its settings',
    the physical cores by default)."""
    command = [sys.executable, "-m", "adcopy_desktop", "generate", "--product", PRODUCT, "-n", "1",
               "--temperature", "0", "--max-new-tokens", "8", "--format", "jsonl", "--lang", "zh"]
    if model:
        command += ["--model", model]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            event = json.loads(line)
            if event.get("event") == "token":
                return time.perf_counter() - started
    finally:
        process.kill()
        process.wait()
    raise RuntimeError(f"adcopy generate printed no token: {process.stderr.read()[-1000:]}")


def time_llama(gguf: Path, prompt_ids: list[int], threads: int) -> float:
    started = time.time()
    result = subprocess.run([sys.executable, "-c", LLAMA_CHILD, str(gguf), str(threads), str(started)],
                            input=",".join(map(str, prompt_ids)), capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"the llama.cpp child failed: {result.stderr[-1000:]}")
    return float(result.stdout.split()[0])


def chat_prompt_ids(onnx_folder: Path) -> list[int]:
    """The ids of the chat prompt adcopy builds for PRODUCT, so llama.cpp prefills the same tokens."""
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyRequest, build_messages
    from adcopy_desktop.core.runtime.tokenizer import ChatTokenizer

    tokenizer = ChatTokenizer.from_folder(onnx_folder)
    messages = build_messages(CopyRequest(product=parse_product(PRODUCT), kind="description", language="zh"),
                              tokenizer.special_token_strings)
    return tokenizer.encode(tokenizer.apply_chat_template(messages))


def summary(values: list[float]) -> dict[str, float]:
    return {"first_s": round(values[0], 3), "median_s": round(statistics.median(values[1:] or values), 3),
            "runs": len(values)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model id (default: the active model)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gguf", type=Path, help="GGUF for llama.cpp (default: the catalog model's own)")
    parser.add_argument("--threads", type=int, default=psutil.cpu_count(logical=False) or os.cpu_count() or 1,
                        help="llama.cpp's threads (default: the physical cores, as adcopy's default)")
    args = parser.parse_args(argv)

    from adcopy_desktop.bench.runner import catalog_gguf, module_present
    from adcopy_desktop.core.model_store import ModelStore

    store = ModelStore()
    info = store.get(args.model) if args.model else store.active_model()
    report: dict[str, object] = {"model": info.id, "threads": args.threads}
    report["adcopy"] = summary([time_adcopy(args.model) for _ in range(args.runs)])
    with tempfile.TemporaryDirectory(prefix="adcopy-cold-") as work:
        gguf = args.gguf or (catalog_gguf(info.id, Path(work)) if module_present("llama_cpp") else None)
        if gguf is not None:
            ids = chat_prompt_ids(info.runtime_folder)
            report["prompt_tokens"] = len(ids)
            report["llamacpp"] = summary([time_llama(gguf, ids, args.threads) for _ in range(args.runs)])
            report["ratio_median"] = round(report["llamacpp"]["median_s"] / report["adcopy"]["median_s"], 2)
        else:
            report["llamacpp"] = "not run (llama-cpp-python missing or no GGUF for this model)"
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
