"""Continuous batching: the decode steps of several requests run as one batch.

One request is one prompt and N candidates. It joins the batch as soon as N rows of the shared KV
buffer are free: its prompt is read alone into its own row (reusing a cached prompt start), copied
to its N rows, and from then on its rows step together with every other request's, each row at
its own length (the fused graph's GroupQueryAttention reads each row's length from the attention
mask, so rows of different prompts need no padding in the cache). A candidate that finishes leaves
the batch at once and the next waiting request takes the rows, so a bulk run keeps every step full
instead of trailing off on one product's longest candidate.

Only for fused graphs on CPU (``core/model_store/fuse.py``: past and present share one buffer
written in place); ``OnnxCausalLM`` runs other graphs one request at a time.

Each request keeps its own sampler, seed and stop strings, so its candidates do not depend on
what else is in the batch (beyond the last bits of the matrix products, which batch size may move).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Generator

import numpy as np
import onnxruntime as ort

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.runtime.sampling import TokenSampler

if TYPE_CHECKING:
    from adcopy_desktop.core.runtime.decoder import Completion, OnnxCausalLM, TokenEvent, _Candidate

logger = logging.getLogger("adcopy.runtime")

DEFAULT_ROWS = 8  # when the caller names none: two requests of four candidates
_LENGTH_STEP = 256  # the KV buffer grows in steps of this many positions


class _Request:
    """One caller's request: its candidates, sampler and the queue its events go back on."""

    def __init__(self, prompt: list[int], settings: GenerationSettings, cancel: CancelToken | None,
                 candidates: list["_Candidate"], max_new_tokens: int) -> None:
        self.prompt = prompt
        self.settings = settings
        self.cancel = cancel
        self.candidates = candidates
        self.needed_length = len(prompt) + max_new_tokens
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.started = time.perf_counter()
        self.sampler: TokenSampler | None = None
        self.rows: list[_Row] = []  # unfinished candidates, in the sampler's row order
        self.abandoned = False  # the caller stopped reading (its generator was closed)

    @property
    def stopping(self) -> bool:
        return self.abandoned or (self.cancel is not None and self.cancel.cancelled)

    def now(self) -> float:
        return time.perf_counter() - self.started

    def send(self, kind: str, value: Any) -> None:
        self.events.put((kind, value))

    def finish(self) -> None:
        self.send("done", [candidate.completion(len(self.prompt)) for candidate in self.candidates])


class _Row:
    """One candidate in the batch: where its cache is and how long it is."""

    __slots__ = ("request", "candidate", "slot", "length", "token")

    def __init__(self, request: _Request, candidate: "_Candidate", slot: int, length: int, token: int) -> None:
        self.request = request
        self.candidate = candidate
        self.slot = slot  # row of the KV buffer
        self.length = length  # positions in the cache; the next token goes at this position
        self.token = token  # the last sampled token, fed in the next step


class ContinuousBatcher:
    """Thread-safe front of one fused model: ``stream`` may be called from many threads at once;
    one engine thread runs every prompt and decode step."""

    def __init__(self, model: "OnnxCausalLM", rows: int = DEFAULT_ROWS) -> None:
        if not model.can_batch:
            raise ModelError("Batching several requests needs the fused graph on the CPU; rebuild the model "
                             "(adcopy models build) or generate one request at a time.")
        if rows < 1:
            raise ValueError(f"rows must be at least 1 (got {rows})")
        self.model = model
        self.rows = rows
        signature = model._signature
        self._session: ort.InferenceSession = model._session
        self._names = list(zip(signature.past_names, signature.present_names))
        self._layouts = [signature.empty_past[name] for name in signature.past_names]
        self._has_logits_to_keep = signature.has_logits_to_keep
        self._keep_last = np.ones(1, dtype=np.int64)
        self._buffers: list[np.ndarray] = []
        self._length = 0  # positions each buffer row holds
        self._bindings: dict[tuple[int, int], Any] = {}  # (first row, rows) -> binding and its values
        self._active: list[_Row] = []  # slot i holds _active[i]
        self._waiting: deque[_Request] = deque()
        self._requests: list[_Request] = []  # admitted, not finished
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self.steps = 0  # decode steps run, and rows stepped: batch occupancy in logs and tests
        self.rows_stepped = 0
        self.peak_rows = 0

    # -- callers' side ---------------------------------------------------------------------------
    def stream(self, prompt_ids: list[int], settings: GenerationSettings, cancel: CancelToken | None = None
               ) -> Generator["TokenEvent", None, list["Completion"]]:
        """As ``OnnxCausalLM.stream``: this request's events as they come, its Completions at the end."""
        return self.events(self.submit(prompt_ids, settings, cancel))

    def submit(self, prompt_ids: list[int], settings: GenerationSettings, cancel: CancelToken | None = None
               ) -> _Request:
        """Queue a request without waiting; read it with ``events``. Raises at once for a request
        that can never run (empty prompt, longer than the model reads, more candidates than rows)."""
        request = self._new_request(prompt_ids, settings, cancel)
        with self._lock:
            self._waiting.append(request)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="adcopy-batching", daemon=True)
                self._thread.start()
            self._lock.notify_all()
        return request

    def events(self, request: _Request) -> Generator["TokenEvent", None, list["Completion"]]:
        try:
            while True:
                kind, value = request.events.get()
                if kind == "token":
                    yield value
                elif kind == "done":
                    return value
                else:
                    raise value
        finally:
            request.abandoned = True  # a caller that stops reading frees its rows at the next step
            with self._lock:
                self._lock.notify_all()

    def _new_request(self, prompt_ids: list[int], settings: GenerationSettings, cancel: CancelToken | None
                     ) -> _Request:
        from adcopy_desktop.core.runtime.decoder import _Candidate

        prompt = list(prompt_ids)
        if not prompt:
            raise ValueError("prompt_ids is empty")
        if settings.n > self.rows:
            raise ModelError(f"{settings.n} candidates do not fit a batch of {self.rows} rows; ask for at most "
                             f"{self.rows} or batch with more rows.")
        model = self.model
        max_new_tokens = model._new_token_budget(len(prompt), settings.max_new_tokens)
        stops = tuple(stop for stop in settings.stop if stop)
        eos = model.tokenizer.eos_token_ids
        candidates = [_Candidate(index, model.tokenizer, eos, stops, max_new_tokens) for index in range(settings.n)]
        return _Request(prompt, settings, cancel, candidates, max_new_tokens)

    # -- the engine thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._active:
                    if not self._lock.wait(timeout=5.0):
                        self._release()  # idle: give the cache's memory back
                        self._thread = None
                        return
                admit = []
                while self._waiting and self._rows_used(admit) + self._waiting[0].settings.n <= self.rows:
                    admit.append(self._waiting.popleft())
            try:
                for request in admit:
                    self._admit(request)
                self._drop_stopped()
                if self._active:
                    self._step()
            except Exception as exc:  # onnxruntime's own exception types
                self._fail(admit, exc)

    def _rows_used(self, admitting: list[_Request]) -> int:
        return len(self._active) + sum(request.settings.n for request in admitting)

    def _admit(self, request: _Request) -> None:
        """Read the request's prompt into the next free row, sample its first tokens, give its
        unfinished candidates a row each."""
        if request.stopping:
            self._cancel(request, [])
            return
        self._requests.append(request)
        self._reserve(request.needed_length)
        slot = len(self._active)
        prompt = request.prompt
        chunk = self.model.prefill_chunk or len(prompt)
        prefix = self.model.prefix_cache
        position = prefix.reuse(prompt, self._buffers, chunk, row=slot) if prefix is not None else 0
        try:
            while True:
                end = min(position + chunk, len(prompt))
                feed = {"input_ids": np.asarray(prompt[position:end], dtype=np.int64).reshape(1, end - position),
                        "attention_mask": np.ones((1, end), dtype=np.int64)}
                logits = self._run_rows(feed, slot, 1)
                position = end
                if position == len(prompt):
                    break
        except Exception as exc:  # onnxruntime's own exception types
            self._requests.remove(request)
            request.send("error", ModelError(f"The model failed to read the prompt: {exc}"))
            return
        if prefix is not None:
            prefix.store(prompt, self._buffers, row=slot)
        rows = request.settings.n
        request.sampler = TokenSampler(request.settings, rows, logits.shape[-1], prompt)
        tokens = request.sampler.next_tokens(np.broadcast_to(logits, (rows, logits.shape[-1])))
        now = request.now()
        kept = []
        for index, token in enumerate(tokens.tolist()):
            candidate = request.candidates[index]
            request.send("token", candidate.add(token, now))
            if candidate.finish_reason is None:
                kept.append(index)
        request.sampler.keep_rows(np.asarray(kept, dtype=np.int64))
        for offset, index in enumerate(kept):
            target = slot + offset
            if offset:
                for buffer in self._buffers:
                    buffer[target, :, : len(prompt)] = buffer[slot, :, : len(prompt)]
            row = _Row(request, request.candidates[index], target, len(prompt), int(tokens[index]))
            request.rows.append(row)
            self._active.append(row)
        if not kept:
            self._close(request)

    def _step(self) -> None:
        active = self._active
        count = len(active)
        lengths = np.fromiter((row.length for row in active), dtype=np.int64, count=count)
        total = int(lengths.max()) + 1
        feed = {"input_ids": np.fromiter((row.token for row in active), dtype=np.int64, count=count).reshape(count, 1),
                # right-padded: row i attends to its own lengths[i] + 1 positions
                "attention_mask": (np.arange(total)[None, :] <= lengths[:, None]).astype(np.int64)}
        logits = self._run_rows(feed, 0, count)
        self.steps += 1
        self.rows_stepped += count
        self.peak_rows = max(self.peak_rows, count)
        for row in active:
            row.length += 1
        finished: list[_Row] = []
        for request in list(self._requests):
            if not request.rows:
                continue
            picked = request.sampler.next_tokens(logits[[row.slot for row in request.rows]])
            now = request.now()
            kept = []
            for position, (row, token) in enumerate(zip(request.rows, picked.tolist())):
                request.send("token", row.candidate.add(token, now))
                row.token = int(token)
                if row.candidate.finish_reason is None:
                    kept.append(position)
                else:
                    finished.append(row)
            if len(kept) < len(request.rows):
                request.sampler.keep_rows(np.asarray(kept, dtype=np.int64))
                request.rows = [request.rows[position] for position in kept]
                if not request.rows:
                    self._close(request)
        self._free(finished)

    def _drop_stopped(self) -> None:
        for request in list(self._requests):
            if request.stopping and request.rows:
                self._cancel(request, request.rows)

    def _cancel(self, request: _Request, rows: list[_Row]) -> None:
        now = request.now()
        for candidate in request.candidates:
            if candidate.finish_reason is None:
                request.send("token", candidate.cancel(now))
        request.rows = []
        self._free(rows)
        self._close(request)

    def _close(self, request: _Request) -> None:
        if request in self._requests:
            self._requests.remove(request)
        request.finish()

    def _free(self, rows: list[_Row]) -> None:
        """Take finished rows out; the last rows move into the holes so that the batch stays the
        first rows of the buffer (one contiguous binding per batch size)."""
        if not rows:
            return
        leaving = {id(row) for row in rows}
        kept = [row for row in self._active if id(row) not in leaving]
        for slot, row in enumerate(kept):
            if row.slot != slot:
                for buffer in self._buffers:
                    buffer[slot, :, : row.length] = buffer[row.slot, :, : row.length]
                row.slot = slot
        self._active = kept

    def _fail(self, admitted: list[_Request], exc: Exception) -> None:
        error = ModelError(f"The model failed while generating: {exc}")
        for request in {id(r): r for r in [*self._requests, *admitted]}.values():
            request.send("error", error)
        self._requests, self._active = [], []

    # -- the KV buffer ---------------------------------------------------------------------------
    def _reserve(self, length: int) -> None:
        """Make every row hold ``length`` positions, keeping what the active rows hold."""
        if length <= self._length:
            return
        new_length = -(-length // _LENGTH_STEP) * _LENGTH_STEP
        buffers = [np.zeros((self.rows, layout.shape[1], new_length, layout.shape[3]), dtype=layout.dtype)
                   for layout in self._layouts]
        for old, new in zip(self._buffers, buffers):
            for row in self._active:
                new[row.slot, :, : row.length] = old[row.slot, :, : row.length]
        self._buffers, self._length, self._bindings = buffers, new_length, {}

    def _release(self) -> None:
        self._buffers, self._length, self._bindings = [], 0, {}

    def _run_rows(self, feed: dict[str, np.ndarray], first: int, rows: int) -> np.ndarray:
        """Run the graph on buffer rows first..first+rows-1; the last position's logits per row."""
        key = (first, rows)
        entry = self._bindings.get(key)
        if entry is None:
            binding = self._session.io_binding()
            binding.bind_output("logits", "cpu")  # first: get_outputs() follows the binding order
            # ortvalue_from_numpy wraps the rows' memory: the kernel writes the new keys and values there
            values = [ort.OrtValue.ortvalue_from_numpy(buffer[first:first + rows]) for buffer in self._buffers]
            for (past, present), value in zip(self._names, values):
                binding.bind_ortvalue_input(past, value)
                binding.bind_ortvalue_output(present, value)
            entry = self._bindings[key] = (binding, values)  # the values must outlive the binding
        binding = entry[0]
        if self._has_logits_to_keep:
            feed = {**feed, "num_logits_to_keep": self._keep_last}
        for name, array in feed.items():
            binding.bind_cpu_input(name, array)
        self._session.run_with_iobinding(binding)
        return binding.get_outputs()[0].numpy()[:, -1, :]
