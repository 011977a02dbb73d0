"""The Shopify GraphQL client against a local server with the documented shapes."""

import json
import time

import pytest

from adcopy_desktop.core.shops import OutgoingItem, ShopError, TransientShopError
from adcopy_desktop.core.shops.shopify import ShopifyClient, product_input
from tests.shop_servers import Faults, FakeShopify

FIELDS = {"title": "Steel kettle", "description_html": "<p>Boils &amp; pours</p>", "seo_title": "Steel kettle",
          "seo_description": "Tea in three minutes."}


def client(server, **kwargs):
    return ShopifyClient(server.url, "shpat_test", **kwargs)


def test_update_by_handle_sets_title_description_and_seo(shopify_server):
    results = client(shopify_server).send([OutgoingItem(1, "steel-kettle", FIELDS)])
    assert [(r.status, r.remote_id) for r in results] == [("done", "gid://shopify/Product/1000")]
    product = shopify_server.products["steel-kettle"]
    assert product["title"] == "Steel kettle" and product["descriptionHtml"] == "<p>Boils &amp; pours</p>"
    assert product["seo"] == {"title": "Steel kettle", "description": "Tea in three minutes."}
    bodies = [json.loads(r["body"]) for r in shopify_server.requests]
    assert "productByIdentifier" in bodies[0]["query"] and bodies[0]["variables"] == {"handle": "steel-kettle"}
    assert "productUpdate(product: $product)" in bodies[1]["query"]
    assert all(r["path"] == "/admin/api/2025-07/graphql.json" for r in shopify_server.requests)
    assert all(r["headers"]["X-Shopify-Access-Token"] == "shpat_test" for r in shopify_server.requests)


def test_api_version_is_configurable_and_checked():
    server = FakeShopify(api_version="2024-10")
    try:
        server.reset(["a"])
        assert client(server, api_version="2024-10").send([OutgoingItem(1, "a", FIELDS)])[0].status == "done"
        with pytest.raises(ShopError, match="HTTP 404"):
            client(server, api_version="2025-07").send([OutgoingItem(1, "a", FIELDS)])
        with pytest.raises(ShopError, match="must look like 2025-07"):
            client(server, api_version="july")
    finally:
        server.close()


def test_absent_fields_are_left_alone():
    assert product_input("gid://shopify/Product/1", {"title": "T"}) == {"id": "gid://shopify/Product/1", "title": "T"}


def test_unknown_handles_and_user_errors_fail_the_item(shopify_server):
    too_long = {**FIELDS, "title": "x" * 300}
    results = client(shopify_server).send([OutgoingItem(1, "no-such-thing", FIELDS), OutgoingItem(2, "green-tea", too_long)])
    assert results[0].status == "failed" and "no product with the handle 'no-such-thing'" in results[0].message
    assert results[1].status == "failed" and "title: Title is too long" in results[1].message


def test_throttled_answers_carry_the_wait_the_bucket_needs(shopify_server):
    shopify_server.reset(["a"], faults=Faults(throttle_burst=1), maximum=100, restore_rate=50)
    shopify_server.available = 0
    with pytest.raises(TransientShopError, match="throttled") as raised:
        client(shopify_server).send([OutgoingItem(1, "a", FIELDS)])
    assert 0 < raised.value.retry_after <= 1 / 50 + 0.05


def test_the_client_waits_for_the_cost_bucket_before_sending(shopify_server):
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    shopify_server.reset(["a", "b"], maximum=12, restore_rate=100)
    shop = client(shopify_server, sleep=sleep)
    shop.send([OutgoingItem(1, "a", FIELDS)])  # resolve (1) + update (10): 1 point left
    shop.send([OutgoingItem(2, "b", FIELDS)])
    assert waits and all(0 < w <= 0.1 for w in waits)
    assert shop.bucket.maximum == 12 and shop.bucket.restore_rate == 100


def test_http_faults_are_transient_and_bad_tokens_are_not(shopify_server):
    shopify_server.reset(["a"], faults=Faults(http_429=1.0))
    with pytest.raises(TransientShopError, match="HTTP 429") as raised:
        client(shopify_server).send([OutgoingItem(1, "a", FIELDS)])
    assert raised.value.retry_after == pytest.approx(0.001)
    shopify_server.reset(["a"], faults=Faults(http_5xx=1.0))
    with pytest.raises(TransientShopError, match="HTTP 503"):
        client(shopify_server).send([OutgoingItem(1, "a", FIELDS)])
    shopify_server.reset(["a"], faults=Faults(drop_before_commit=1.0))
    with pytest.raises(TransientShopError, match="connection"):
        client(shopify_server).send([OutgoingItem(1, "a", FIELDS)])
    shopify_server.reset(["a"])
    with pytest.raises(ShopError, match="refused the credentials") as raised:
        ShopifyClient(shopify_server.url, "shpat_wrong_token").send([OutgoingItem(1, "a", FIELDS)])
    assert not isinstance(raised.value, TransientShopError) and "shpat_wrong_token" not in str(raised.value)


def test_plain_http_is_only_for_this_computer():
    with pytest.raises(ShopError, match="use https"):
        ShopifyClient("http://shop.example.com", "t")
    assert ShopifyClient("shop.myshopify.com/", "t").destination == "https://shop.myshopify.com"
