"""`adcopy batch` products per minute, one item at a time beside items batched together, in one run.

    .venv/bin/python benchmarks/batch_throughput.py [--workers 1,2,4,6] [--lang zh] [--out result.json]

Each run is the real command in its own temporary ADCOPY_HOME (the default model hard-linked from
``--models``, never written): a Shopify CSV of 8 products (Chinese or English), title +
description, 3 candidates each, ``--seed 1 --new``. ``--workers 1`` is one item at a time (the
prefix cache still on); more workers put that many items' candidates into one decode batch
(continuous batching, ``core/runtime/batching.py``). Printed side by side: wall time, products per
minute, and the ratio to one item at a time; whether the stored copy is the same for every run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
MODEL_ID = "qwen2.5-coder-0.5b-instruct"
RATE = re.compile(r"([\d.]+) products/min")

PRODUCTS = {
    "zh": [
        ("denim-jacket", "白色牛仔外套", "女装", "上衣", "颜色", "白色", "宽松版型，纯棉牛仔布，翻领设计"),
        ("silk-dress", "真丝连衣裙", "女装", "连衣裙", "颜色", "藏青色", "桑蚕丝面料，V领，中长款"),
        ("wool-sweater", "羊毛针织衫", "女装", "毛衣", "尺码", "M", "羊毛混纺，圆领，套头款"),
        ("canvas-shoes", "帆布鞋", "鞋靴", "休闲鞋", "颜色", "黑色", "帆布鞋面，橡胶鞋底，低帮"),
        ("ceramic-mug", "陶瓷马克杯", "家居", "杯子", "容量", "350ml", "高温烧制陶瓷，哑光釉面"),
        ("leather-bag", "牛皮双肩包", "箱包", "双肩包", "颜色", "棕色", "头层牛皮，可放14寸电脑"),
        ("linen-shirt", "亚麻衬衫", "男装", "衬衫", "颜色", "浅蓝色", "亚麻面料，长袖，立领"),
        ("down-vest", "轻薄羽绒马甲", "男装", "马甲", "填充", "白鸭绒", "90%白鸭绒，立领，拉链口袋"),
    ],
    "en": [
        ("denim-jacket", "White denim jacket", "Women", "Jacket", "Color", "White", "Relaxed fit, cotton denim"),
        ("silk-dress", "Silk midi dress", "Women", "Dress", "Color", "Navy", "Mulberry silk, V-neck"),
        ("wool-sweater", "Wool knit sweater", "Women", "Sweater", "Size", "M", "Wool blend, crew neck"),
        ("canvas-shoes", "Canvas sneakers", "Shoes", "Sneakers", "Color", "Black", "Canvas upper, rubber sole"),
        ("ceramic-mug", "Ceramic mug", "Home", "Mug", "Size", "350 ml", "Stoneware, matte glaze"),
        ("leather-bag", "Leather backpack", "Bags", "Backpack", "Color", "Brown", "Full-grain leather, fits 14 in"),
        ("linen-shirt", "Linen shirt", "Men", "Shirt", "Color", "Light blue", "Linen, long sleeves"),
        ("down-vest", "Light down vest", "Men", "Vest", "Fill", "White duck down", "90% down, zip pockets"),
    ],
}


def write_catalog(path: Path, language: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Handle", "Title", "Body (HTML)", "Vendor", "Type", "Option1 Name", "Option1 Value"])
        for handle_, title, vendor, kind, option, value, body in PRODUCTS[language]:
            writer.writerow([handle_, title, f"<p>{body}</p>", vendor, kind, option, value])
    return path


def stored_copy(home: Path) -> list[tuple]:
    database = next(home.rglob("library.sqlite3"), None)
    if database is None:
        return []
    with sqlite3.connect(database) as connection:
        try:
            return sorted(connection.execute(
                "SELECT p.external_id, g.kind, c.position, c.text FROM candidates c JOIN generations g "
                "ON c.generation_id = g.id JOIN products p ON g.product_id = p.id").fetchall())
        except sqlite3.Error:
            return []


def run(workers: int, args) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"bench-batch-{workers}-"))
    env = {**os.environ, "ADCOPY_HOME": str(home)}
    try:
        models = home / "data" / "models"
        probe = subprocess.run([sys.executable, "-c", "from adcopy_desktop.paths import user_folders; "
                                "print(user_folders().models)"], env=env, capture_output=True, text=True, check=True)
        models = Path(probe.stdout.strip())
        models.mkdir(parents=True)
        source = args.models / args.model
        shutil.copytree(source, models / source.name, copy_function=os.link)
        subprocess.run([sys.executable, "-m", "adcopy_desktop", "models", "use", source.name], env=env,
                       capture_output=True, check=True)
        catalog = write_catalog(home / "catalog.csv", args.lang)
        command = [sys.executable, "-m", "adcopy_desktop", "batch", "--catalog", str(catalog), "--kind",
                   "title,description", "-n", "3", "--lang", args.lang, "--seed", "1", "--new",
                   "--workers", str(workers)]
        started = time.monotonic()
        with tempfile.TemporaryFile("w+", encoding="utf-8") as out, tempfile.TemporaryFile("w+", encoding="utf-8") as err:
            child = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
            peak = 0
            watched = psutil.Process(child.pid)
            while child.poll() is None:
                try:
                    peak = max(peak, watched.memory_info().rss)
                except psutil.Error:
                    pass
                time.sleep(0.1)
            wall = time.monotonic() - started
            out.seek(0), err.seek(0)
            stdout, stderr = out.read(), err.read()
        if child.returncode != 0:
            raise SystemExit(f"workers {workers}: adcopy batch failed:\n{stdout}\n{stderr}")
        rate = RATE.search(stdout)
        return {"workers": workers, "wall_s": round(wall, 1), "products_per_minute": float(rate.group(1)) if rate else None,
                "peak_rss_mb": round(peak / 2**20), "copy": stored_copy(home), "summary": stdout.strip().splitlines()[-1]}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4,6", help="comma-separated runs (1 = one item at a time)")
    parser.add_argument("--lang", choices=sorted(PRODUCTS), default="zh")
    parser.add_argument("--models", type=Path, default=REPO / ".adcopy-test-cache" / "models",
                        help="a models folder holding --model (built by the tests or adcopy models build)")
    parser.add_argument("--model", default=MODEL_ID)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not (args.models / args.model).is_dir():
        parser.error(f"{args.models / args.model} is missing: build the model first (scripts/test.sh does).")
    results = [run(int(count), args) for count in args.workers.split(",")]
    base = results[0]
    print(f"\nadcopy batch, 8 products x title+description x 3 candidates, --lang {args.lang}, {args.model}")
    print(f"{'workers':>8} {'wall s':>8} {'products/min':>13} {'vs first':>9} {'peak RSS MB':>12}  same copy as first")
    for result in results:
        ratio = (result["products_per_minute"] / base["products_per_minute"]
                 if result["products_per_minute"] and base["products_per_minute"] else None)
        same = result["copy"] == base["copy"] if result["copy"] and base["copy"] else "n/a"
        print(f"{result['workers']:>8} {result['wall_s']:>8.1f} {result['products_per_minute'] or 0:>13.1f} "
              f"{ratio or 0:>8.2f}x {result['peak_rss_mb']:>12}  {same}")
    if args.out:
        args.out.write_text(json.dumps([{k: v for k, v in r.items() if k != "copy"} for r in results], indent=2,
                                       ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
