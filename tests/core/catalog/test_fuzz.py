"""Generated malformed catalog files: every one finishes in time and raises nothing but the
project's own errors; good rows mixed with bad ones still import."""

from __future__ import annotations

import io
import json
import random
import zipfile
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest

from adcopy_desktop.core.catalog import ColumnMapping, preview_catalog, read_catalog
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library
from tests.core.catalog.samples import SHOPIFY_HEADER, WOO_HEADER, csv_text, shopify_rows, woo_row

FILES = 1_050
DEADLINE_S = 20.0  # per file; a hang, not slowness, is what this catches
CHINESE = "纯棉短袖T恤白色黑色真丝连衣裙透气运动鞋蓝色網面顏色"


def _valid_csv(rng: random.Random) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        return csv_text(SHOPIFY_HEADER, shopify_rows())
    if choice == 1:
        return csv_text(WOO_HEADER, [woo_row(id=str(i), type="simple", name=f"商品{i}", a1n="颜色", a1v="白色, 黑色")
                                     for i in range(5)])
    return csv_text(["sku", "商品名称", "颜色"], [[str(i), f"品{i}", rng.choice(CHINESE)] for i in range(8)])


def _xlsx_bytes() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(SHOPIFY_HEADER)
    for row in shopify_rows():
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _broken_xlsx(rng: random.Random, valid: bytes) -> bytes:
    how = rng.randrange(4)
    if how == 0:
        return valid[: rng.randrange(1, len(valid))]
    if how == 1:
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 50)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(valid and io.BytesIO(valid)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if how == 2 and info.filename.endswith(".xml") and rng.random() < 0.5:
                content = content[: rng.randrange(len(content) + 1)]  # truncated XML part
            if how == 3 and "sheet1" in info.filename:
                continue  # a workbook whose sheet is missing
            target.writestr(info.filename, content)
    return buffer.getvalue()


def _malformed(rng: random.Random, number: int, xlsx: bytes) -> tuple[str, bytes]:
    kind = number % 12
    text = _valid_csv(rng)
    if kind == 0:
        return ".csv", bytes(rng.randrange(256) for _ in range(rng.randrange(0, 4000)))
    if kind == 1:  # a multibyte text cut inside a character, in some encoding
        encoding = rng.choice(["utf-8", "gbk", "big5", "utf-16", "utf-16-le"])
        data = text.encode(encoding, errors="replace")
        return ".csv", data[: rng.randrange(1, len(data))]
    if kind == 2:  # unbalanced quotes in random places
        chars = list(text)
        for _ in range(rng.randrange(1, 6)):
            chars.insert(rng.randrange(len(chars) + 1), '"')
        return ".csv", "".join(chars).encode("utf-8")
    if kind == 3:  # NULs and control characters
        chars = list(text)
        for _ in range(rng.randrange(1, 40)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(["\x00", "\x1a", "\r", "\x0b", "\u2028"]))
        return ".csv", "".join(chars).encode("utf-8")
    if kind == 4:  # huge fields, quoted or not
        big = rng.choice(["x", "长", "a,b"]) * rng.randrange(10_000, 400_000)
        quote = rng.random() < 0.5
        field = f'"{big}"' if quote else big.replace(",", ";")
        return ".csv", (text + f"huge,{field},x\n").encode("utf-8")
    if kind == 5:  # wrong or odd headers
        header = rng.choice([["Handle"], ["ID", "Name"], [""] * 5, ["Handle", "Handle", "Title", "Option1 Value"],
                             [str(i) for i in range(2000)], ["Name", "Type", "SKU", "ID", "Parent"]])
        rows = [[rng.choice(["", "x", "id:1", "variation", CHINESE[:5]]) for _ in range(rng.randrange(0, 8))]
                for _ in range(rng.randrange(0, 10))]
        return ".csv", csv_text(header, rows).encode("utf-8")
    if kind == 6:  # empty, blank or BOM-only
        return ".csv", rng.choice([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\n\n", b"\xef\xbb\xbf\r\n", b" "])
    if kind == 7:  # mixed encodings line by line
        lines = text.splitlines(keepends=True)
        return ".csv", b"".join(line.encode(rng.choice(["utf-8", "gbk", "utf-16-le"]), errors="replace")
                                for line in lines)
    if kind == 8:
        return ".xlsx", _broken_xlsx(rng, xlsx)
    if kind == 9:  # bad JSON lines
        lines = []
        for _ in range(rng.randrange(0, 30)):
            lines.append(rng.choice([
                json.dumps({"id": rng.randrange(5), "title": CHINESE[: rng.randrange(1, 9)]}, ensure_ascii=False),
                "{", "[]", "null", '"text"', "{\"a\": {\"b\": [1, {\"c\": 2}]}}", "[" * 5000,
                json.dumps({"": "empty key", "k" * 300: "v" * 5000}), "{\"title\": \"\\ud800\"}",
                bytes(rng.randrange(256) for _ in range(20)).decode("latin-1"),
            ]))
        return ".jsonl", "\n".join(lines).encode(rng.choice(["utf-8", "gbk"]), errors="replace")
    if kind == 10:  # random byte flips in a valid file
        data = bytearray(text.encode(rng.choice(["utf-8", "gbk"]), errors="replace"))
        for _ in range(rng.randrange(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return ".csv", bytes(data)
    # rows of random width and random separators
    separators = [",", "\t", ";", "|", '"', "\n"]
    pieces = [rng.choice(separators + ["x", "长", "a b", ""]) for _ in range(rng.randrange(0, 500))]
    return rng.choice([".csv", ".tsv", ".jsonl"]), "".join(pieces).encode("utf-8")


def _read(path: Path, library: Library):
    try:
        preview_catalog(path)
    except AdCopyError:
        pass
    result = read_catalog(path)
    counts = library.import_products(result.items, source_format=result.format)  # storable, too
    assert counts.added + counts.updated + counts.unchanged == len(result.items)
    return result


def test_a_thousand_malformed_files_never_crash_or_hang(tmp_path):
    rng = random.Random(20261129)
    xlsx = _xlsx_bytes()
    crashes: list[str] = []
    hangs: list[str] = []
    outcomes = {"read": 0, "refused": 0}
    with ThreadPoolExecutor(max_workers=1) as pool, Library(tmp_path / "library.sqlite3") as library:
        for number in range(FILES):
            suffix, data = _malformed(rng, number, xlsx)
            path = tmp_path / f"fuzz-{number}{suffix}"
            path.write_bytes(data)
            future = pool.submit(_read, path, library)
            try:
                result = future.result(timeout=DEADLINE_S)
            except FutureTimeout:
                hangs.append(path.name)
                break  # the worker is stuck; nothing more can run on it
            except AdCopyError:
                outcomes["refused"] += 1
            except Exception as error:  # noqa: BLE001 - any other exception is a crash
                crashes.append(f"{path.name}: {type(error).__name__}: {error}"[:300])
            else:
                outcomes["read"] += 1
                assert result.rows_read >= 0
                for problem in result.problems:
                    assert problem.row is None or problem.row >= 1
                    assert problem.column is None or problem.column >= 1
            path.unlink()
    assert hangs == [] and crashes == []
    assert outcomes["read"] > 100 and outcomes["refused"] > 50  # both paths were exercised


BAD_LINES = [
    lambda rng: 'junk,"never closed,' + "x" * rng.randrange(1, 20),
    lambda rng: "junk," + "a," * rng.randrange(3, 9) + "extra",
    lambda rng: "\x00\x00,\x00",
    lambda rng: "",
    lambda rng: 'junk,ok,"' + "长" * rng.randrange(1, 50),
    lambda rng: "," * rng.randrange(3, 6),
]


@pytest.mark.parametrize("seed", range(25))
def test_good_rows_mixed_with_bad_rows_all_import(tmp_path, seed):
    rng = random.Random(seed)
    lines = ["sku,name,color"]
    good = []
    for index in range(40):
        if rng.random() < 0.3:
            lines.append(rng.choice(BAD_LINES)(rng))
        sku = f"good-{index}"
        good.append(sku)
        lines.append(f"{sku},商品{index},{rng.choice(['白色', '黑色', 'blue'])}")
    path = tmp_path / "mixed.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(rng.choice(["utf-8", "gbk", "utf-16"])))
    result = read_catalog(path, mapping=ColumnMapping(name="name", id="sku", attributes=["color"]))
    imported = [item.external_id for item in result.items]
    assert [sku for sku in imported if sku.startswith("good-")] == good
    for item in result.items:
        if item.external_id.startswith("good-"):
            assert len(item.source_record["rows"]) == 1 and item.source_record["rows"][0][0] == item.external_id


# -- XLSX dimension tricks: a stale or huge declared dimension, far cells, rows beyond the limit ----------

XLSX_TRICKS = 60


def _tricky_workbook(rng: random.Random, number: int) -> tuple[bytes, list[str], list[int], int | None]:
    """(workbook, the skus it holds, rows of far cells that must be reported, row limit to set)."""
    from tests.core.catalog.samples import with_dimension, xlsx_bytes

    count = rng.randrange(1, 400)
    rows: list[list[object]] = [["sku", "name", "color"]]
    skus = []
    for index in range(count):
        if rng.random() < 0.05:
            rows.append([])  # an empty row between values
        sku = f"X{number}-{index}"
        skus.append(sku)
        rows.append([sku, f"{CHINESE[index % len(CHINESE)]}{index}", rng.choice(["白色", "black", 3, 2.5])])
    trick = number % 5
    far: dict[str, object] = {}
    far_rows: list[int] = []
    if trick in (1, 4):  # one far cell (openpyxl then declares a huge dimension)
        row = rng.choice([len(rows) + rng.randrange(1, 50), rng.randrange(len(rows) + 1, 1_048_577), 1_048_576])
        column = rng.choice(["D", "AA", "ALL", "ALM", "XFD"])  # beyond the header; ALM is column 1,001
        far[f"{column}{row}"] = "far"
        far_rows.append(row)
    data = xlsx_bytes(rows, cells=far)
    if trick == 0:  # a stale dimension, smaller than the data
        data = with_dimension(data, f"A1:{rng.choice('ABC')}{rng.randrange(1, max(2, len(rows)))}")
    elif trick == 2:  # a huge declared dimension over a small sheet
        data = with_dimension(data, rng.choice(["A1:XFD1048576", "A1:C1048576", "A1:XFD5"]))
    limit = rng.randrange(1, len(skus) + 1) if trick == 3 else None  # rows beyond the limit (header counts)
    if trick == 3:
        data = with_dimension(data, "A1:C2")
    return data, skus, far_rows, limit


def test_xlsx_dimension_tricks_never_hang_and_never_lose_a_row_silently(tmp_path, monkeypatch):
    from adcopy_desktop.core.catalog import table as table_module

    rng = random.Random(20261201)
    outcomes = {"read": 0, "over the limit": 0}
    hangs: list[str] = []
    losses: list[str] = []
    with ThreadPoolExecutor(max_workers=1) as pool, Library(tmp_path / "library.sqlite3") as library:
        for number in range(XLSX_TRICKS):
            data, skus, far_rows, limit = _tricky_workbook(rng, number)
            path = tmp_path / f"tricky-{number}.xlsx"
            path.write_bytes(data)
            monkeypatch.setattr(table_module, "MAX_XLSX_ROWS", limit or 1_000_000)
            future = pool.submit(_read, path, library)
            try:
                result = future.result(timeout=DEADLINE_S)
            except FutureTimeout:
                hangs.append(path.name)
                break
            except AdCopyError as error:
                if limit is None or "Split the sheet" not in str(error) or f"more than {limit:,} rows" not in str(error):
                    losses.append(f"{path.name}: refused: {error}")
                outcomes["over the limit"] += 1
                continue
            outcomes["read"] += 1
            if limit is not None:
                losses.append(f"{path.name}: {len(skus) + 1} rows read past a limit of {limit}")
            read = [item.external_id for item in result.items]
            if read != skus:
                losses.append(f"{path.name}: {len(read)} of {len(skus)} rows")
            reported = {p.row for p in result.problems}
            losses += [f"{path.name}: far cell in row {row} not reported" for row in far_rows if row not in reported]
            path.unlink()
    assert hangs == [] and losses == []
    assert outcomes["read"] >= 30 and outcomes["over the limit"] >= 5
