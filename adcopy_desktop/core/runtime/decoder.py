"""Text generation with an Optimum-exported decoder LM on ONNX Runtime, several candidates at once.

One request = one prompt and N candidates: the prompt is run once with batch 1, its KV cache is
copied to N rows, and the N rows are decoded as one batch (rows that finish are dropped from the
batch). The loop does a handful of array operations per step besides the session call.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generator

import numpy as np
import onnxruntime as ort
import psutil

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.runtime.providers import DIRECTML, select_providers
from adcopy_desktop.core.runtime.sampling import TokenSampler
from adcopy_desktop.core.runtime.tokenizer import ChatTokenizer, StreamDecoder, read_json_config

logger = logging.getLogger("adcopy.runtime")

MODEL_FILE = "model.onnx"
# The fused graph reads prompts in chunks of this many positions; a cached prompt start is reused
# in whole chunks (_PrefixCache). 64: as fast as one pass on the 0.5B default (545 vs 526 tokens/s
# for 563 tokens), 32 is 10% slower.
PREFILL_CHUNK = 64
NO_TOKEN = -1  # token_id of the closing event of a cancelled candidate

_KV_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
LOGITS_TO_KEEP = "num_logits_to_keep"  # a fused graph's input (core/model_store/fuse.py)
_KNOWN_INPUTS = {"input_ids", "attention_mask", "position_ids", "use_cache_branch", LOGITS_TO_KEEP}
FUSED_GRAPH_PROPERTY = "adcopy_graph"
# Providers whose KV cache should stay in device memory between steps (io_binding).
_BINDING_DEVICES = {"CUDAExecutionProvider": "cuda", "DmlExecutionProvider": "dml"}


@dataclass(frozen=True)
class TokenEvent:
    """One new token of candidate ``index``; ``text`` is only the newly completed text.

    The last event of each candidate carries its ``finish_reason`` (and any text held back until
    then); a cancelled candidate's last event has ``token_id`` NO_TOKEN.
    """

    index: int
    token_id: int
    text: str
    finish_reason: str | None = None


@dataclass
class Completion:
    """One finished candidate; ``text`` is exactly the concatenation of its streamed events."""

    index: int
    text: str
    token_ids: list[int]
    finish_reason: str  # eos | stop | length | cancelled
    first_token_s: float  # from the start of the request
    elapsed_s: float  # from the start of the request to this candidate's end
    prompt_tokens: int

    @property
    def new_tokens(self) -> int:
        return len(self.token_ids)


@dataclass(frozen=True)
class _GraphSignature:
    """What the exported graph expects, read from the session rather than assumed."""

    past_names: tuple[str, ...]
    present_names: tuple[str, ...]
    empty_past: dict[str, np.ndarray]
    has_position_ids: bool
    has_cache_branch: bool
    has_logits_to_keep: bool = False
    # A fused graph (GroupQueryAttention) updates its KV cache in place when past and present
    # are the same buffer: no per-step concat, no per-step allocation.
    shared_kv: bool = False


def _longest_partial_stop(tail: str, stops: tuple[str, ...]) -> int:
    """Length of the longest end of ``tail`` that could still grow into a stop string."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(tail)), longest, -1):
            if tail.endswith(stop[:size]):
                longest = size
                break
    return longest


class _Candidate:
    """Text state of one candidate: streaming, stop strings, and why it ended."""

    def __init__(
        self,
        index: int,
        tokenizer: ChatTokenizer,
        eos_ids: set[int],
        stops: tuple[str, ...],
        max_new_tokens: int,
    ) -> None:
        self.index = index
        self._stream = StreamDecoder(tokenizer)
        self._eos_ids = eos_ids
        self._stops = stops
        self._max_new_tokens = max_new_tokens
        self.text = ""
        self._emitted = 0
        self.finish_reason: str | None = None
        self.first_token_s: float | None = None
        self.elapsed_s = 0.0

    @property
    def token_ids(self) -> list[int]:
        return self._stream.token_ids

    def add(self, token_id: int, now: float) -> TokenEvent:
        if self.first_token_s is None:
            self.first_token_s = now
        if token_id in self._eos_ids:
            return self._finish("eos", token_id, now, "")
        self.text += self._stream.push(token_id)
        text, start = self.text, self._emitted
        if self._stops:
            found = [pos for stop in self._stops if (pos := text.find(stop, start)) >= 0]
            if found:
                cut = min(found)
                self.text = text[:cut]
                self._emitted = cut
                return self._close("stop", token_id, now, text[start:cut])
            end = len(text) - _longest_partial_stop(text[start:], self._stops)
        else:
            end = len(text)
        self._emitted = end
        if len(self._stream.token_ids) >= self._max_new_tokens:
            return self._finish("length", token_id, now, text[start:end])
        return TokenEvent(self.index, token_id, text[start:end])

    def cancel(self, now: float) -> TokenEvent:
        return self._finish("cancelled", NO_TOKEN, now, "")

    def _finish(self, reason: str, token_id: int, now: float, text: str) -> TokenEvent:
        """End the candidate, releasing text held back for a possible stop string or character."""
        self.text += self._stream.flush()
        text += self.text[self._emitted :]
        self._emitted = len(self.text)
        return self._close(reason, token_id, now, text)

    def _close(self, reason: str, token_id: int, now: float, text: str) -> TokenEvent:
        self.finish_reason = reason
        self.elapsed_s = now
        return TokenEvent(self.index, token_id, text, reason)

    def completion(self, prompt_tokens: int) -> Completion:
        return Completion(
            index=self.index,
            text=self.text,
            token_ids=list(self.token_ids),
            finish_reason=self.finish_reason or "cancelled",
            first_token_s=self.first_token_s if self.first_token_s is not None else self.elapsed_s,
            elapsed_s=self.elapsed_s,
            prompt_tokens=prompt_tokens,
        )


class _StepInputs:
    """Preallocated input_ids / position_ids / attention_mask, sliced per step instead of rebuilt."""

    def __init__(self, signature: _GraphSignature, rows: int, max_length: int) -> None:
        self._signature = signature
        self._ids = np.zeros((rows, 1), dtype=np.int64)
        self._positions = np.zeros((rows, 1), dtype=np.int64)
        # Flat so that the first rows*length elements are a contiguous [rows, length] mask: every
        # row has the same length (one shared prompt, no padding), so the mask is all ones.
        self._mask = np.ones(rows * max_length, dtype=np.int64)
        self._cache_branch = {
            False: np.zeros(1, dtype=bool),
            True: np.ones(1, dtype=bool),
        }
        self._keep_last = np.ones(1, dtype=np.int64)  # logits of the last position only

    def prefill(self, prompt_ids: list[int], start: int = 0) -> dict[str, np.ndarray]:
        """The prompt from ``start`` on: the positions before it are already in the KV cache."""
        length = len(prompt_ids)
        feed = {
            "input_ids": np.asarray(prompt_ids[start:], dtype=np.int64).reshape(1, length - start),
            "attention_mask": self._mask[:length].reshape(1, length),
        }
        if self._signature.has_position_ids:
            feed["position_ids"] = np.arange(start, length, dtype=np.int64).reshape(1, length - start)
        if self._signature.has_cache_branch:
            feed["use_cache_branch"] = self._cache_branch[start > 0]
        if self._signature.has_logits_to_keep:
            feed[LOGITS_TO_KEEP] = self._keep_last
        return feed

    def step(self, tokens: np.ndarray, position: int) -> dict[str, np.ndarray]:
        rows = tokens.shape[0]
        length = position + 1
        ids = self._ids[:rows]
        ids[:, 0] = tokens
        feed = {"input_ids": ids, "attention_mask": self._mask[: rows * length].reshape(rows, length)}
        if self._signature.has_position_ids:
            positions = self._positions[:rows]
            positions.fill(position)
            feed["position_ids"] = positions
        if self._signature.has_cache_branch:
            feed["use_cache_branch"] = self._cache_branch[True]
        if self._signature.has_logits_to_keep:
            feed[LOGITS_TO_KEEP] = self._keep_last
        return feed


class _RunStepper:
    """KV cache as numpy arrays fed back through session.run; the default on CPU.

    On CPU, run() hands outputs back as zero-copy numpy views, so io_binding saves nothing:
    SmolLM2-135M-shaped fp32 model, 2 cores, greedy: run() 35.9 tok/s vs io_binding 35.6 (batch 4:
    97.3 vs 95.3); tiny test model, batch 1: run() 3900 tok/s vs io_binding 1800.
    """

    def __init__(self, session: ort.InferenceSession, signature: _GraphSignature, inputs: _StepInputs):
        self._session = session
        self._signature = signature
        self._inputs = inputs
        self._output_names = ["logits", *signature.present_names]
        self._cache: list[np.ndarray] = []

    def prefill(self, prompt_ids: list[int]) -> np.ndarray:
        feed = self._inputs.prefill(prompt_ids)
        feed.update(self._signature.empty_past)
        return self._run(feed)

    def step(self, tokens: np.ndarray, position: int) -> np.ndarray:
        feed = self._inputs.step(tokens, position)
        feed.update(zip(self._signature.past_names, self._cache))
        return self._run(feed)

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        logits, *self._cache = self._session.run(self._output_names, feed)
        return logits[:, -1, :]

    def expand(self, rows: int) -> None:
        if rows > 1:
            self._cache = [np.repeat(values, rows, axis=0) for values in self._cache]

    def keep(self, rows: np.ndarray) -> None:
        self._cache = [values[rows] for values in self._cache]


class _BoundStepper:
    """KV cache kept as OrtValues in the provider's memory, bound as the next step's inputs."""

    def __init__(
        self,
        session: ort.InferenceSession,
        signature: _GraphSignature,
        inputs: _StepInputs,
        device: str,
    ):
        self._session = session
        self._signature = signature
        self._inputs = inputs
        self._device = device
        self._cache: list[ort.OrtValue] = []

    def prefill(self, prompt_ids: list[int]) -> np.ndarray:
        feed = self._inputs.prefill(prompt_ids)
        feed.update(self._signature.empty_past)
        return self._run(feed, ())

    def step(self, tokens: np.ndarray, position: int) -> np.ndarray:
        return self._run(self._inputs.step(tokens, position), self._cache)

    def _run(self, feed: dict[str, np.ndarray], past: Any) -> np.ndarray:
        binding = self._session.io_binding()
        for name, array in feed.items():
            binding.bind_cpu_input(name, array)
        for name, value in zip(self._signature.past_names, past):
            binding.bind_ortvalue_input(name, value)
        binding.bind_output("logits", "cpu")
        for name in self._signature.present_names:
            binding.bind_output(name, self._device)
        self._session.run_with_iobinding(binding)
        logits, *self._cache = binding.get_outputs()
        return logits.numpy()[:, -1, :]

    def _replace_cache(self, reshape: Callable[[np.ndarray], np.ndarray]) -> None:
        """Batch changes are rare (once per request and per finished candidate): go via the host."""
        self._cache = [
            ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(reshape(value.numpy())), self._device)
            for value in self._cache
        ]

    def expand(self, rows: int) -> None:
        if rows > 1:
            self._replace_cache(lambda values: np.repeat(values, rows, axis=0))

    def keep(self, rows: np.ndarray) -> None:
        self._replace_cache(lambda values: values[rows])


class _SharedStepper:
    """KV cache in numpy buffers preallocated for the whole request, read and written in place.

    For a fused graph on CPU: each layer's past and present are bound to the same buffer
    [rows, kv_heads, prompt + new tokens, head_dim] and the attention kernel writes each step's
    keys and values into it, so a step neither allocates nor copies the cache. (GPU providers use
    _BoundStepper: the fused graph then returns a grown cache, as the export does.)
    """

    def __init__(
        self, session: ort.InferenceSession, signature: _GraphSignature, inputs: _StepInputs, rows: int,
        max_length: int, prefix: "_PrefixCache | None" = None, chunk: int = 0,
    ):
        self._session = session
        self._inputs = inputs
        self._prefix = prefix
        self._chunk = chunk
        self._names = list(zip(signature.past_names, signature.present_names))
        self._buffers = []
        for name in signature.past_names:
            empty = signature.empty_past[name]
            self._buffers.append(np.zeros((rows, empty.shape[1], max_length, empty.shape[3]), dtype=empty.dtype))
        self._filled = 0
        self._bindings: dict[int, Any] = {}  # batch rows -> io_binding with those rows of the cache bound

    def _binding(self, rows: int):
        binding = self._bindings.get(rows)
        if binding is None:
            binding = self._session.io_binding()
            binding.bind_output("logits", "cpu")  # first: get_outputs() follows the binding order
            # ortvalue_from_numpy wraps the array's memory on CPU: the kernel writes into the buffer.
            values = [ort.OrtValue.ortvalue_from_numpy(buffer[:rows]) for buffer in self._buffers]
            for (past, present), value in zip(self._names, values):
                binding.bind_ortvalue_input(past, value)
                binding.bind_ortvalue_output(present, value)
            self._bindings[rows] = (binding, values)  # the values must outlive the binding
        return self._bindings[rows][0]

    def _run(self, feed: dict[str, np.ndarray], rows: int) -> np.ndarray:
        binding = self._binding(rows)
        for name, array in feed.items():
            binding.bind_cpu_input(name, array)
        self._session.run_with_iobinding(binding)
        return binding.get_outputs()[0].numpy()[:, -1, :]

    def prefill(self, prompt_ids: list[int]) -> np.ndarray:
        """Read the prompt in chunks at fixed positions (0, chunk, 2 x chunk...), the cached ones
        copied: each chunk is computed from the same tokens and the same cache whether the chunks
        before it were cached or not, so a seed gives the same candidates either way."""
        length = len(prompt_ids)
        chunk = self._chunk or length
        position = self._prefix.reuse(prompt_ids, self._buffers, chunk) if self._prefix is not None else 0
        while True:
            end = min(position + chunk, length)
            logits = self._run(self._inputs.prefill(prompt_ids[:end], position), 1)
            position = end
            if position == length:
                break
        self._filled = length
        if self._prefix is not None:
            self._prefix.store(prompt_ids, self._buffers)
        return logits

    def step(self, tokens: np.ndarray, position: int) -> np.ndarray:
        self._filled = position + 1
        return self._run(self._inputs.step(tokens, position), tokens.shape[0])

    def expand(self, rows: int) -> None:
        for buffer in self._buffers:
            buffer[1:rows, :, : self._filled] = buffer[0, :, : self._filled]

    def keep(self, rows: np.ndarray) -> None:
        for buffer in self._buffers:
            buffer[: len(rows), :, : self._filled] = buffer[rows, :, : self._filled]


class _PrefixCache:
    """The KV caches of the last few prompts, so that a prompt that starts like one of them reads
    only what differs: the system prompt, the brand style and the kind's worked example are the
    same for every product of a batch, often most of the prompt (one entry per kind of copy).
    Reused in whole prefill chunks, so the logits are bit for bit those without the cache."""

    ENTRIES = 4  # a batch of titles, descriptions, selling points and promos keeps each kind's

    def __init__(self) -> None:
        # newest last: (prompt ids, per layer [kv_heads, length, head_dim]); replaced, never mutated
        self._entries: tuple[tuple[np.ndarray, list[np.ndarray]], ...] = ()
        self.reused_tokens = 0  # of the last prefill, for tests and logs

    @staticmethod
    def _shared(cached_ids: np.ndarray, prompt: np.ndarray) -> int:
        limit = min(len(cached_ids), len(prompt) - 1)  # the last token is read again for its logits
        differs = np.flatnonzero(cached_ids[:limit] != prompt[:limit])
        return int(differs[0]) if differs.size else limit

    def reuse(self, prompt_ids: list[int], buffers: list[np.ndarray], chunk: int, row: int = 0) -> int:
        """Copy the longest cached start this prompt shares, in whole chunks, into ``row`` of
        ``buffers``; how many positions."""
        self.reused_tokens = 0
        prompt = np.asarray(prompt_ids, dtype=np.int64)
        best, layers = 0, None
        for cached_ids, cached_layers in self._entries:  # one read: another request may store meanwhile
            shared = self._shared(cached_ids, prompt) // chunk * chunk
            if shared > best:
                best, layers = shared, cached_layers
        if layers is None:
            return 0
        for buffer, cached in zip(buffers, layers):
            buffer[row, :, :best] = cached[:, :best]
        self.reused_tokens = best
        return best

    def store(self, prompt_ids: list[int], buffers: list[np.ndarray], row: int = 0) -> None:
        """Keep this prompt's cache in place of an entry it shares most of (the same kind of copy
        for another product), else as the newest entry."""
        prompt = np.asarray(prompt_ids, dtype=np.int64)
        entry = (prompt, [buffer[row, :, : len(prompt)].copy() for buffer in buffers])
        kept = tuple(item for item in self._entries if self._shared(item[0], prompt) * 2 < len(item[0]))
        self._entries = (*kept, entry)[-self.ENTRIES:]

    def clear(self) -> None:
        self._entries = ()


def _physical_cores() -> int:
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def _read_signature(
    session: ort.InferenceSession, config: dict[str, Any], model_file: Path
) -> _GraphSignature:
    inputs = {item.name: item for item in session.get_inputs()}
    outputs = {item.name for item in session.get_outputs()}
    past_names = tuple(name for name in inputs if name.startswith("past_key_values."))
    unknown = sorted(set(inputs) - _KNOWN_INPUTS - set(past_names))
    if "input_ids" not in inputs or "attention_mask" not in inputs or "logits" not in outputs or unknown:
        raise ModelError(
            f"{model_file} is not a supported text-generation export (inputs: {sorted(inputs)}). "
            "Rebuild the model with the app's model builder."
        )
    if not past_names:
        raise ModelError(
            f"{model_file} was exported without a KV cache, which makes generation very slow. "
            "Rebuild it (optimum task text-generation-with-past)."
        )
    present_names = tuple(name.replace("past_key_values.", "present.", 1) for name in past_names)
    missing = [name for name in present_names if name not in outputs]
    if missing:
        raise ModelError(f"{model_file} lacks the outputs {missing}; rebuild or re-import the model.")

    heads = config.get("num_key_value_heads") or config.get("num_attention_heads")
    head_dim = config.get("head_dim")
    if not head_dim and config.get("hidden_size") and config.get("num_attention_heads"):
        head_dim = config["hidden_size"] // config["num_attention_heads"]
    empty_past = {}
    for name in past_names:
        info = inputs[name]
        dtype = _KV_DTYPES.get(info.type)
        if dtype is None:
            raise ModelError(f"{model_file} stores its KV cache as {info.type}, which is not supported.")
        shape = list(info.shape)
        if len(shape) != 4:
            raise ModelError(f"{model_file}: unexpected KV cache shape {shape} for {name}.")
        fallback = [1, heads, 0, head_dim]
        dims = [1, 0, 0, 0]
        for axis in (1, 3):
            dims[axis] = shape[axis] if isinstance(shape[axis], int) else fallback[axis]
        if not all(isinstance(size, int) and size > 0 for size in (dims[1], dims[3])):
            raise ModelError(f"{model_file}: cannot tell the KV cache shape of {name} ({shape}).")
        empty_past[name] = np.zeros(dims, dtype=dtype)
    return _GraphSignature(
        past_names=past_names,
        present_names=present_names,
        empty_past=empty_past,
        has_position_ids="position_ids" in inputs,
        has_cache_branch="use_cache_branch" in inputs,
        has_logits_to_keep=LOGITS_TO_KEEP in inputs,
        shared_kv=session.get_modelmeta().custom_metadata_map.get(FUSED_GRAPH_PROPERTY, "").startswith("fused-gqa"),
    )


def _binding_device(provider: str, requested: bool | None) -> str | None:
    """Device for io_binding, or None for plain run(); checks the build can place values there."""
    device = _BINDING_DEVICES.get(provider, "cpu" if requested else None)
    if requested is False or device is None:
        return None
    try:
        ort.OrtValue.ortvalue_from_numpy(np.zeros(1, dtype=np.float32), device)
    except Exception as exc:  # onnxruntime raises its own exception types
        logger.warning("io_binding on %s is not available (%s); using session.run", device, exc)
        return None
    return device


def _adapted_weights(options: ort.SessionOptions, model_file: Path, adapter_folder: Path) -> list[Any]:
    from adcopy_desktop.core.runtime.lora import adapted_initializers, load_adapter

    values = []
    for name, array in adapted_initializers(model_file, load_adapter(adapter_folder)).items():
        value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array))
        options.add_initializer(name, value)
        values.append(value)
    return values


class OnnxCausalLM:
    """A loaded model: tokenizer + ONNX Runtime session. One request at a time, unless
    ``enable_batching`` put a continuous batcher in front (then from any number of threads)."""

    def __init__(
        self,
        folder: Path,
        session: ort.InferenceSession,
        tokenizer: ChatTokenizer,
        config: dict[str, Any],
        *,
        io_binding: bool | None = None,
    ) -> None:
        self.folder = folder
        self.adapter: Path | None = None  # the LoRA adapter applied to this base, if any
        self._adapted_weights: list[Any] = []
        self.tokenizer = tokenizer
        self.config = config
        self.provider: str = session.get_providers()[0]
        limits = [config.get(key) for key in ("max_position_embeddings", "n_positions", "n_ctx")]
        self.context_length: int | None = next((limit for limit in limits if isinstance(limit, int)), None)
        self._session = session
        self._signature = _read_signature(session, config, folder / MODEL_FILE)
        self._binding_device = _binding_device(self.provider, io_binding)
        self.prefix_cache: _PrefixCache | None = _PrefixCache() if self._signature.shared_kv else None
        self.prefill_chunk = PREFILL_CHUNK
        self.batcher: Any = None  # core/runtime/batching.ContinuousBatcher, once enabled

    @classmethod
    def load(
        cls,
        folder: str | Path,
        *,
        provider: str = "auto",
        threads: int | None = None,
        io_binding: bool | None = None,
        adapter: str | Path | None = None,
    ) -> OnnxCausalLM:
        """Open a model folder; ``io_binding`` None means: on for GPU providers, off on CPU.
        ``adapter``: a LoRA version's ``adapter/`` folder, applied to this (base) model's weights
        (``core/runtime/lora.py``)."""
        folder = Path(folder)
        model_file = folder / MODEL_FILE
        if not model_file.is_file():
            raise ModelError(f"{model_file} is missing. Rebuild or re-import the model.")
        tokenizer = ChatTokenizer.from_folder(folder)
        config = read_json_config(folder / "config.json")

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or _physical_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        providers = select_providers(ort.get_available_providers(), provider)
        if providers[0] == DIRECTML:
            options.enable_mem_pattern = False  # DirectML does not support memory patterns
        # the session reads the adapted weights from these buffers: they must outlive it
        adapted_weights = _adapted_weights(options, model_file, Path(adapter)) if adapter is not None else []
        try:
            session = ort.InferenceSession(str(model_file), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime's pybind exceptions share no useful base class
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"Cannot load {model_file}: {reason}. The file is damaged or incomplete; "
                "rebuild or re-import the model."
            ) from exc
        model = cls(folder, session, tokenizer, config, io_binding=io_binding)
        model._adapted_weights = adapted_weights
        model.adapter = Path(adapter) if adapter is not None else None
        if model.provider != providers[0]:
            logger.warning(
                "Asked for %s but ONNX Runtime runs %s on %s", providers[0], folder.name, model.provider
            )
        logger.info(
            "Loaded %s on %s (%d threads, io_binding %s)",
            folder.name,
            model.provider,
            options.intra_op_num_threads,
            model._binding_device or "off",
        )
        return model

    def _new_token_budget(self, prompt_tokens: int, wanted: int) -> int:
        limit = self.context_length
        if limit is None:
            return wanted
        if prompt_tokens >= limit:
            raise ModelError(
                f"The prompt is {prompt_tokens} tokens but this model reads at most {limit}. "
                "Shorten the product text."
            )
        room = limit - prompt_tokens
        if wanted > room:
            logger.warning(
                "Only %d new tokens fit after a %d-token prompt (asked %d)", room, prompt_tokens, wanted
            )
            return room
        return wanted

    @property
    def fused(self) -> bool:
        """Whether the loaded graph is the fused one (core/model_store/fuse.py)."""
        return self._signature.shared_kv

    @property
    def can_batch(self) -> bool:
        """Whether concurrent requests can share decode steps: the fused graph on the CPU."""
        return self._signature.shared_kv and self._binding_device in (None, "cpu")

    def enable_batching(self, rows: int | None = None) -> bool:
        """Run every request from now on through a continuous batcher of ``rows`` rows (candidates
        of all requests together), so that several threads may generate at once; False (and
        nothing changes) when this graph cannot batch requests."""
        from adcopy_desktop.core.runtime.batching import DEFAULT_ROWS, ContinuousBatcher

        if not self.can_batch:
            return False
        rows = rows or DEFAULT_ROWS
        if self.batcher is None or self.batcher.rows < rows:
            self.batcher = ContinuousBatcher(self, rows)
        return True

    def _new_stepper(self, rows: int, max_length: int) -> _RunStepper | _BoundStepper | _SharedStepper:
        inputs = _StepInputs(self._signature, rows, max_length)
        if self._signature.shared_kv and self._binding_device in (None, "cpu"):
            return _SharedStepper(self._session, self._signature, inputs, rows, max_length, self.prefix_cache,
                                  self.prefill_chunk)
        if self._binding_device is None:
            return _RunStepper(self._session, self._signature, inputs)
        return _BoundStepper(self._session, self._signature, inputs, self._binding_device)

    def stream(
        self,
        prompt_ids: list[int],
        settings: GenerationSettings,
        cancel: CancelToken | None = None,
    ) -> Generator[TokenEvent, None, list[Completion]]:
        """Yield tokens of all candidates as they come; returns the list of Completions at the end."""
        if self.batcher is not None:
            return (yield from self.batcher.stream(prompt_ids, settings, cancel))
        started = time.perf_counter()
        prompt = list(prompt_ids)
        if not prompt:
            raise ValueError("prompt_ids is empty")
        max_new_tokens = self._new_token_budget(len(prompt), settings.max_new_tokens)
        stops = tuple(stop for stop in settings.stop if stop)
        eos_ids = self.tokenizer.eos_token_ids
        candidates = [
            _Candidate(index, self.tokenizer, eos_ids, stops, max_new_tokens) for index in range(settings.n)
        ]
        if cancel is not None and cancel.cancelled:
            for candidate in candidates:
                yield candidate.cancel(0.0)
            return [candidate.completion(len(prompt)) for candidate in candidates]

        rows = settings.n
        stepper = self._new_stepper(rows, len(prompt) + max_new_tokens)
        try:
            prompt_logits = stepper.prefill(prompt)
        except Exception as exc:  # onnxruntime's own exception types
            raise ModelError(f"The model failed to read the prompt: {exc}") from exc
        vocab_size = prompt_logits.shape[-1]
        sampler = TokenSampler(settings, rows, vocab_size, prompt)
        stepper.expand(rows)
        logits = np.broadcast_to(prompt_logits, (rows, vocab_size))
        active = list(range(rows))  # candidate index of each batch row
        position = len(prompt)
        while True:
            tokens = sampler.next_tokens(logits)
            now = time.perf_counter() - started
            unfinished = []
            for row, token in enumerate(tokens.tolist()):
                candidate = candidates[active[row]]
                yield candidate.add(token, now)
                if candidate.finish_reason is None:
                    unfinished.append(row)
            if not unfinished:
                break
            if cancel is not None and cancel.cancelled:
                now = time.perf_counter() - started
                for row in unfinished:
                    yield candidates[active[row]].cancel(now)
                break
            if len(unfinished) < len(active):
                keep = np.asarray(unfinished)
                stepper.keep(keep)
                sampler.keep_rows(keep)
                active = [active[row] for row in unfinished]
                tokens = tokens[keep]
            try:
                logits = stepper.step(tokens, position)
            except Exception as exc:  # onnxruntime's own exception types
                raise ModelError(f"The model failed while generating: {exc}") from exc
            position += 1

        completions = [candidate.completion(len(prompt)) for candidate in candidates]
        elapsed = time.perf_counter() - started
        generated = sum(completion.new_tokens for completion in completions)
        logger.debug(
            "Generated %d tokens for %d candidates in %.2fs (%d prompt tokens, %.1f tok/s)",
            generated, rows, elapsed, len(prompt), generated / elapsed if elapsed > 0 else 0.0,
        )
        return completions

    def generate(
        self,
        prompt_ids: list[int],
        settings: GenerationSettings,
        cancel: CancelToken | None = None,
        on_token: Callable[[TokenEvent], None] | None = None,
    ) -> list[Completion]:
        """Run ``stream`` to the end, passing each event to ``on_token``."""
        events = self.stream(prompt_ids, settings, cancel)
        while True:
            try:
                event = next(events)
            except StopIteration as done:
                return done.value
            if on_token is not None:
                on_token(event)
