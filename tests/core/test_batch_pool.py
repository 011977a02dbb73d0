"""Bulk generation over a pool of real ``adcopy serve`` processes on 127.0.0.1: items spread over
the servers, one is killed mid-batch, and every item is still written exactly once."""

from __future__ import annotations

import threading

import pytest

from adcopy_desktop.core.backend_pool import BackendPool, BackendUnavailableError, PoolMember
from adcopy_desktop.core.batch import BatchOptions, plan_batch, run_batch
from adcopy_desktop.core.endpoints import Endpoint, resolve_backend_choice, save_endpoint
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.product import parse_product
from tests.serve_processes import server_home, start_server

PRODUCTS = [f"Type: linen shirt\nColor: {colour}\nSize: {size}" for colour in ("white", "blue", "grey", "black")
            for size in ("S", "M", "L")]


def _generation_counts(library: Library, job_id: int) -> dict[tuple[int, str], int]:
    """How many generations the library holds per item of the job."""
    return {(item.product_id, item.kind): len({c.generation_id for c in library.candidates(
        product_id=item.product_id, kind=item.kind)}) for item in library.batch_items(job_id)}


def test_a_two_server_pool_survives_one_dying_mid_batch_and_writes_each_item_once(tmp_path_factory, tiny_models_root,
                                                                                  tmp_path):
    homes = [server_home(tmp_path_factory.mktemp(f"pool{i}"), tiny_models_root) for i in range(2)]
    servers = [start_server(home, "--token-delay-ms", "8", "--max-concurrent", "1") for home in homes]
    try:
        for name, server in zip(("alpha", "beta"), servers):
            save_endpoint(Endpoint(name=name, base_url=server.url, max_concurrent=1, max_retries=1, retry_base_s=0.1))
        library = Library(tmp_path / "lib.sqlite3")
        ids = [library.add_product(parse_product(text)) for text in PRODUCTS]
        options = BatchOptions(kinds=("title",), n=2, language="en", seed=1)
        job_id, _ = plan_batch(library, ids, options)
        backend, backend_options = resolve_backend_choice("pool")
        generator = CopyGenerator(backend=backend, backend_options=backend_options)
        pool = generator.backend
        assert isinstance(pool, BackendPool) and pool.capacity == 2
        killed = threading.Event()

        def kill_beta_once_both_served(status):
            if not killed.is_set() and status.done >= 3 and pool.stats.served["beta"] >= 1:
                killed.set()
                servers[1].kill()  # mid-batch: its item in flight drops with it

        status = run_batch(library, generator, job_id, workers=pool.capacity, on_status=kill_beta_once_both_served)
        assert killed.is_set()
        assert (status.done, status.failed, status.stopped) == (len(PRODUCTS), 0, False), status.errors
        counts = _generation_counts(library, job_id)
        assert len(counts) == len(PRODUCTS) and set(counts.values()) == {1}  # every item written exactly once
        assert pool.stats.served["alpha"] > pool.stats.served["beta"] >= 1
        assert pool.stats.failures["beta"] >= 1
        models = {c.model for c in library.candidates()}
        assert models == {f"alpha/{servers[0].model}", f"beta/{servers[1].model}"}
        assert library.batch_job(job_id).status == "finished"
        again = run_batch(library, generator, job_id, workers=2)  # resumable: nothing left to do
        assert again.done_this_run == 0 and set(_generation_counts(library, job_id).values()) == {1}
        library.close()
        pool.close()
    finally:
        for server in servers:
            server.stop()


class _Scripted:
    """A backend whose calls fail (server gone) or answer, for the pool's own rules (no HTTP here)."""

    special_tokens = ()

    def __init__(self, name: str, fail: bool = False) -> None:
        self.provider, self.fail, self.calls = name, fail, 0

    def generate(self, messages, settings, *, cancel=None, on_token=None):
        self.calls += 1
        if self.fail:
            raise BackendUnavailableError(f"{self.provider} is down")
        return [self.provider]


def test_the_pool_prefers_the_least_busy_member_and_skips_a_failed_one_while_it_cools_down():
    down, up = _Scripted("down", fail=True), _Scripted("up")
    pool = BackendPool([PoolMember("down", down, 1), PoolMember("up", up, 1)], cooldown_s=60)
    assert pool.generate([], None) == ["up"] and pool.generate([], None) == ["up"]
    assert down.calls == 1 and up.calls == 2 and pool.stats.failovers == 1  # tried once, then left out
    everything_down = BackendPool([PoolMember("a", _Scripted("a", fail=True)), PoolMember("b", _Scripted("b", fail=True))],
                                  cooldown_s=0.01, attempts_per_member=2)
    with pytest.raises(BackendUnavailableError, match="Every server of the pool failed.*a: a is down.*b: b is down"):
        everything_down.generate([], None)


def test_an_item_done_already_is_not_written_a_second_time(tmp_path):
    from adcopy_desktop.core.candidates import Candidate, GenerationSettings

    library = Library(tmp_path / "lib.sqlite3")
    product_id = library.add_product(parse_product("Type: mug"))
    job_id, _ = plan_batch(library, [product_id], BatchOptions(kinds=("title",), n=1))
    candidate = Candidate(text="A mug", kind="title", model="m", language="en", index=0, finish_reason="eos",
                          settings=GenerationSettings(n=1))
    assert library.record_generation(product_id, [candidate], batch_item=(job_id, "title", 0.1))
    assert library.record_generation(product_id, [candidate], batch_item=(job_id, "title", 0.1)) == []
    assert len(library.candidates(product_id=product_id)) == 1
    library.close()
