"""The plugin host's wire format: length-prefixed JSON frames, and a codec for AdCopy's data types.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON. Both sides speak JSON
(never pickle), so a plugin host cannot make the app run code by what it sends: the app decodes
only plain JSON values and the dataclasses named in ``ALLOWED`` (built from their fields, then
checked by the manager like any plugin result); any other object a plugin returns arrives as a
``Record`` (attributes only) or as a handle to an object that stays in the host.

Encoded forms (``{"__t": ...}`` marks everything that is not plain JSON)::

    tuple / set       {"__t": "tuple" | "set", "v": [...]}
    dict, other keys  {"__t": "map", "v": [[key, value], ...]}
    Path              {"__t": "path", "v": "..."}
    dataclass         {"__t": "dc", "c": "Candidate", "f": {field: value}}   (ALLOWED only)
    other dataclass   {"__t": "rec", "c": "ClassName", "f": {...}}           (decoded as Record)
    enum              {"__t": "enum", "c": "CopyKind", "v": "title"}
    special           {"__t": "handle" | "callback" | "cancel" | ..., ...}    (see ``Codec.special``)
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import struct
import sys
import traceback
from pathlib import PurePath
from types import SimpleNamespace
from typing import Any, BinaryIO, Callable, Mapping

MAX_FRAME_BYTES = 128 * 1024 * 1024  # a whole catalog import fits; anything bigger is garbage
_HEADER = struct.Struct(">I")

# tag -> "module:qualname". Only these are rebuilt as real objects on the other side.
ALLOWED: dict[str, str] = {
    "Candidate": "adcopy_desktop.core.candidates:Candidate",
    "GenerationSettings": "adcopy_desktop.core.candidates:GenerationSettings",
    "Timings": "adcopy_desktop.core.candidates:Timings",
    "ExportedCandidate": "adcopy_desktop.core.product_copy:ExportedCandidate",
    "ProductCopy": "adcopy_desktop.core.product_copy:ProductCopy",
    "Product": "adcopy_desktop.core.product:Product",
    "CopyRequest": "adcopy_desktop.core.prompts:CopyRequest",
    "BrandStyle": "adcopy_desktop.core.styles:BrandStyle",
    "StyleExample": "adcopy_desktop.core.styles:StyleExample",
    "LengthRule": "adcopy_desktop.core.styles:LengthRule",
    "Score": "adcopy_desktop.core.plugins.registry:Score",
    "ScoreSpan": "adcopy_desktop.core.plugins.registry:ScoreSpan",
    "ScoreContext": "adcopy_desktop.core.plugins.registry:ScoreContext",
    "BackendContext": "adcopy_desktop.core.plugins.registry:BackendContext",
    "ModelInfo": "adcopy_desktop.core.model_store.store:ModelInfo",
    "ImportResult": "adcopy_desktop.core.catalog.result:ImportResult",
    "ImportedProduct": "adcopy_desktop.core.catalog.result:ImportedProduct",
    "RowProblem": "adcopy_desktop.core.catalog.result:RowProblem",
    "ColumnMapping": "adcopy_desktop.core.catalog.formats:ColumnMapping",
    "ProgressEvent": "adcopy_desktop.core.progress:ProgressEvent",
    "OutgoingItem": "adcopy_desktop.core.shops:OutgoingItem",
    "ItemResult": "adcopy_desktop.core.shops:ItemResult",
    "Response": "adcopy_desktop.core.shops.http:Response",
}
ALLOWED_ENUMS: dict[str, str] = {"CopyKind": "adcopy_desktop.core.prompts:CopyKind"}
# errors rebuilt by class (a plugin's own subclass arrives as its nearest one of these)
ALLOWED_ERRORS: dict[str, str] = {
    "AdCopyError": "adcopy_desktop.core.errors:AdCopyError",
    "ProductParseError": "adcopy_desktop.core.errors:ProductParseError",
    "Cancelled": "adcopy_desktop.core.errors:Cancelled",
    "GenerationCancelled": "adcopy_desktop.core.errors:GenerationCancelled",
    "PluginError": "adcopy_desktop.core.errors:PluginError",
    "StyleError": "adcopy_desktop.core.errors:StyleError",
    "CatalogError": "adcopy_desktop.core.catalog.result:CatalogError",
    "ShopError": "adcopy_desktop.core.shops:ShopError",
    "TransientShopError": "adcopy_desktop.core.shops:TransientShopError",
}
_BY_PATH = {path: tag for tag, path in {**ALLOWED, **ALLOWED_ENUMS, **ALLOWED_ERRORS}.items()}


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame or value."""


class Record(SimpleNamespace):
    """An object from a plugin whose class the app does not rebuild: its attributes only."""


class RemoteError(Exception):
    """An exception raised by plugin code in the host that has no counterpart here."""

    def __init__(self, type_name: str, message: str, remote_traceback: str = ""):
        super().__init__(message)
        self.remote_type = type_name
        self.remote_traceback = remote_traceback


# -- frames ------------------------------------------------------------------------------------------


def write_frame(stream: BinaryIO, message: Any) -> None:
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: BinaryIO, limit: int | None = None) -> Any:
    """The next message, None at end of stream; ProtocolError for a frame over ``limit`` (default
    MAX_FRAME_BYTES; the rest of the stream cannot be trusted after it)."""
    limit = MAX_FRAME_BYTES if limit is None else limit
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise ProtocolError(f"sent a message of {size / 1e6:.1f} MB; at most {limit / 1e6:.0f} MB is accepted")
    data = _read_exactly(stream, size)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(f"sent a message that is not JSON ({error})") from None


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# -- values ------------------------------------------------------------------------------------------


class Codec:
    """Encodes and decodes values; ``special`` turns objects JSON cannot hold into a special form
    (and back, through ``unspecial``); without them such objects are refused."""

    def __init__(self, special: Callable[[Any], dict | None] | None = None,
                 unspecial: Callable[[dict], Any] | None = None):
        self.special = special
        self.unspecial = unspecial

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.encode(item) for item in value]
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return {"__t": "tuple", "v": [self.encode(item) for item in value]}
        if isinstance(value, (set, frozenset)):
            return {"__t": "set", "v": [self.encode(item) for item in value]}
        if isinstance(value, PurePath):
            return {"__t": "path", "v": str(value)}
        if isinstance(value, enum.Enum):
            tag = _tag_of(type(value))
            if tag in ALLOWED_ENUMS:
                return {"__t": "enum", "c": tag, "v": self.encode(value.value)}
            return self.encode(value.value)
        if isinstance(value, Mapping):
            if all(isinstance(key, str) for key in value) and "__t" not in value:
                return {key: self.encode(item) for key, item in value.items()}
            return {"__t": "map", "v": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
            tag = _tag_of(type(value))
            if tag in ALLOWED:
                return {"__t": "dc", "c": tag, "f": fields}
            return {"__t": "rec", "c": type(value).__name__, "f": fields}
        if isinstance(value, SimpleNamespace):
            return {"__t": "rec", "c": type(value).__name__,
                    "f": {k: self.encode(v) for k, v in vars(value).items()}}
        if self.special is not None:
            found = self.special(value)
            if found is not None:
                return found
        raise TypeError(f"cannot send {type(value).__name__} {_short(value)} between the app and a plugin host")

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(item) for item in value]
        if not isinstance(value, dict):
            return value
        kind = value.get("__t")
        if kind is None:
            return {key: self.decode(item) for key, item in value.items()}
        if kind == "tuple":
            return tuple(self.decode(item) for item in _list(value.get("v")))
        if kind == "set":
            return {self.decode(item) for item in _list(value.get("v"))}
        if kind == "map":
            return {_hashable(self.decode(pair[0])): self.decode(pair[1]) for pair in _pairs(value.get("v"))}
        if kind == "path":
            from pathlib import Path

            return Path(str(value.get("v")))
        if kind == "enum":
            cls = _allowed_class(ALLOWED_ENUMS, value.get("c"))
            try:
                return cls(self.decode(value.get("v")))
            except ValueError as error:
                raise ProtocolError(str(error)) from None
        if kind == "dc":
            cls = _allowed_class(ALLOWED, value.get("c"))
            return _build(cls, {k: self.decode(v) for k, v in _dict(value.get("f")).items()})
        if kind == "rec":
            return Record(**{str(k): self.decode(v) for k, v in _dict(value.get("f")).items()
                             if str(k).isidentifier()})
        if self.unspecial is not None:
            return self.unspecial(value)
        raise ProtocolError(f"unknown value type {kind!r}")


def encode_error(error: BaseException) -> dict[str, Any]:
    """An exception as the host reports it: its type, message, nearest AdCopy class, details."""
    found: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    for cls in type(error).__mro__:
        tag = _tag_of(cls)
        if tag in ALLOWED_ERRORS:
            found["class"] = tag
            break
    if isinstance(error, OSError):
        found["os"] = True
        found["errno"] = error.errno
        found["strerror"] = error.strerror
        found["filename"] = str(error.filename) if error.filename is not None else None
    for attribute in ("retry_after", "position", "fragment"):
        detail = getattr(error, attribute, None)
        if isinstance(detail, (int, float, str)):
            found[attribute] = detail
    found["traceback"] = "".join(traceback.format_exception(type(error), error, error.__traceback__))[-4000:]
    return found


def decode_error(data: Any) -> BaseException:
    """The app-side exception for an error the host reported (never more than a known class)."""
    if not isinstance(data, dict):
        return RemoteError("Error", str(data))
    type_name, message = str(data.get("type", "Error")), str(data.get("message", ""))
    tag = data.get("class")
    if tag in ALLOWED_ERRORS:
        cls = _allowed_class(ALLOWED_ERRORS, tag)
        if tag == "TransientShopError":
            retry = data.get("retry_after")
            return cls(message, retry_after=float(retry) if isinstance(retry, (int, float)) else None)
        if tag == "ProductParseError":
            position = data.get("position")
            return cls(message, position=position if isinstance(position, int) else None,
                       fragment=data.get("fragment") if isinstance(data.get("fragment"), str) else None)
        return cls(message)
    if data.get("os"):
        errno = data.get("errno")
        if isinstance(errno, int):
            return OSError(errno, str(data.get("strerror") or message), data.get("filename"))
        return OSError(message)
    return RemoteError(type_name, message, str(data.get("traceback", "")))


# -- helpers -----------------------------------------------------------------------------------------


def _tag_of(cls: type) -> str | None:
    return _BY_PATH.get(f"{cls.__module__}:{cls.__qualname__}")


def _allowed_class(table: Mapping[str, str], tag: Any) -> type:
    path = table.get(tag) if isinstance(tag, str) else None
    if path is None:
        raise ProtocolError(f"type {tag!r} may not be sent to the app")
    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    return getattr(module, qualname)


def _build(cls: type, values: dict[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise ProtocolError(f"{cls.__name__} has no field(s) {', '.join(sorted(map(str, unknown)))}")
    init = {name: value for name, value in values.items() if fields[name].init}
    try:
        obj = cls(**init)
    except Exception as error:  # noqa: BLE001 - a value the class refuses is the sender's fault
        raise ProtocolError(f"sent an invalid {cls.__name__}: {type(error).__name__}: {error}") from None
    for name, value in values.items():
        if not fields[name].init:
            object.__setattr__(obj, name, value)
    return obj


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise ProtocolError("expected a list")
    return value


def _dict(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ProtocolError("expected an object")
    return value


def _pairs(value: Any) -> list:
    pairs = _list(value)
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise ProtocolError("expected [key, value] pairs")
    return pairs


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, (dict, set)):
        raise ProtocolError("a mapping key must be a plain value")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
