"""A product as an ordered list of facts, read from whatever a merchant pastes.

Three input forms are recognised automatically:

1. AdvertiseGen attribute strings: ``类型#上衣*材质#牛仔布*风格#简约*风格#休闲``. Pairs are separated
   by ``*`` (or a new line), key and value by ``#``; the full-width ``＊`` and ``＃`` that Chinese
   input methods type are accepted too.
2. ``key: value`` lines (ASCII ``:`` or full-width ``：``); blank lines are skipped.
3. A JSON object: lists become repeated keys, numbers and booleans become text.

Repeated keys are kept in order because a product really can have several styles or colours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .errors import ProductParseError

MAX_INPUT_CHARS = 100_000
MAX_ATTRIBUTES = 200
MAX_KEY_CHARS = 100
MAX_VALUE_CHARS = 2_000

NAME_KEYS = frozenset(
    {"name", "title", "product name", "product_name", "名称", "商品名", "商品名称", "品名", "标题"}
)

FORMS_HELP = (
    "Write the product as attribute pairs (类型#上衣*颜色#白色), as one 'key: value' per line, "
    'or as a JSON object ({"title": "...", "颜色": ["白色", "蓝色"]}).'
)

_PAIR_SEPARATORS = re.compile(r"[*＊\n]")
_KEY_VALUE_SEPARATORS = re.compile(r"[#＃]")
_COLONS = re.compile(r"[:：]")
_BULLET = re.compile(r"^[-•·]\s+")
_FRAGMENT_PREVIEW_CHARS = 60


@dataclass
class Product:
    """Ordered facts about one product; ``name`` repeats the name/title fact when there is one."""

    attributes: list[tuple[str, str]] = field(default_factory=list)
    name: str | None = None
    source_text: str = ""

    @classmethod
    def from_attributes(cls, attributes: Iterable[tuple[str, str]], source_text: str = "") -> "Product":
        """Build a product from pairs, trimming and checking them the way ``parse_product`` does."""
        checked: list[tuple[str, str]] = []
        for position, (key, value) in enumerate(attributes, start=1):
            checked.append(_checked_pair(str(key), str(value), position, f"{key}: {value}", "Attribute"))
        _check_count(checked)
        return cls(attributes=checked, name=_name_from(checked), source_text=source_text)

    def values(self, key: str) -> list[str]:
        """Every value of ``key``, in input order (several for a product with many styles)."""
        wanted = key.strip()
        return [value for name, value in self.attributes if name == wanted]

    def keys(self) -> list[str]:
        """Distinct keys in the order they first appear."""
        return list(dict.fromkeys(key for key, _ in self.attributes))

    def as_dict_of_lists(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for key, value in self.attributes:
            grouped.setdefault(key, []).append(value)
        return grouped

    def to_attribute_string(self) -> str:
        """The AdvertiseGen form; separator characters inside keys or values become spaces so
        the string always parses back to the same number of pairs."""
        return "*".join(
            f"{_without_separators(key)}#{_without_separators(value)}" for key, value in self.attributes
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": [[key, value] for key, value in self.attributes],
            "name": self.name,
            "source_text": self.source_text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Product":
        if not isinstance(data, dict) or not isinstance(data.get("attributes"), list):
            raise ProductParseError("A saved product must be an object with an 'attributes' list.")
        pairs: list[tuple[str, str]] = []
        for position, pair in enumerate(data["attributes"], start=1):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ProductParseError(
                    f"Saved attribute {position} must be a [key, value] pair (got {pair!r}).",
                    position=position,
                    fragment=repr(pair),
                )
            pairs.append((str(pair[0]), str(pair[1])))
        product = cls.from_attributes(pairs, source_text=str(data.get("source_text") or ""))
        if data.get("name") is not None:
            product.name = str(data["name"])
        return product


def parse_product(text: str) -> Product:
    """Read a product from any of the three forms; errors point at the offending part."""
    if not isinstance(text, str):
        raise TypeError(f"parse_product expects text, got {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise ProductParseError(
            f"The product text is {len(text):,} characters long; at most {MAX_INPUT_CHARS:,} are accepted."
        )
    body = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip():
        raise ProductParseError("The product is empty. " + FORMS_HELP)
    form = _detect_form(body)
    if form == "json":
        pairs = _parse_json(body)
    elif form == "attributes":
        pairs = _parse_attribute_string(body)
    else:
        pairs = _parse_lines(body)
    _check_count(pairs)
    return Product(attributes=pairs, name=_name_from(pairs), source_text=text)


def _detect_form(body: str) -> str:
    """JSON when it starts like JSON; key:value when the first line has a colon before any '#';
    attribute pairs when there is a '#'; otherwise key:value, whose error explains all forms."""
    stripped = body.strip()
    if stripped[0] in "{[":
        return "json"
    first_line = stripped.split("\n", 1)[0]
    colon = _COLONS.search(first_line)
    hash_mark = _KEY_VALUE_SEPARATORS.search(first_line)
    if colon and (not hash_mark or colon.start() < hash_mark.start()):
        return "lines"
    if _KEY_VALUE_SEPARATORS.search(stripped):
        return "attributes"
    return "lines"


def _parse_attribute_string(body: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    example = "e.g. 类型#上衣*颜色#白色"
    for segment_number, raw_segment in enumerate(_PAIR_SEPARATORS.split(body), start=1):
        segment = raw_segment.strip()
        if not segment:
            continue
        label = f'Segment {segment_number} "{_preview(segment)}"'
        parts = _KEY_VALUE_SEPARATORS.split(segment)
        if len(parts) == 1:
            raise ProductParseError(
                f"{label} has no '#': write each attribute as key#value and separate attributes "
                f"with '*' ({example}).",
                position=segment_number,
                fragment=segment,
            )
        if len(parts) > 2:
            raise ProductParseError(
                f"{label} has more than one '#': separate attributes with '*' ({example}); "
                "if a value itself contains '#', use one 'key: value' per line instead.",
                position=segment_number,
                fragment=segment,
            )
        key, value = parts
        pairs.append(_checked_pair(key, value, segment_number, segment, "Segment", separator="#"))
    return pairs


def _parse_lines(body: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for line_number, raw_line in enumerate(body.split("\n"), start=1):
        line = _BULLET.sub("", raw_line.strip())
        if not line:
            continue
        colon = _COLONS.search(line)
        if colon is None:
            advice = FORMS_HELP if not pairs else (
                "Write one attribute per line as 'key: value' (':' or '：')."
            )
            raise ProductParseError(
                f'Line {line_number} "{_preview(line)}" has no colon. {advice}',
                position=line_number,
                fragment=line,
            )
        key, value = line[: colon.start()], line[colon.end() :]
        pairs.append(_checked_pair(key, value, line_number, line, "Line", separator=colon.group()))
    return pairs


class _JsonObject(list):
    """Key/value pairs of a JSON object in order, so repeated keys survive decoding."""


def _parse_json(body: str) -> list[tuple[str, str]]:
    try:
        data = json.loads(body, object_pairs_hook=_JsonObject)
    except json.JSONDecodeError as error:
        lines = error.doc.split("\n")
        bad_line = lines[error.lineno - 1].strip() if 0 < error.lineno <= len(lines) else ""
        raise ProductParseError(
            f"Invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
            + (f' (in "{_preview(bad_line)}")' if bad_line else "")
            + '. Expected one object such as {"title": "...", "颜色": ["白色", "蓝色"]}.',
            position=error.lineno,
            fragment=bad_line,
        ) from None
    if not isinstance(data, _JsonObject):
        raise ProductParseError(
            f"The JSON must be one object of attributes, such as "
            f'{{"title": "...", "颜色": ["白色", "蓝色"]}}; got {_json_kind(data)}.'
        )
    pairs: list[tuple[str, str]] = []
    for key_number, (raw_key, raw_value) in enumerate(data, start=1):
        key = raw_key.strip()
        if not key:
            raise ProductParseError(
                f"Key {key_number} of the JSON object is empty: every attribute needs a name.",
                position=key_number,
                fragment=raw_key,
            )
        is_list = isinstance(raw_value, list) and not isinstance(raw_value, _JsonObject)
        for item_number, item in enumerate(raw_value if is_list else [raw_value], start=1):
            if isinstance(item, list):
                where = f" (item {item_number})" if is_list else ""
                raise ProductParseError(
                    f'Key {key_number} "{_preview(key)}"{where} holds {_json_kind(item)}; values must '
                    "be text, numbers or a list of them. Flatten it into separate keys.",
                    position=key_number,
                    fragment=key,
                )
            value = _json_scalar_text(item)
            if value is not None:
                pairs.append(_checked_pair(key, value, key_number, key, "Key"))
    if not pairs:
        raise ProductParseError("The JSON object has no attributes with values. " + FORMS_HELP)
    return pairs


def _json_scalar_text(item: Any) -> str | None:
    """Text for one JSON value; None for null and blank text, which say nothing about the product."""
    if item is None:
        return None
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float)):
        return json.dumps(item)
    text = str(item).strip()
    return text or None


def _json_kind(data: Any) -> str:
    if isinstance(data, _JsonObject):
        return "a nested object"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return "a string"
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "a boolean"
    return "a number"


def _checked_pair(
    key: str, value: str, position: int, fragment: str, unit: str, separator: str = ":"
) -> tuple[str, str]:
    key, value = key.strip(), value.strip()
    label = f'{unit} {position} "{_preview(fragment)}"'
    if not key:
        raise ProductParseError(
            f"{label} has no key before '{separator}': every attribute needs a name, "
            f"e.g. 颜色{separator}白色.",
            position=position,
            fragment=fragment,
        )
    if not value:
        raise ProductParseError(
            f"{label} has no value after '{separator}': give the value or remove the attribute.",
            position=position,
            fragment=fragment,
        )
    if len(key) > MAX_KEY_CHARS:
        raise ProductParseError(
            f"{label} has a key of {len(key):,} characters; keys are limited to {MAX_KEY_CHARS}.",
            position=position,
            fragment=fragment,
        )
    if len(value) > MAX_VALUE_CHARS:
        raise ProductParseError(
            f"{label} has a value of {len(value):,} characters; values are limited to "
            f"{MAX_VALUE_CHARS:,}. Shorten it or split it into several attributes.",
            position=position,
            fragment=fragment,
        )
    return key, value


def _check_count(pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        raise ProductParseError("The product has no attributes. " + FORMS_HELP)
    if len(pairs) > MAX_ATTRIBUTES:
        key, value = pairs[MAX_ATTRIBUTES]
        raise ProductParseError(
            f"The product has {len(pairs)} attributes; at most {MAX_ATTRIBUTES} are allowed "
            f'(attribute {MAX_ATTRIBUTES + 1} is "{_preview(key)}").',
            position=MAX_ATTRIBUTES + 1,
            fragment=f"{key}: {value}",
        )


def _name_from(pairs: list[tuple[str, str]]) -> str | None:
    return next((value for key, value in pairs if key.casefold() in NAME_KEYS), None)


def _without_separators(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*＊#＃]", " ", text)).strip()


def _preview(fragment: str) -> str:
    flat = " ".join(fragment.split())
    if len(flat) <= _FRAGMENT_PREVIEW_CHARS:
        return flat
    return flat[: _FRAGMENT_PREVIEW_CHARS - 1] + "…"
