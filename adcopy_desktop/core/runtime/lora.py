"""LoRA adapters applied to a base ONNX graph when a session opens.

A version trained with LoRA is stored as its adapter only (a few MB) beside one shared base
model. Opening it, each adapted weight of the base graph is rebuilt as ``W + B @ A`` and handed to
ONNX Runtime in place of the base's initializer (``SessionOptions.add_initializer``), so the graph,
the kernels and the speed are the base's and nothing is merged on disk.

Quantised weights (``MatMulNBits``, symmetric, as ``core/model_store/quantize.py`` writes them)
are dequantised, changed and quantised again with ONNX Runtime's own block quantiser: the result
is what quantising the merged float model would give, and exactly the base's bytes where the
adapter changes nothing.

The adapter file (``adapter/adapter.npz``) holds, per adapted linear layer of the transformers
model (``model.layers.0.self_attn.q_proj``), ``<module>.lora_A`` [rank, in] and ``<module>.lora_B``
[out, rank] with the LoRA scaling already folded into B; ``adapter/adapter.json`` names the base
it was trained on. Chained versions store the sum of their updates as one wider adapter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from adcopy_desktop.core.errors import ModelError

ADAPTER_FOLDER = "adapter"
ADAPTER_WEIGHTS = "adapter.npz"
ADAPTER_CONFIG = "adapter.json"
ADAPTER_FORMAT = "adcopy-lora-1"
_MATMUL_NODE = re.compile(r"^(?P<module>/.+)/MatMul(?:_Q\d+)?$")


class AdapterError(ModelError):
    """An adapter that cannot be applied to its base model; the message says why and what to do."""


@dataclass(frozen=True)
class Adapter:
    """Low-rank updates by module name: ``delta(module) = B @ A`` ([out, in], scaling folded in)."""

    updates: Mapping[str, tuple[np.ndarray, np.ndarray]]
    config: Mapping[str, Any]

    @property
    def rank(self) -> int:
        return max((a.shape[0] for a, _ in self.updates.values()), default=0)

    def delta(self, module: str) -> np.ndarray:
        a, b = self.updates[module]
        return b.astype(np.float32) @ a.astype(np.float32)

    def parameters(self) -> int:
        return sum(a.size + b.size for a, b in self.updates.values())


def save_adapter(folder: Path, updates: Mapping[str, tuple[np.ndarray, np.ndarray]], **config: Any) -> Path:
    """Write ``updates`` (module -> (A, B)) as ``folder/adapter``; returns that folder."""
    target = Path(folder) / ADAPTER_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for module, (a, b) in updates.items():
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise AdapterError(f"The update of {module} has shapes {a.shape} and {b.shape}, which do not chain.")
        arrays[f"{module}.lora_A"] = np.ascontiguousarray(a, dtype=np.float32)
        arrays[f"{module}.lora_B"] = np.ascontiguousarray(b, dtype=np.float32)
    with (target / ADAPTER_WEIGHTS).open("wb") as handle:
        np.savez(handle, **arrays)
    meta = {"format": ADAPTER_FORMAT, "modules": sorted(updates), **config}
    meta["rank"] = max((a.shape[0] for a, _ in updates.values()), default=0)
    (target / ADAPTER_CONFIG).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return target


def load_adapter(folder: Path) -> Adapter:
    """Read ``folder`` (a version's ``adapter/`` folder)."""
    folder = Path(folder)
    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
        with np.load(folder / ADAPTER_WEIGHTS, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError as exc:
        raise AdapterError(f"The adapter in {folder} is incomplete ({Path(exc.filename).name} is missing). "
                           "Remove this version (adcopy models remove) and train again.") from None
    except (OSError, ValueError) as exc:
        raise AdapterError(f"The adapter in {folder} cannot be read ({exc}). Remove this version and train "
                           "again.") from None
    if config.get("format") != ADAPTER_FORMAT:
        raise AdapterError(f"The adapter in {folder} has format {config.get('format')!r}; this version of the "
                           f"app reads {ADAPTER_FORMAT!r}.")
    updates = {}
    for module in config.get("modules", []):
        a, b = arrays.get(f"{module}.lora_A"), arrays.get(f"{module}.lora_B")
        if a is None or b is None:
            raise AdapterError(f"The adapter in {folder} lacks the weights of {module}. Train the version again.")
        updates[module] = (a, b)
    return Adapter(updates, config)


def combine(*adapters: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One adapter whose update is the sum of the given ones (ranks add up)."""
    combined: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for updates in adapters:
        for module, (a, b) in updates.items():
            if module in combined:
                old_a, old_b = combined[module]
                combined[module] = (np.concatenate([old_a, a], axis=0), np.concatenate([old_b, b], axis=1))
            else:
                combined[module] = (a, b)
    return combined


def graph_module(node_name: str) -> str | None:
    """``/model/layers.0/self_attn/q_proj/MatMul_Q8`` -> ``model.layers.0.self_attn.q_proj``."""
    match = _MATMUL_NODE.match(node_name)
    return match.group("module").strip("/").replace("/", ".") if match else None


def adapted_initializers(model_file: Path, adapter: Adapter) -> dict[str, np.ndarray]:
    """The base graph's weight initializers with the adapter's updates added, by name.

    Every module of the adapter must be found in the graph; AdapterError names the first that is
    not (an adapter trained on another base model)."""
    import onnx

    try:
        # only the adapted weights are read from an external data file, not the whole model
        graph = onnx.load(str(model_file), load_external_data=False).graph
    except Exception as exc:  # onnx raises DecodeError, OSError, ValueError...
        raise AdapterError(f"Cannot read the base model {model_file} to apply the adapter: {exc}") from None
    initializers = _Initializers(graph, model_file.parent)
    overrides: dict[str, np.ndarray] = {}
    found: set[str] = set()
    for node in graph.node:
        if node.op_type not in ("MatMulNBits", "MatMul"):
            continue
        module = graph_module(node.name)
        if module not in adapter.updates or len(node.input) < 2 or node.input[1] not in initializers:
            continue
        delta = adapter.delta(module)  # [out, in]
        if node.op_type == "MatMul":
            weight = initializers.array(node.input[1])  # [in, out]
            if weight.shape != delta.T.shape:
                raise AdapterError(f"The adapter's {module} is {delta.shape[::-1]}, the base has {weight.shape}: "
                                   "it was trained on another model.")
            overrides[node.input[1]] = (weight.astype(np.float32) + delta.T).astype(weight.dtype)
        else:
            overrides.update(_requantised(node, initializers, delta, module))
        found.add(module)
    missing = sorted(set(adapter.updates) - found)
    if missing:
        raise AdapterError(f"The base model has no weight for the adapter's {missing[0]} ({len(missing)} of "
                           f"{len(adapter.updates)} missing): the adapter was trained on another model.")
    return overrides


class _Initializers(dict):
    """A graph's initializers by name; ``array`` reads one, from the external data file if it is there."""

    def __init__(self, graph, folder: Path):
        super().__init__((item.name, item) for item in graph.initializer)
        self.folder = folder

    def array(self, name: str) -> np.ndarray:
        from onnx import TensorProto, numpy_helper

        tensor = self[name]
        if tensor.data_location != TensorProto.EXTERNAL:
            return numpy_helper.to_array(tensor)
        # Read here rather than through onnx's loader, which refuses a data file with several hard
        # links (a model folder copied with hard links, as backups and benchmarks do).
        where = {entry.key: entry.value for entry in tensor.external_data}
        location = where.get("location", "")
        if not location or "/" in location or "\\" in location or location.startswith(".."):
            raise AdapterError(f"The base model's weight {name} points outside its folder ({location!r}).")
        offset, length = int(where.get("offset", 0)), int(where["length"]) if "length" in where else -1
        with (self.folder / location).open("rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
        inline = TensorProto()
        inline.CopyFrom(tensor)
        del inline.external_data[:]
        inline.data_location = TensorProto.DEFAULT
        inline.raw_data = data
        return numpy_helper.to_array(inline)


def _requantised(node, initializers: "_Initializers", delta: np.ndarray, module: str) -> dict[str, np.ndarray]:
    from onnx import helper
    from onnxruntime.capi import _pybind_state as ort_c

    attributes = {item.name: helper.get_attribute_value(item) for item in node.attribute}
    bits, block, k, n = attributes.get("bits", 4), attributes["block_size"], attributes["K"], attributes["N"]
    if delta.shape != (n, k):
        raise AdapterError(f"The adapter's {module} is {delta.shape}, the base has {(n, k)}: it was trained on "
                           "another model.")
    if len(node.input) > 3 and node.input[3]:
        raise AdapterError(f"The base weight of {module} is quantised with zero points, which adapters do not "
                           "support yet; rebuild the base model (adcopy models build --force).")
    packed = initializers.array(node.input[1])
    stored_scales = initializers.array(node.input[2])
    scales = stored_scales.astype(np.float32)
    blocks = packed.shape[1]
    if bits == 8:
        values = packed.astype(np.float32) - 128.0
    elif bits == 4:
        low, high = packed & 0x0F, packed >> 4
        values = np.stack([low, high], axis=-1).reshape(n, blocks, block).astype(np.float32) - 8.0
    else:
        raise AdapterError(f"The base weight of {module} has {bits}-bit weights; adapters support 4 and 8 bits.")
    weight = (values * scales.reshape(n, blocks, 1)).reshape(n, blocks * block)[:, :k] + delta
    padded = np.zeros((blocks * block, n), dtype=np.float32)
    padded[:k] = weight.T
    new_packed = np.zeros_like(packed)
    new_scales = np.zeros(n * blocks, dtype=np.float32)
    zero_points = np.zeros(n * (blocks if bits == 8 else (blocks + 1) // 2), dtype=np.uint8)
    quantise = ort_c.quantize_matmul_8bits if bits == 8 else ort_c.quantize_matmul_4bits
    quantise(new_packed, np.ascontiguousarray(padded[:k]), new_scales, zero_points, block, n, k, True)
    return {node.input[1]: new_packed, node.input[2]: new_scales.reshape(scales.shape).astype(
        stored_scales.dtype)}
