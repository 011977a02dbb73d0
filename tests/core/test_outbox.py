"""The outbox: jobs written before requests, items done only when confirmed, resume, no duplicates."""

import pytest

from adcopy_desktop.core.export import export_to_shop, resume
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.outbox import Outbox, OutboxError, RetryPolicy, run_job
from adcopy_desktop.core.plugins import PluginManager
from adcopy_desktop.core.shops import ShopError
from adcopy_desktop.core.shops.shopify import ShopifyClient
from adcopy_desktop.core.shops.woocommerce import WooCommerceClient
from tests.core.shops.helpers import accept, add_product_with_copy
from tests.shop_servers import Faults, FakeShopify, FakeWooCommerce

FAST = dict(base_s=0.001, max_s=0.01, max_attempts=6)


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs."""


@pytest.fixture
def library(tmp_path):
    with Library(tmp_path / "library.sqlite3") as opened:
        yield opened


@pytest.fixture
def plugins():
    manager = PluginManager().load()
    yield manager
    manager.close()


@pytest.fixture
def shopify():
    server = FakeShopify()
    yield server
    server.close()


def products(library, handles):
    return {h: add_product_with_copy(library, h, h, {"title": f"New {h}", "description": f"About {h}"}) for h in handles}


def test_the_job_is_written_before_any_request(library, plugins, shopify):
    shopify.reset(["a", "b"])
    products(library, ["a", "b"])
    seen = []
    shopify.on_request = lambda path: seen.append([(job.id, job.counts["pending"] + job.counts["sent"])
                                                   for job in Outbox(Library(library.path)).jobs()])
    client = ShopifyClient(shopify.url, "shpat_test")
    result = export_to_shop(library, plugins, "shopify", options={"shop_url": shopify.url}, client=client,
                            policy=RetryPolicy(**FAST))
    assert seen[0] == [(1, 2)]  # the first request found the job and both items stored
    assert result.done == 2 and result.failed == 0 and result.unfinished == 0
    (job,) = Outbox(library).jobs()
    assert job.status == "finished" and job.target == "shopify" and job.destination == shopify.url
    assert all(item.confirmed_at and item.attempts == 1 for item in Outbox(library).items(job.id))


def test_a_dropped_answer_after_commit_leaves_the_item_unconfirmed_then_resends_harmlessly(library, plugins, shopify):
    shopify.reset(["a"], faults=Faults(drop_after_commit=1.0))
    products(library, ["a"])
    client = ShopifyClient(shopify.url, "shpat_test")
    result = export_to_shop(library, plugins, "shopify", options={"shop_url": shopify.url}, client=client,
                            policy=RetryPolicy(base_s=0.001, max_s=0.01, max_attempts=2))
    assert result.unfinished == 1 and result.done == 0
    (item,) = Outbox(library).items(1)
    assert item.status == "sent" and "connection" in item.last_error and item.attempts == 2
    assert len(shopify.changes["a"]) == 1 and len(shopify.writes["a"]) == 2  # applied, never confirmed
    shopify.faults = Faults()
    summary = resume(library, plugins, "shopify", shopify.url, client=client, policy=RetryPolicy(**FAST))
    assert summary.done == 1 and Outbox(library).job(1).status == "finished"
    assert len(shopify.changes["a"]) == 1  # the re-sent update changed nothing
    assert shopify.products["a"]["title"] == "New a"


def test_a_crash_mid_job_resumes_exactly_the_unfinished_items(library, shopify):
    shopify.reset(["a", "b", "c"])
    ids = products(library, ["a", "b", "c"])
    outbox = Outbox(library)
    job = outbox.create_job("shopify", shopify.url, [(ids[h], h, {"title": h.upper()}) for h in "abc"])

    class CrashAfterFirst(ShopifyClient):
        calls = 0

        def send(self, items):
            type(self).calls += 1
            if type(self).calls == 2:
                super().send(items)  # the shop commits ...
                raise Crash()  # ... and the process dies before recording it
            return super().send(items)

    with pytest.raises(Crash):
        run_job(library, job, CrashAfterFirst(shopify.url, "shpat_test"), policy=RetryPolicy(**FAST))
    reopened = Library(library.path)
    states = {i.external_key: i.status for i in Outbox(reopened).items(job)}
    assert states == {"a": "done", "b": "sent", "c": "pending"}
    summary = run_job(reopened, job, ShopifyClient(shopify.url, "shpat_test"), policy=RetryPolicy(**FAST))
    assert (summary.done, summary.unfinished) == (3, 0)
    assert {h: len(v) for h, v in shopify.changes.items()} == {"a": 1, "b": 1, "c": 1}
    assert len(shopify.writes["b"]) == 2 and len(shopify.writes["a"]) == 1


def test_a_newer_export_supersedes_unsent_older_copy(library, plugins, shopify):
    shopify.reset(["a", "b"])
    ids = products(library, ["a", "b"])
    outbox = Outbox(library)
    old = outbox.create_job("shopify", shopify.url, [(ids["a"], "a", {"title": "old A"}), (ids["b"], "b", {"title": "old B"})])
    accept(library, ids["a"], {"title": "Newest A"})
    client = ShopifyClient(shopify.url, "shpat_test")
    export_to_shop(library, plugins, "shopify", options={"shop_url": shopify.url}, client=client,
                   policy=RetryPolicy(**FAST))
    assert {i.external_key: i.status for i in outbox.items(old)} == {"a": "superseded", "b": "superseded"}
    assert outbox.job(old).status == "finished"
    assert shopify.products["a"]["title"] == "Newest A" and shopify.products["b"]["title"] == "New b"
    assert "old A" not in [state[0] for state in shopify.writes["a"]]


def test_permanent_errors_stop_the_job_without_marking_anything(library, plugins, shopify):
    shopify.reset(["a"])
    products(library, ["a"])
    with pytest.raises(ShopError, match="refused the credentials"):
        export_to_shop(library, plugins, "shopify", options={"shop_url": shopify.url},
                       client=ShopifyClient(shopify.url, "wrong"), policy=RetryPolicy(**FAST))
    (job,) = Outbox(library).unfinished_jobs()
    assert job.counts["sent"] == 1 and job.counts["done"] == 0


def test_woocommerce_batches_hold_at_most_100_and_partial_failures_are_per_item(library, plugins):
    server = FakeWooCommerce()
    try:
        server.reset({pid: f"S{pid}" for pid in range(1, 251)}, locked={7, 180})
        for pid in range(1, 251):
            add_product_with_copy(library, f"p{pid}", str(pid), {"title": f"T{pid}"})
        client = WooCommerceClient(server.url, "ck_test", "cs_test")
        result = export_to_shop(library, plugins, "woocommerce", options={"shop_url": server.url}, client=client,
                                policy=RetryPolicy(**FAST))
        assert server.batch_sizes == [100, 100, 50]
        assert (result.done, result.failed, result.unfinished) == (248, 2, 0)
        assert sorted(k for k, _ in result.jobs[0].failures) == ["180", "7"]
        assert all("cannot edit this resource" in m for _, m in result.jobs[0].failures)
    finally:
        server.close()


def test_jobs_can_be_listed_and_cancelled(library, shopify):
    outbox = Outbox(library)
    job = outbox.create_job("shopify", shopify.url, [(None, "a", {"title": "A"})])
    assert [j.id for j in outbox.unfinished_jobs("shopify")] == [job]
    outbox.cancel(job)
    assert outbox.unfinished_jobs() == [] and outbox.job(job).status == "cancelled"
    with pytest.raises(OutboxError, match="no export job #99"):
        outbox.job(99)
    with pytest.raises(OutboxError, match="share the shop id a"):
        outbox.create_job("shopify", shopify.url, [(1, "a", {}), (2, "a", {})])
