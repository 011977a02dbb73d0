"""The WooCommerce batch client against a local server with the documented shapes."""

import json

import pytest

from adcopy_desktop.core.shops import OutgoingItem, ShopError
from adcopy_desktop.core.shops.woocommerce import WooCommerceClient, product_update
from tests.shop_servers import Faults

FIELDS = {"title": "Green tea", "description_html": "<p>Fresh</p>", "seo_title": "Green tea",
          "seo_description": "Spring leaves."}


def client(server, **kwargs):
    return WooCommerceClient(server.url, "ck_test", "cs_test", **kwargs)


def test_batch_update_by_id_and_sku_with_basic_auth(woo_server):
    results = client(woo_server).send([OutgoingItem(1, "11", FIELDS), OutgoingItem(2, "SKU-12", FIELDS)])
    assert [(r.item_id, r.status, r.remote_id) for r in results] == [(1, "done", "11"), (2, "done", "12")]
    assert woo_server.products[12]["name"] == "Green tea" and woo_server.products[12]["description"] == "<p>Fresh</p>"
    assert woo_server.products[11]["meta_data"] == []  # no SEO plugin chosen: no meta written
    batch = [r for r in woo_server.requests if r["path"].endswith("/products/batch")]
    assert len(batch) == 1 and json.loads(batch[0]["body"])["update"][0]["id"] == 11
    assert all("consumer_key" not in r["path"] for r in woo_server.requests)
    assert all(r["headers"]["Authorization"].startswith("Basic ") for r in woo_server.requests)


def test_per_item_errors_fail_only_those_items(woo_server):
    woo_server.reset({11: "A", 12: "B", 13: "C"}, locked={12})
    results = client(woo_server).send([OutgoingItem(1, "11", FIELDS), OutgoingItem(2, "12", FIELDS),
                                       OutgoingItem(3, "99", FIELDS), OutgoingItem(4, "NO-SKU", FIELDS)])
    by_item = {r.item_id: r for r in results}
    assert by_item[1].status == "done"
    assert by_item[2].status == "failed" and "Sorry, you cannot edit this resource." in by_item[2].message
    assert by_item[3].status == "failed" and "Invalid ID." in by_item[3].message
    assert by_item[4].status == "failed" and "no product with the id or SKU 'NO-SKU'" in by_item[4].message


def test_per_item_server_errors_are_retried(woo_server):
    woo_server.reset({11: "A"}, faults=Faults(item_5xx=1.0))
    (result,) = client(woo_server).send([OutgoingItem(1, "11", FIELDS)])
    assert result.status == "retry" and "Database busy" in result.message


def test_seo_plugin_fields_and_limits(woo_server):
    assert product_update(5, FIELDS, "yoast")["meta_data"] == [
        {"key": "_yoast_wpseo_title", "value": "Green tea"}, {"key": "_yoast_wpseo_metadesc", "value": "Spring leaves."}]
    client(woo_server, seo_plugin="rankmath").send([OutgoingItem(1, "13", FIELDS)])
    assert {m["key"] for m in woo_server.products[13]["meta_data"]} == {"rank_math_title", "rank_math_description"}
    with pytest.raises(ValueError, match="at most 100"):
        client(woo_server).send([OutgoingItem(i, str(i), FIELDS) for i in range(101)])
    with pytest.raises(ShopError, match="wc/v3"):
        client(woo_server, api_version="v3")
    assert client(woo_server, batch_size=500).batch_size == 100
