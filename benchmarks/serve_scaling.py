"""Bulk generation against 1, 2, 4 … local ``adcopy serve`` processes: products per minute and
the scaling, next to the same job run locally (the serve overhead).

    python benchmarks/serve_scaling.py --models DIR [--model ID] [--products 200] [--servers 1,2,4]
                                       [--kind title] [-n 2] [--token-delay-ms 0]
                                       [--out result.json]

``--models`` is a models folder (``adcopy paths`` shows yours; tests pass the tiny random-weight
one); every server and the local run get a copy of its pointer, so nothing of yours is changed.
Each server takes one request at a time (``--max-concurrent 1``, as on a CPU), the client runs
``adcopy batch --backend pool`` with as many workers as servers. On one machine the servers share
its cores, so the figures show the pool's overhead and scheduling, not a GPU box's speed;
``--token-delay-ms`` makes each server slower per token (a stand-in for a remote model whose time
is spent on the server, not on this CPU), which is where adding servers shows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serve_processes import start_server  # noqa: E402  (the same helper the tests use)

RATE = re.compile(r"([\d.]+) products/min")


def make_home(root: Path, models: Path, model: str | None) -> Path:
    home = root
    shutil.copytree(models, home / "data" / "models", symlinks=True)
    if model:
        pointer = home / "data" / "models" / "active.json"
        pointer.write_text(json.dumps({"model": model, "styles": {}}), encoding="utf-8")
    return home


def write_catalog(path: Path, products: int) -> None:
    colours = ["white", "blue", "grey", "black", "red", "green", "navy", "beige"]
    kinds = ["linen shirt", "wool hat", "ceramic mug", "denim jacket", "canvas bag"]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(products):
            handle.write(json.dumps({"id": f"p{i}", "title": f"{colours[i % 8].title()} {kinds[i % 5]} {i}",
                                     "color": colours[i % 8], "type": kinds[i % 5]}) + "\n")


def run_batch(home: Path, catalog: Path, args, backend: str | None, workers: int) -> tuple[float, float, str]:
    env = {**os.environ, "ADCOPY_HOME": str(home), "ADCOPY_PLUGINS": ""}
    command = [sys.executable, "-m", "adcopy_desktop", "batch", "--catalog", str(catalog), "--kind", args.kind,
               "-n", str(args.n), "--lang", "en", "--new", "--seed", "1"]
    if backend:
        command += ["--backend", backend, "--workers", str(workers)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout, cwd=ROOT)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"adcopy batch failed ({backend or 'local'}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    rates = RATE.findall(result.stdout)
    return seconds, float(rates[-1]) if rates else 0.0, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, required=True, help="a models folder (with active.json)")
    parser.add_argument("--model", help="model id to serve (default: the folder's active model)")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--servers", default="1,2,4")
    parser.add_argument("--kind", default="title")
    parser.add_argument("-n", type=int, default=2)
    parser.add_argument("--token-delay-ms", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--skip-local", action="store_true", help="do not run the local (no server) baseline")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    counts = [int(c) for c in args.servers.split(",") if c.strip()]
    work = Path(tempfile.mkdtemp(prefix="adcopy-serve-scaling-"))
    catalog = work / "catalog.jsonl"
    write_catalog(catalog, args.products)
    results: dict = {"products": args.products, "kind": args.kind, "n": args.n,
                     "token_delay_ms": args.token_delay_ms, "cpus": os.cpu_count(), "runs": []}
    try:
        if not args.skip_local:
            home = make_home(work / "local", args.models, args.model)
            seconds, rate, _ = run_batch(home, catalog, args, None, 1)
            results["runs"].append({"servers": 0, "seconds": round(seconds, 2), "products_per_min": rate})
            print(f"local (no server)   {seconds:8.1f} s  {rate:8.1f} products/min", flush=True)
        for count in counts:
            servers = []
            try:
                for i in range(count):
                    home = make_home(work / f"server-{count}-{i}", args.models, args.model)
                    extra = ["--max-concurrent", "1"]
                    if args.token_delay_ms:
                        extra += ["--token-delay-ms", str(args.token_delay_ms)]
                    servers.append(start_server(home, *extra))
                client = work / f"client-{count}"
                client.mkdir()
                settings = {"backends": [{"name": f"s{i}", "base_url": s.url, "max_concurrent": 1}
                                         for i, s in enumerate(servers)]}
                (client / "config").mkdir()
                (client / "config" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
                seconds, rate, _ = run_batch(client, catalog, args, "pool", count)
            finally:
                for server in servers:
                    server.stop()
            results["runs"].append({"servers": count, "seconds": round(seconds, 2), "products_per_min": rate})
            print(f"{count} server(s)         {seconds:8.1f} s  {rate:8.1f} products/min", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    served = [r for r in results["runs"] if r["servers"]]
    if served and served[0]["products_per_min"]:
        base = served[0]["products_per_min"]
        print("\nservers  products/min  speed-up vs 1 server  efficiency")
        for run in served:
            speedup = run["products_per_min"] / base
            run["speedup"] = round(speedup, 2)
            print(f"{run['servers']:>7}  {run['products_per_min']:>12.1f}  {speedup:>20.2f}  "
                  f"{speedup / run['servers']:>10.0%}")
    local = next((r for r in results["runs"] if r["servers"] == 0), None)
    if local and served and local["products_per_min"]:
        overhead = local["products_per_min"] / served[0]["products_per_min"] - 1 if served[0]["products_per_min"] else None
        results["one_server_vs_local"] = None if overhead is None else round(overhead, 3)
        if overhead is not None:
            print(f"\none server vs local: the local run is {overhead:+.0%} faster (HTTP, JSON, streaming, and the "
                  "server's own start of each request)")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
