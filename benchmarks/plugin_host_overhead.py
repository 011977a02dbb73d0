"""What running plugins out of process costs: per scorer call, per candidate, per host.

    .venv/bin/python benchmarks/plugin_host_overhead.py [--calls 300]

The same three small scorer plugins (and one process_candidate hook) run four ways:

- in process, no deadline (the call as it was before plugin hosts);
- in process with a deadline (a worker thread per call, abandoned past the deadline);
- one plugin host per plugin (what AdCopy does);
- one host shared by the three plugins.

Prints the median and p95 time of one scorer call through ``PluginManager.score``, the time per
candidate (process_candidate + the three scorers), and each host's start time and memory.
Figures from a run are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adcopy_desktop.core.candidates import Candidate  # noqa: E402
from adcopy_desktop.core.plugins import PluginManager  # noqa: E402
from adcopy_desktop.core.product import parse_product  # noqa: E402
from adcopy_desktop.core.prompts import CopyRequest  # noqa: E402

PLUGINS = 3
CODE = '''
from adcopy_desktop.core.plugins import Score, Scorer, hookimpl

def score(candidate, context):
    words = candidate.text.split()
    return Score(min(1.0, len(words) / 20), "ok", f"{{len(words)}} words")

@hookimpl
def register_scorers(register):
    register(Scorer(name="bench-{n}", score=score))

@hookimpl
def process_candidate(candidate):
    candidate.flags.append({{"rule": "bench-{n}", "severity": "info"}})
    return candidate
'''


def write_plugins(folder: Path) -> list[dict]:
    specs = []
    for n in range(PLUGINS):
        name = f"adcopy-bench-{n}"
        module = f"adcopy_bench_plugin_{n}_{os.getpid()}"
        target = folder / name
        target.mkdir(parents=True)
        (target / f"{module}.py").write_text(textwrap.dedent(CODE.format(n=n)), encoding="utf-8")
        dist_info = target / f"adcopy_bench_{n}-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (dist_info / "entry_points.txt").write_text(f"[adcopy]\nmain = {module}\n")
        specs.append({"name": name, "entry_name": "main", "value": module, "folder": str(target)})
    return specs


def timed(fn, calls: int) -> tuple[float, float]:
    for _ in range(20):  # warm up
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def measure(label: str, manager: PluginManager, calls: int, rows: list) -> None:
    candidate = Candidate(text="A fragrant green tea from the high mountains, picked before the rain.",
                          kind="title", model="bench", language="en")
    request = CopyRequest(parse_product("Type: green tea"), "title", language="en")
    names = [f"bench-{n}" for n in range(PLUGINS)]
    assert set(names) <= set(manager.scorers()), manager.problems
    one = timed(lambda: manager.score(candidate, scorers=names[:1]), calls)

    def per_candidate():
        processed = manager.process_candidate(candidate, request=request, style=None)
        manager.score(processed, scorers=names)

    whole = timed(per_candidate, calls)
    assert manager.problems == [], manager.problems
    rows.append((label, one, whole))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("ADCOPY_HOME", tempfile.mkdtemp(prefix="adcopy-bench-home-"))
    folder = Path(tempfile.mkdtemp(prefix="adcopy-bench-plugins-"))
    specs = write_plugins(folder)
    common = dict(builtins=False, entry_points=[], plugin_folder=folder, safe_mode=False, allow="*", disabled=[])
    rows: list = []

    manager = PluginManager(**common, isolation="in-process", deadlines={kind: None for kind in ("hook", "scorer")})
    measure("in process, no deadline", manager, args.calls, rows)
    manager.close()

    manager = PluginManager(**common, isolation="in-process", deadlines={})
    measure("in process, with deadlines", manager, args.calls, rows)
    manager.close()

    started = time.perf_counter()
    manager = PluginManager(**common, isolation="process", deadlines={}).load()
    start_per_plugin = time.perf_counter() - started
    hosts = list(manager._hosts)
    rss_per_plugin = [host_rss(host) for host in hosts]
    measure(f"a plugin host per plugin ({len(hosts)} hosts)", manager, args.calls, rows)
    manager.close()

    from adcopy_desktop.core.plugins.remote import PluginHost, remote_plugin

    started = time.perf_counter()
    shared = PluginHost(specs, label="shared", deadlines={"load": 30})
    shared.start()
    reports = shared.finish_start(30)
    start_shared = time.perf_counter() - started
    manager = PluginManager(builtins=False, entry_points=[], plugin_folder=False, safe_mode=False, allow="*",
                            disabled=[], deadlines={})
    for report in reports:
        manager.add_plugin(remote_plugin(report["name"], shared, report), name=report["name"])
    rss_shared = host_rss(shared)
    measure("one host shared by all", manager, args.calls, rows)
    manager.close()
    shared.stop("benchmark done")

    print(f"{PLUGINS} scorer plugins (+ a process_candidate hook each), {args.calls} calls, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{'':38} {'one scorer call':>22} {'one candidate':>22}")
    print(f"{'':38} {'median':>10} {'p95':>11} {'median':>10} {'p95':>11}")
    for label, (one_median, one_p95), (all_median, all_p95) in rows:
        print(f"{label:38} {one_median:8.0f} us {one_p95:8.0f} us {all_median:8.0f} us {all_p95:8.0f} us")
    print(f"start (spawn, import, register): {start_per_plugin:.2f} s for {PLUGINS} hosts in parallel, "
          f"{start_shared:.2f} s for one shared host")
    print(f"memory (RSS): {', '.join(f'{m:.0f}' for m in rss_per_plugin)} MB per plugin host; "
          f"{rss_shared:.0f} MB for the shared host")


def host_rss(host) -> float:
    import psutil

    try:
        return psutil.Process(host.process.pid).memory_info().rss / 1e6
    except (psutil.Error, AttributeError):
        return float("nan")


if __name__ == "__main__":
    main()
