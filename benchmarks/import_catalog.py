"""How fast a large catalog comes in: a generated Shopify product CSV, read, grouped, stored.

    .venv/bin/python benchmarks/import_catalog.py                    # 100,000 rows, 3 runs
    .venv/bin/python benchmarks/import_catalog.py --rows 20000 --runs 5 --encoding gbk

The file has one row per variant (4 variants of each product, Chinese and English text, an HTML
description on the first row), like Shopify's export. Each run times, separately: reading (decode
+ CSV parsing of every row), grouping (variant rows into products, HTML to text, facts checked),
and inserting into a fresh library (one transaction, executemany); then the same file again
(every product updated, none added). It prints rows per second for each step, the median of the
runs, and the whole ``read_catalog`` call as a user gets it.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adcopy_desktop.core.catalog import read_catalog  # noqa: E402
from adcopy_desktop.core.catalog.formats import shopify_products  # noqa: E402
from adcopy_desktop.core.catalog.reader import _text_of  # noqa: E402
from adcopy_desktop.core.catalog.table import read_csv_table  # noqa: E402
from adcopy_desktop.core.library import Library  # noqa: E402

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
          "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Variant SKU", "Variant Grams",
          "Variant Inventory Qty", "Variant Price", "Variant Compare At Price", "Image Src", "SEO Title",
          "SEO Description", "Status"]
COLOURS = ["白色", "黑色", "navy", "sand"]


def write_catalog(path: Path, rows: int, encoding: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for index in range(rows):
        product, variant = divmod(index, 4)
        first = variant == 0
        writer.writerow([
            f"product-{product}", f"纯棉T恤 Cotton tee {product}" if first else "",
            f"<p>亲肤<b>纯棉</b>面料，透气舒适。</p><ul><li>Relaxed fit</li><li>Machine wash</li></ul>" if first else "",
            "青山 Qingshan" if first else "", "Apparel > Tops" if first else "", "T恤" if first else "",
            "夏季, cotton" if first else "", "TRUE" if first else "", "颜色" if first else "", COLOURS[variant],
            "Size" if first else "", "M", f"SKU-{product}-{variant}", "200", "15", "99.00", "129.00",
            f"https://cdn.example.com/{product}.jpg" if first else "", f"Cotton tee {product}" if first else "",
            "Soft cotton tee" if first else "", "active" if first else "",
        ])
    path.write_bytes(buffer.getvalue().encode(encoding))


def measure(path: Path, work: Path, run: int) -> dict[str, float]:
    started = time.perf_counter()
    text, _, _ = _text_of(path, None)
    table = read_csv_table(text)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    result = shopify_products(table)
    group_s = time.perf_counter() - started
    with Library(work / f"library-{run}.sqlite3") as library:
        started = time.perf_counter()
        counts = library.import_products(result.items, source_format="shopify")
        insert_s = time.perf_counter() - started
        assert counts.added == len(result.items)
        started = time.perf_counter()
        again = library.import_products(result.items, source_format="shopify")
        update_s = time.perf_counter() - started
        assert again.updated == len(result.items) and again.added == 0
    started = time.perf_counter()
    whole = read_catalog(path)
    whole_s = time.perf_counter() - started
    assert len(whole.items) == len(result.items) and not whole.skipped
    return {"read": read_s, "group": group_s, "insert": insert_s, "update": update_s, "read_catalog": whole_s,
            "products": len(result.items), "rows": len(table.records)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--encoding", default="utf-8", help="utf-8, gbk, utf-16 ...")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        path = work / "products_export.csv"
        write_catalog(path, args.rows, args.encoding)
        size_mb = path.stat().st_size / 2**20
        runs = [measure(path, work, run) for run in range(args.runs)]
    rows, products = runs[0]["rows"], runs[0]["products"]
    print(f"catalog: {rows:,} rows, {products:,} products, {size_mb:.1f} MiB, {args.encoding}; "
          f"median of {args.runs} runs")
    print("| step | seconds | rows/s |")
    print("|---|---|---|")
    for step in ("read", "group", "insert", "update", "read_catalog"):
        seconds = statistics.median(run[step] for run in runs)
        print(f"| {step} | {seconds:.2f} | {rows / seconds:,.0f} |")


if __name__ == "__main__":
    main()
