"""Randomised fault runs of the whole export path: 0 lost items, 0 duplicated writes.

Each run builds a small library, a fake shop with random faults (throttling bursts, 5xx, 429,
connections dropped before and after the shop committed, partially failed batches, products the
shop refuses) and, in some runs, a crash of the exporting code at a random point (before or after
the shop applied a request) followed by a restart on the reopened library, sometimes with newer
accepted copy. The user "runs export again" until nothing is unfinished. Then:

- lost: a product whose shop state is not its newest accepted copy (unless the shop refused it
  for good, which must then be a failed item with the shop's message), or an item left unfinished;
- duplicated write: a write that changed a product to a value it had already been changed to
  before (an older copy applied again over a newer one), or more changes than copy versions.
Re-sending an identical update after a lost answer changes nothing; those are counted separately.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adcopy_desktop.core.export import export_to_shop, resume
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.outbox import Outbox, RetryPolicy
from adcopy_desktop.core.plugins import PluginManager
from adcopy_desktop.core.product_copy import product_copies
from adcopy_desktop.core.shops.shopify import ShopifyClient
from adcopy_desktop.core.shops.woocommerce import WooCommerceClient
from tests.core.shops.helpers import accept, add_product_with_copy
from tests.shop_servers import Faults, FakeShopify, FakeWooCommerce

RUNS = int(os.environ.get("ADCOPY_OUTBOX_RUNS", "1000"))
KILLED_RUNS = int(os.environ.get("ADCOPY_OUTBOX_KILLED_RUNS", "20"))
REPO = Path(__file__).resolve().parents[2]
POLICY = dict(base_s=0.0003, max_s=0.002, max_attempts=6)


class Crash(BaseException):
    """The exporting process dies here: nothing after it runs."""


@dataclass
class Tally:
    runs: int = 0
    items: int = 0
    lost: int = 0
    duplicated: int = 0
    resent_unchanged: int = 0
    crashes: int = 0
    failed_as_expected: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        for name in ("runs", "items", "lost", "duplicated", "resent_unchanged", "crashes", "failed_as_expected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems


class CrashingClient:
    """Wraps a real client; on its ``at``-th send the process 'dies', before or after the shop
    received the request."""

    def __init__(self, client, at: int, after_commit: bool):
        self.client, self.at, self.after_commit = client, at, after_commit
        self.batch_size, self.destination, self.calls = client.batch_size, client.destination, 0

    def send(self, items):
        self.calls += 1
        if self.calls == self.at:
            if self.after_commit:
                try:
                    self.client.send(items)
                except Exception:
                    pass
            raise Crash()
        return self.client.send(items)


def shop_state(fields: dict, target: str) -> tuple:
    if target == "shopify":
        return (fields["title"], fields["description_html"], fields.get("seo_title"), fields.get("seo_description"))
    return (fields["title"], fields["description_html"], ())


def one_run(seed: int, folder, plugins, servers) -> Tally:
    rng = random.Random(seed)
    tally = Tally(runs=1)
    target = rng.choice(["shopify", "woocommerce"])
    server = servers[target]
    count = rng.randint(1, 5)
    faults = Faults(rng=random.Random(seed * 7 + 1), http_5xx=rng.uniform(0, 0.15), http_429=rng.uniform(0, 0.1),
                    drop_before_commit=rng.uniform(0, 0.1), drop_after_commit=rng.uniform(0, 0.2),
                    item_5xx=rng.uniform(0, 0.15), throttle_burst=rng.randint(0, 3))
    refused: set[str] = set()
    if target == "shopify":
        keys = [f"p{seed}-{i}" for i in range(count)]
        refused = {k for k in keys if rng.random() < 0.1}  # not in the shop: productByIdentifier null
        server.reset([k for k in keys if k not in refused], faults=faults,
                     maximum=rng.choice([1000.0, 25.0]), restore_rate=2000.0)
        make = lambda: ShopifyClient(server.url, "shpat_test")  # noqa: E731
    else:
        ids = list(range(1, count + 1))
        locked = {pid for pid in ids if rng.random() < 0.15}
        server.reset({pid: f"SKU-{seed}-{pid}" for pid in ids}, locked=locked, faults=faults)
        keys = [str(pid) if rng.random() < 0.5 else f"SKU-{seed}-{pid}" for pid in ids]
        refused = {k for k, pid in zip(keys, ids) if pid in locked}
        make = lambda: WooCommerceClient(server.url, "ck_test", "cs_test",  # noqa: E731
                                         batch_size=rng.choice([1, 2, 100]))
    path = folder / f"run-{seed}.sqlite3"
    library = Library(path)
    product_ids = {key: add_product_with_copy(library, key, key, {"title": f"Title {key} v1",
                                                                 "description": f"Text <{key}> & more"})
                   for key in keys}
    policy = RetryPolicy(**POLICY, rng=random.Random(seed))
    options = {"shop_url": server.url}
    crash_at = rng.randint(1, count + 2) if rng.random() < 0.4 else None
    try:
        client = CrashingClient(make(), crash_at, rng.random() < 0.5) if crash_at else make()
        try:
            export_to_shop(library, plugins, target, options=options, client=client, policy=policy)
        except Crash:
            tally.crashes += 1
            library.close()
            library = Library(path)  # the restart
            edited = rng.random() < 0.4
            if edited:  # the user accepts newer copy, then exports again
                key = rng.choice(keys)
                time.sleep(0.002)  # a later generation
                accept(library, product_ids[key], {"title": f"Title {key} v2"})
            if edited or rng.random() < 0.5:  # otherwise only the unfinished job is resumed
                export_to_shop(library, plugins, target, options=options, client=make(), policy=policy)
        for _ in range(30):  # the user runs the export again until the outbox is empty
            if not Outbox(library).unfinished_jobs():
                break
            resume(library, plugins, target, server.url, client=make(), policy=policy)
        verify(tally, f"seed {seed}", library, server, target, keys, refused)
    finally:
        library.close()
        for suffix in ("", "-wal", "-shm"):
            (folder / f"run-{seed}.sqlite3{suffix}").unlink(missing_ok=True)
    return tally


def verify(tally: Tally, run: str, library: Library, server, target: str, keys: list[str], refused: set[str]) -> None:
    """Compare the shop with the newest exported copy; count lost items and duplicated writes."""
    expected = {copy.external_id: shop_state(copy.shop_fields(), target) for copy in product_copies(library)}
    outbox = Outbox(library)
    unfinished = [i for job in outbox.jobs(limit=100) for i in outbox.items(job.id, ("pending", "sent"))]
    newest_items = {}
    for job in outbox.jobs(limit=100)[::-1]:
        for item in outbox.items(job.id):
            if item.status != "superseded":
                newest_items[item.external_key] = item
    with server.lock:
        for key in keys:
            tally.items += 1
            shop_key = key if target == "shopify" else str(server_id(server, key))
            changes = server.changes.get(shop_key, [])
            writes = server.writes.get(shop_key, [])
            tally.resent_unchanged += len(writes) - len(changes)
            versions = {json.dumps(i.payload, sort_keys=True) for job in outbox.jobs(limit=100)
                        for i in outbox.items(job.id) if i.external_key == key}
            repeated = len(changes) - len(set(changes)) + max(0, len(changes) - len(versions))
            if repeated:
                tally.duplicated += repeated
                tally.problems.append(f"{run} {key}: changes {changes}")
            item = newest_items.get(key)
            if key in refused:
                if item is None or item.status != "failed" or not item.last_error or changes:
                    tally.lost += 1
                    tally.problems.append(f"{run} {key}: refused but {item}")
                else:
                    tally.failed_as_expected += 1
                continue
            state = current_state(server, target, shop_key)
            if state != expected[key] or item is None or item.status != "done":
                tally.lost += 1
                tally.problems.append(f"{run} {key}: shop {state} expected {expected[key]} item {item}")
    if unfinished:
        tally.lost += len(unfinished)
        tally.problems.append(f"{run}: {len(unfinished)} unfinished")


def server_id(server, key: str) -> int:
    if key.isdigit():
        return int(key)
    return next(pid for pid, product in server.products.items() if product["sku"] == key)


def current_state(server, target: str, key: str) -> tuple:
    if target == "shopify":
        from tests.shop_servers import _shopify_state

        return _shopify_state(server.products[key])
    from tests.shop_servers import _woo_state

    return _woo_state(server.products[int(key)])


@pytest.fixture(scope="module")
def servers():
    shops = {"shopify": FakeShopify(), "woocommerce": FakeWooCommerce()}
    yield shops
    for shop in shops.values():
        shop.close()


@pytest.fixture
def fast_folder(tmp_path):
    """Library files for the many runs: in shared memory where the system has it (the runs open and
    close a thousand SQLite files; the disk's fsyncs would dominate)."""
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as folder:
        yield Path(folder)


def test_randomised_fault_runs_lose_and_duplicate_nothing(fast_folder, servers, capsys):
    plugins = PluginManager().load()
    total = Tally()
    started = time.perf_counter()
    try:
        for seed in range(RUNS):
            total.add(one_run(seed, fast_folder, plugins, servers))
    finally:
        plugins.close()
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\noutbox reliability: {total.runs} runs, {total.items} items, {total.crashes} crashes, "
              f"{total.failed_as_expected} refused by the shop (failed with its message), "
              f"lost {total.lost}, duplicated writes {total.duplicated}, "
              f"identical re-sends after lost answers {total.resent_unchanged}, {elapsed:.1f} s")
    assert total.runs == RUNS and total.crashes > RUNS // 10 and total.resent_unchanged > 0
    assert total.problems == [], "\n".join(total.problems[:10])
    assert (total.lost, total.duplicated) == (0, 0)


def adcopy(home: Path, keyring_json: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "ADCOPY_HOME": str(home), "ADCOPY_PLUGINS": "", "PYTHONPATH": str(REPO),
           "PYTHON_KEYRING_BACKEND": "tests.keyrings.EnvKeyring", "ADCOPY_TEST_KEYRING": keyring_json}
    return subprocess.Popen([sys.executable, "-c", "from adcopy_desktop.cli import main; main()", *args],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_export_processes_killed_mid_job_resume_without_loss(tmp_path, servers, monkeypatch, capsys):
    """The real ``adcopy export`` in a child process, SIGKILLed by the shop right before or right
    after it commits a write; then ``adcopy export`` (or ``--resume``) again until nothing is left."""
    from adcopy_desktop.core.secrets import credential_name
    from adcopy_desktop.core.settings import Settings, save_settings
    from tests.keyrings import MemoryKeyring, env_value

    total, killed = Tally(), 0
    for seed in range(KILLED_RUNS):
        rng = random.Random(10_000 + seed)
        target = ("shopify", "woocommerce")[seed % 2]
        server = servers[target]
        home = tmp_path / f"home-{seed}"
        monkeypatch.setenv("ADCOPY_HOME", str(home))
        count = rng.randint(2, 6)
        faults = Faults(rng=random.Random(seed), http_5xx=0.1, drop_after_commit=0.1, item_5xx=0.1,
                        throttle_burst=rng.randint(0, 2))
        keyring = MemoryKeyring()
        if target == "shopify":
            keys = [f"k{seed}-{i}" for i in range(count)]
            server.reset(keys, faults=faults, restore_rate=2000.0)
            keyring.set_password("adcopy", credential_name("shopify", server.url, "token"), server.token)
        else:
            keys = [str(pid) for pid in range(1, count + 1)]
            server.reset({int(k): f"SKU-{k}" for k in keys}, faults=faults)
            keyring.set_password("adcopy", credential_name("woocommerce", server.url, "consumer_key"), server.key)
            keyring.set_password("adcopy", credential_name("woocommerce", server.url, "consumer_secret"), server.secret)
        shop = {"target": target, "shop_url": server.url, **({"batch_size": 2} if target == "woocommerce" else {})}
        save_settings(Settings(shops=[shop], export_retry_base_s=0.001,
                               export_retry_max_s=0.01, export_max_attempts=4))
        with Library() as library:
            for key in keys:
                add_product_with_copy(library, key, key, {"title": f"T {key}", "description": f"D {key}"})
        after_commit = rng.random() < 0.5
        # the kill comes at the k-th commit (the shop applied a write, the answer never leaves) or the
        # k-th request (before the shop did anything)
        events = count if target == "shopify" else -(-count // 2)  # Woo: batches of 2
        kill_at = rng.randint(1, events if after_commit else 2 * events)
        child: list[subprocess.Popen] = []
        seen = {"n": 0}

        def kill_now(phase: str) -> None:
            if phase == ("commit" if after_commit else "request") and child and child[0].poll() is None:
                seen["n"] += 1
                if seen["n"] == kill_at:
                    os.kill(child[0].pid, signal.SIGKILL)

        server.on_commit = lambda path: kill_now("commit")
        server.on_request = lambda path: kill_now("request")
        child.append(adcopy(home, env_value(keyring), "export", "--to", target))
        child[0].wait(timeout=120)
        killed += child[0].returncode == -signal.SIGKILL
        server.on_commit = server.on_request = None
        for attempt in range(6):
            with Library() as library:
                if not Outbox(library).unfinished_jobs():
                    break
            again = ("export", "--resume") if rng.random() < 0.5 else ("export", "--to", target)
            adcopy(home, env_value(keyring), *again).wait(timeout=120)
        tally = Tally(runs=1, crashes=1)
        with Library() as library:
            verify(tally, f"killed run {seed}", library, server, target, keys, set())
        total.add(tally)
    with capsys.disabled():
        print(f"\noutbox reliability, killed processes: {total.runs} runs ({killed} killed by SIGKILL mid-job), "
              f"{total.items} items, lost {total.lost}, duplicated writes {total.duplicated}, "
              f"identical re-sends {total.resent_unchanged}")
    assert killed >= KILLED_RUNS // 2
    assert total.problems == [], "\n".join(total.problems[:10])
    assert (total.lost, total.duplicated) == (0, 0)
