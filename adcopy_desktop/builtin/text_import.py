"""Import products from text files.

- ``.txt``: products separated by blank lines, each in any form ``parse_product`` reads; a block
  whose lines are all attribute strings (类型#上衣*颜色#白色) is one product per line.
- ``.jsonl``: one JSON object per line.

Errors name the file and the line of the product at fault.
"""

from __future__ import annotations

from pathlib import Path

from adcopy_desktop.core.errors import ProductParseError
from adcopy_desktop.core.plugins import Importer, hookimpl
from adcopy_desktop.core.product import parse_product

NAME = "text"


def _is_attribute_line(line: str) -> bool:
    return ("#" in line or "＃" in line) and ":" not in line and "：" not in line and not line.lstrip().startswith("{")


def _chunks(text: str, jsonl: bool) -> list[tuple[int, str]]:
    """(first line number, product text) pairs."""
    lines = text.split("\n")
    if jsonl:
        return [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    chunks: list[tuple[int, str]] = []
    block: list[tuple[int, str]] = []
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip():
            block.append((number, line))
            continue
        if block:
            if all(_is_attribute_line(text) for _, text in block):
                chunks.extend(block)
            else:
                chunks.append((block[0][0], "\n".join(text for _, text in block)))
            block = []
    return chunks


def read(path: Path, options) -> list:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProductParseError(f"{path.name} is not UTF-8 text ({error}). Save it as UTF-8 and try again.") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    products = []
    for line, chunk in _chunks(text, path.suffix.lower() == ".jsonl"):
        try:
            products.append(parse_product(chunk))
        except ProductParseError as error:
            raise ProductParseError(f"{path.name}, product at line {line}: {error}", position=line) from None
    if not products:
        raise ProductParseError(f"{path.name} holds no products.")
    return products


@hookimpl
def register_importers(register):
    register(Importer(
        name=NAME,
        label="Text / JSON lines",
        description="Products separated by blank lines (.txt; attribute strings one per line), or one JSON "
                    "object per line (.jsonl).",
        extensions=(".txt", ".jsonl"),
        read=read,
    ))
