"""One runtime's side of ``adcopy bench``, run in its own process so its peak RSS is its own.

``python -m adcopy_desktop.bench.peers --runtime onnx|transformers|llamacpp ...`` loads one model,
warms it up, then times a single greedy stream, an N-candidate batch and (with ``--prefill-ids``)
the first token of a long prompt ``--repeats`` times (or, with ``--driven``, whenever the parent
asks on stdin) and prints one line: RESULT_PREFIX followed by JSON. Every runtime gets the same prompt token ids and
produces exactly ``--tokens`` new tokens per candidate (end-of-sequence is ignored), so the work is
the same and the figures compare like with like. Runs during which other programs took a noticeable
share of the CPU are timed again and left out of the medians when undisturbed runs remain.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO, TypeVar

if TYPE_CHECKING:
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.runtime import TokenEvent

READY_PREFIX = "ADCOPY_BENCH_READY "
RUN_PREFIX = "ADCOPY_BENCH_RUN "
RESULT_PREFIX = "ADCOPY_BENCH_RESULT "
RUNTIMES = ("onnx", "transformers", "llamacpp", "genai")
WARMUP_TOKENS = 8
# A timed run during which other processes used more than this share of all CPUs is left out of
# the medians (when quiet runs remain): on a small machine one busy neighbour halves the speed.
QUIET_SHARE = 0.10
# Disturbed runs are timed again, up to this many times the requested repeats in all.
RETRY_FACTOR = 3


@dataclass
class StreamRun:
    """One single-candidate generation, timed from the call to the last new token."""

    tokens: int
    first_token_s: float
    elapsed_s: float
    others_cpu: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class BatchRun:
    """All candidates of one request, timed from the call to the end of the last candidate."""

    tokens: int
    elapsed_s: float
    others_cpu: float = 0.0


@dataclass
class PrefillRun:
    """A long prompt read to its first new token: the prompt pass dominates, as for a user's
    long spec sheet or a brand style guide in the prompt."""

    prompt_tokens: int
    elapsed_s: float
    others_cpu: float = 0.0


@dataclass
class PeerResult:
    runtime: str
    load_s: float
    import_s: float
    peak_rss_mb: float
    rss_mb: float
    new_tokens: int
    batch_tokens: int
    tokens_per_s: float
    first_token_ms: float
    batch_s: float
    contended_runs: int
    timed_runs: int
    prefill_tokens: int = 0
    prefill_tokens_per_s: float = 0.0
    prefill_ms: float = 0.0
    runs: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Peer:
    """A loaded model that can run one stream and one batch of ``new_tokens`` each."""

    notes: list[str]

    def stream(self, prompt_ids: list[int], new_tokens: int) -> StreamRun:
        raise NotImplementedError

    def batch(self, prompt_ids: list[int], new_tokens: int, rows: int) -> BatchRun:
        raise NotImplementedError


def peak_rss_mb() -> float:
    """Highest resident memory of this process so far (model load included: the user pays it)."""
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def rss_mb() -> float:
    """Resident memory now, after the runs: what the loaded model keeps while the app is open."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class OnnxPeer(Peer):
    """This app's runtime, called the way the app calls it."""

    def __init__(self, folder: Path, threads: int) -> None:
        from adcopy_desktop.core.runtime import OnnxCausalLM

        self.model = OnnxCausalLM.load(folder, provider="cpu", threads=threads)
        # The runtime has no ignore-EOS switch; an empty set makes it run to max_new_tokens,
        # as min_new_tokens does for transformers.
        self.model.tokenizer.eos_token_ids = set()
        # Every run is timed with the same prompt: the prefix cache would serve all of it, so it
        # is off, as llama.cpp's is (reset()): every runtime pays the prompt on every request.
        self.model.prefix_cache = None
        graph = "fused attention graph" if self.model.fused else "Optimum's graph"
        self.notes = [f"provider {self.model.provider}", graph]

    def _settings(self, new_tokens: int, rows: int) -> GenerationSettings:
        from adcopy_desktop.core.candidates import GenerationSettings

        return GenerationSettings(
            n=rows, max_new_tokens=new_tokens, temperature=0.0, top_k=0, top_p=1.0, repetition_penalty=1.0
        )

    def stream(self, prompt_ids: list[int], new_tokens: int) -> StreamRun:
        first: float | None = None
        tokens = 0
        started = time.perf_counter()
        for event in self.model.stream(prompt_ids, self._settings(new_tokens, 1)):
            if event.token_id >= 0:
                tokens += 1
                if first is None:
                    first = time.perf_counter()
        end = time.perf_counter()
        return StreamRun(tokens, (first or end) - started, end - started)

    def batch(self, prompt_ids: list[int], new_tokens: int, rows: int) -> BatchRun:
        tokens = 0

        def count(event: TokenEvent) -> None:
            nonlocal tokens
            tokens += event.token_id >= 0

        started = time.perf_counter()
        self.model.generate(prompt_ids, self._settings(new_tokens, rows), on_token=count)
        return BatchRun(tokens, time.perf_counter() - started)


class TransformersPeer(Peer):
    """transformers in float32 with eager attention: the reference a Python user would reach for."""

    def __init__(self, folder: Path, threads: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = AutoModelForCausalLM.from_pretrained(
            folder, torch_dtype=torch.float32, attn_implementation="eager"
        )
        self.model.eval()
        config = self.model.generation_config
        self.pad_id = config.pad_token_id if config.pad_token_id is not None else config.eos_token_id
        self.notes = [f"torch {torch.__version__}, float32, eager attention"]

    def _generate(self, prompt_ids: list[int], new_tokens: int, rows: int, streamer=None) -> int:
        torch = self.torch
        input_ids = torch.tensor([prompt_ids] * rows, dtype=torch.long)
        with torch.inference_mode():
            output = self.model.generate(
                input_ids,
                attention_mask=torch.ones_like(input_ids),
                do_sample=False,
                num_beams=1,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
                use_cache=True,
                pad_token_id=self.pad_id,
                streamer=streamer,
            )
        return (output.shape[1] - len(prompt_ids)) * rows

    def stream(self, prompt_ids: list[int], new_tokens: int) -> StreamRun:
        from transformers.generation.streamers import BaseStreamer

        class FirstTokenClock(BaseStreamer):
            """generate() puts the prompt first, then each new token."""

            def __init__(self) -> None:
                self.puts = 0
                self.first: float | None = None

            def put(self, value) -> None:
                self.puts += 1
                if self.puts == 2:
                    self.first = time.perf_counter()

            def end(self) -> None:
                pass

        clock = FirstTokenClock()
        started = time.perf_counter()
        tokens = self._generate(prompt_ids, new_tokens, 1, clock)
        end = time.perf_counter()
        return StreamRun(tokens, (clock.first or end) - started, end - started)

    def batch(self, prompt_ids: list[int], new_tokens: int, rows: int) -> BatchRun:
        started = time.perf_counter()
        tokens = self._generate(prompt_ids, new_tokens, rows)
        return BatchRun(tokens, time.perf_counter() - started)


class LlamaCppPeer(Peer):
    """llama.cpp on the GGUF the default model is built from; it has no batched sampling API."""

    def __init__(self, gguf: Path, threads: int, context: int) -> None:
        from llama_cpp import Llama, __version__

        self.llm = Llama(
            model_path=str(gguf), n_ctx=context, n_threads=threads, n_threads_batch=threads, verbose=False
        )
        self.notes = [f"llama-cpp-python {__version__}, {gguf.name}", "batch = candidates one after another"]

    def stream(self, prompt_ids: list[int], new_tokens: int) -> StreamRun:
        # reset() forgets the previous run, so the prompt is evaluated again instead of reused from
        # llama.cpp's prefix cache: every runtime pays the prompt on every request.
        self.llm.reset()
        first: float | None = None
        tokens = 0
        started = time.perf_counter()
        for _ in self.llm.generate(
            prompt_ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True
        ):
            tokens += 1
            if first is None:
                first = time.perf_counter()
            if tokens >= new_tokens:
                break
        end = time.perf_counter()
        return StreamRun(tokens, (first or end) - started, end - started)

    def batch(self, prompt_ids: list[int], new_tokens: int, rows: int) -> BatchRun:
        started = time.perf_counter()
        tokens = sum(self.stream(prompt_ids, new_tokens).tokens for _ in range(rows))
        return BatchRun(tokens, time.perf_counter() - started)


class GenaiPeer(Peer):
    """onnxruntime-genai's C++ generation loop on the app's own fused graph (prepared by the parent
    with a genai_config.json): the same kernels and weights, another loop around them."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime_genai as og

        self.og = og
        self.model = og.Model(str(folder))
        self.notes = [f"onnxruntime-genai {og.__version__}, the app's fused graph",
                      "prompt pass computes logits at every position (genai reads them all)"]

    def _generator(self, prompt_ids: list[int], new_tokens: int, rows: int):
        import numpy as np

        params = self.og.GeneratorParams(self.model)
        total = len(prompt_ids) + new_tokens
        # min_length = max_length: end-of-sequence cannot stop a run early, as for the others
        params.set_search_options(max_length=total, min_length=total, do_sample=False, batch_size=rows)
        generator = self.og.Generator(self.model, params)
        generator.append_tokens(np.array([prompt_ids] * rows, dtype=np.int32))
        return generator

    def stream(self, prompt_ids: list[int], new_tokens: int) -> StreamRun:
        first: float | None = None
        tokens = 0
        started = time.perf_counter()
        generator = self._generator(prompt_ids, new_tokens, 1)
        while tokens < new_tokens and not generator.is_done():
            generator.generate_next_token()
            tokens += 1
            if first is None:
                first = time.perf_counter()
        end = time.perf_counter()
        return StreamRun(tokens, (first or end) - started, end - started)

    def batch(self, prompt_ids: list[int], new_tokens: int, rows: int) -> BatchRun:
        started = time.perf_counter()
        generator = self._generator(prompt_ids, new_tokens, rows)
        steps = 0
        while steps < new_tokens and not generator.is_done():
            generator.generate_next_token()
            steps += 1
        return BatchRun(steps * rows, time.perf_counter() - started)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


class OthersCpu:
    """Share of the machine's CPU time that other processes used while the block ran."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._cpus = psutil.cpu_count() or 1
        self.share = 0.0

    def _busy(self) -> float:
        times = self._psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def __enter__(self) -> OthersCpu:
        own = os.times()
        self._start = (time.perf_counter(), self._busy(), own.user + own.system)
        return self

    def __exit__(self, *exc_info: object) -> None:
        wall0, busy0, own0 = self._start
        own = os.times()
        wall = time.perf_counter() - wall0
        others = (self._busy() - busy0) - (own.user + own.system - own0)
        self.share = max(0.0, others / (wall * self._cpus)) if wall > 0 else 0.0


Run = TypeVar("Run", StreamRun, BatchRun, PrefillRun)


def _timed(run: Callable[[], Run]) -> Run:
    with OthersCpu() as others:
        result = run()
    result.others_cpu = others.share
    return result


def _quiet_only(runs: list[Run]) -> list[Run]:
    return [run for run in runs if run.others_cpu <= QUIET_SHARE]


def _quiet(runs: list[Run]) -> list[Run]:
    """The runs no other program disturbed, or all of them when none was quiet."""
    return _quiet_only(runs) or list(runs)


class Session:
    """A loaded peer and the runs timed on it so far; medians come from the undisturbed runs."""

    def __init__(
        self, runtime: str, peer: Peer, prompt_ids: list[int], new_tokens: int, batch: int,
        load_s: float, import_s: float, prefill_ids: list[int] | None = None,
    ) -> None:
        self.runtime = runtime
        self.peer = peer
        self.prompt_ids = prompt_ids
        self.new_tokens = new_tokens
        self.rows = batch
        self.load_s = load_s
        self.import_s = import_s
        self.prefill_ids = prefill_ids or []
        self.streams: list[StreamRun] = []
        self.batches: list[BatchRun] = []
        self.prefills: list[PrefillRun] = []
        peer.stream(prompt_ids, min(WARMUP_TOKENS, new_tokens))
        if self.prefill_ids:  # the long prompt's shapes warmed up too (kernels pick per shape)
            peer.stream(self.prefill_ids, 1)

    def stream(self) -> StreamRun:
        run = _timed(partial(self.peer.stream, self.prompt_ids, self.new_tokens))
        self.streams.append(run)
        return run

    def batch(self) -> BatchRun:
        run = _timed(partial(self.peer.batch, self.prompt_ids, self.new_tokens, self.rows))
        self.batches.append(run)
        return run

    def prefill(self) -> PrefillRun:
        if not self.prefill_ids:
            raise SystemExit("no --prefill-ids given: nothing to prefill")

        def first_token() -> PrefillRun:
            run = self.peer.stream(self.prefill_ids, 1)
            return PrefillRun(len(self.prefill_ids), run.first_token_s)

        run = _timed(first_token)
        self.prefills.append(run)
        return run

    def kinds(self) -> list[str]:
        return ["stream", "batch", *(["prefill"] if self.prefill_ids else [])]

    def needs(self, repeats: int) -> list[str]:
        """Which kinds of run still lack ``repeats`` undisturbed timings."""
        runs = {"stream": self.streams, "batch": self.batches, "prefill": self.prefills}
        return [kind for kind in self.kinds() if len(_quiet_only(runs[kind])) < repeats]

    def result(self) -> PeerResult:
        streams, batches, prefills = self.streams, self.batches, self.prefills
        kept_streams, kept_batches, kept_prefills = _quiet(streams), _quiet(batches), _quiet(prefills)
        return PeerResult(
            runtime=self.runtime,
            load_s=self.load_s,
            import_s=self.import_s,
            peak_rss_mb=peak_rss_mb(),
            rss_mb=rss_mb(),
            new_tokens=min(run.tokens for run in streams),
            batch_tokens=min(run.tokens for run in batches),
            tokens_per_s=_median([run.tokens_per_s for run in kept_streams]),
            first_token_ms=_median([run.first_token_s for run in kept_streams]) * 1000,
            batch_s=_median([run.elapsed_s for run in kept_batches]),
            contended_runs=sum(run.others_cpu > QUIET_SHARE for run in [*streams, *batches, *prefills]),
            timed_runs=len(streams) + len(batches) + len(prefills),
            prefill_tokens=len(self.prefill_ids),
            prefill_tokens_per_s=_rate(len(self.prefill_ids), _median([run.elapsed_s for run in kept_prefills])),
            prefill_ms=_median([run.elapsed_s for run in kept_prefills]) * 1000,
            runs={
                "tokens_per_s": [run.tokens_per_s for run in streams],
                "first_token_ms": [run.first_token_s * 1000 for run in streams],
                "batch_s": [run.elapsed_s for run in batches],
                "stream_others_cpu": [run.others_cpu for run in streams],
                "batch_others_cpu": [run.others_cpu for run in batches],
                "prefill_ms": [run.elapsed_s * 1000 for run in prefills],
                "prefill_others_cpu": [run.others_cpu for run in prefills],
            },
            notes=list(self.peer.notes),
        )


def open_session(args: argparse.Namespace) -> Session:
    """Import the runtime, load the model (timed apart from the import) and warm it up."""
    prompt_ids = [int(token) for token in args.prompt_ids.split(",")]
    prefill_ids = [int(token) for token in args.prefill_ids.split(",")] if args.prefill_ids else []
    import_s = _import_runtime(args.runtime)
    load: Callable[[], Peer]
    if args.runtime == "onnx":
        load = partial(OnnxPeer, Path(args.folder), args.threads)
    elif args.runtime == "transformers":
        load = partial(TransformersPeer, Path(args.folder), args.threads)
    elif args.runtime == "genai":
        load = partial(GenaiPeer, Path(args.folder))  # threads: in its genai_config.json
    else:
        context = max(512, len(prompt_ids) + args.tokens + 16, len(prefill_ids) + 16)
        load = partial(LlamaCppPeer, Path(args.folder), args.threads, context)
    started = time.perf_counter()
    peer = load()
    load_s = time.perf_counter() - started
    return Session(args.runtime, peer, prompt_ids, args.tokens, args.batch, load_s, import_s, prefill_ids)


def run_alone(session: Session, repeats: int) -> PeerResult:
    """Time ``repeats`` streams and batches back to back, taking disturbed runs again.

    Disturbed runs are retried within RETRY_FACTOR x repeats, so a shared machine still yields
    ``repeats`` undisturbed runs when it has quiet moments.
    """
    for _ in range(repeats * RETRY_FACTOR):
        needed = session.needs(repeats)
        if not needed:
            break
        for kind in needed:
            getattr(session, kind)()
    return session.result()


def serve(session: Session, commands: TextIO) -> PeerResult:
    """Run what the parent asks for, one line at a time: "stream", "batch", "prefill", then "done".

    The parent takes turns between runtimes this way, so a slow minute on a shared machine
    lands on all of them instead of on whichever was running then.
    """
    _emit(READY_PREFIX, {"load_s": session.load_s, "import_s": session.import_s})
    for line in commands:
        command = line.strip()
        if command == "done":
            break
        if command not in session.kinds():
            raise SystemExit(f"unknown command {command!r}")
        run = getattr(session, command)()
        _emit(RUN_PREFIX, {"kind": command, "others_cpu": run.others_cpu, "elapsed_s": run.elapsed_s})
    return session.result()


def _emit(prefix: str, data: dict) -> None:
    sys.stdout.write(prefix + json.dumps(data) + "\n")
    sys.stdout.flush()


def _import_runtime(runtime: str) -> float:
    """Import the heavy libraries up front so load_s is the model load alone."""
    started = time.perf_counter()
    if runtime == "onnx":
        import adcopy_desktop.core.runtime  # noqa: F401
    elif runtime == "transformers":
        import torch  # noqa: F401
        import transformers  # noqa: F401
    elif runtime == "genai":
        import onnxruntime_genai  # noqa: F401
    else:
        import llama_cpp  # noqa: F401
    return time.perf_counter() - started


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m adcopy_desktop.bench.peers", description=__doc__.split("\n")[0])
    parser.add_argument("--runtime", choices=RUNTIMES, required=True)
    parser.add_argument("--folder", required=True,
                        help="onnx/ folder, hf/ folder, .gguf file or genai folder, by runtime")
    parser.add_argument("--prompt-ids", required=True, help="comma-separated prompt token ids")
    parser.add_argument("--prefill-ids", default="", help="comma-separated ids of a long prompt whose first "
                        "token is timed too (the prompt pass)")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--driven", action="store_true",
                        help="wait for stream/batch/done lines on stdin instead of timing --repeats runs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parse_args(argv)
    session = open_session(args)
    result = serve(session, sys.stdin) if args.driven else run_alone(session, args.repeats)
    _emit(RESULT_PREFIX, asdict(result))


if __name__ == "__main__":
    main()
