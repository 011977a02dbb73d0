"""WooCommerce REST API v3 client: batch product updates, at most 100 per request.

``POST {site}/wp-json/{version}/products/batch`` with ``{"update": [...]}`` and Basic auth (consumer
key and secret, over HTTPS; never in the query string, where logs would keep them). The answer
lists every item, each either the updated product or ``{"id", "error": {"code", "message",
"data": {"status"}}}``: a 4xx item error fails that item with the shop's message, a 5xx one is
retried, the others are done. Products are addressed by id; a SKU is resolved once with
``GET products?sku=``.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from typing import Any, Mapping, Sequence

from adcopy_desktop.core.secrets import redact
from adcopy_desktop.core.shops import ItemResult, OutgoingItem, ShopError, TransientShopError
from adcopy_desktop.core.shops.http import normalise_shop_url, request_json

DEFAULT_API_VERSION = "wc/v3"
CREDENTIALS = ("consumer_key", "consumer_secret")
MAX_BATCH = 100
SEO_META_KEYS = {
    "none": None,
    "yoast": ("_yoast_wpseo_title", "_yoast_wpseo_metadesc"),
    "rankmath": ("rank_math_title", "rank_math_description"),
}


def product_update(product_id: int, fields: Mapping[str, str], seo_plugin: str = "none") -> dict[str, Any]:
    """One entry of the batch's ``update`` list (absent fields are left alone)."""
    update: dict[str, Any] = {"id": product_id}
    if fields.get("title"):
        update["name"] = fields["title"]
    if fields.get("description_html"):
        update["description"] = fields["description_html"]
    keys = SEO_META_KEYS.get(seo_plugin)
    if keys:
        meta = [{"key": key, "value": fields[name]} for key, name in zip(keys, ("seo_title", "seo_description"))
                if fields.get(name)]
        if meta:
            update["meta_data"] = meta
    return update


class WooCommerceClient:
    def __init__(self, site_url: str, consumer_key: str, consumer_secret: str, *,
                 api_version: str = DEFAULT_API_VERSION, batch_size: int = MAX_BATCH, timeout: float = 30.0,
                 seo_plugin: str = "none"):
        self.destination = normalise_shop_url(site_url, what="WooCommerce site")
        if not re.fullmatch(r"wc/v\d+", api_version or ""):
            raise ShopError(f"WooCommerce API version {api_version!r} must look like wc/v3.")
        if seo_plugin not in SEO_META_KEYS:
            raise ShopError(f"seo_plugin must be one of {', '.join(SEO_META_KEYS)}.")
        self.base = f"{self.destination}/wp-json/{api_version}"
        self.batch_size = max(1, min(MAX_BATCH, int(batch_size)))
        self.timeout = timeout
        self.seo_plugin = seo_plugin
        basic = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {basic}"}
        self._ids: dict[str, int] = {}

    def send(self, items: Sequence[OutgoingItem]) -> list[ItemResult]:
        if len(items) > MAX_BATCH:
            raise ValueError(f"a WooCommerce batch holds at most {MAX_BATCH} items")
        results: list[ItemResult] = []
        by_product: dict[int, OutgoingItem] = {}
        for item in items:
            product_id = self._product_id(item)
            if product_id is None:
                results.append(ItemResult(item.id, "failed", f"the shop has no product with the id or SKU "
                                          f"'{item.external_key}'; re-import the catalog or fix it"))
            else:
                by_product[product_id] = item
        if not by_product:
            return results
        body = {"update": [product_update(pid, item.payload, self.seo_plugin) for pid, item in by_product.items()]}
        response = request_json("POST", f"{self.base}/products/batch", headers=self._headers, body=body,
                                timeout=self.timeout)
        answered = response.body.get("update") if isinstance(response.body, dict) else None
        if not isinstance(answered, list):
            raise TransientShopError("the shop's batch answer had no 'update' list")
        for entry in answered:
            if not isinstance(entry, dict):
                continue
            try:
                item = by_product.pop(int(entry.get("id")))
            except (TypeError, ValueError, KeyError):
                continue
            error = entry.get("error")
            remote = str(entry.get("id"))
            if isinstance(error, dict):
                status = (error.get("data") or {}).get("status") if isinstance(error.get("data"), dict) else None
                message = redact(f"{error.get('code', 'error')}: {error.get('message', '')}")
                kind = "retry" if isinstance(status, int) and status >= 500 else "failed"
                results.append(ItemResult(item.id, kind, f"WooCommerce: {message}", remote_id=remote))
            else:
                results.append(ItemResult(item.id, "done", remote_id=remote))
        # items the answer did not mention are left out: the outbox retries them
        return results

    def _product_id(self, item: OutgoingItem) -> int | None:
        for candidate in (item.remote_id, item.external_key):
            if candidate and str(candidate).isdigit():
                return int(candidate)
        if item.external_key in self._ids:
            return self._ids[item.external_key]
        query = urllib.parse.urlencode({"sku": item.external_key})
        response = request_json("GET", f"{self.base}/products?{query}", headers=self._headers, timeout=self.timeout)
        found = response.body if isinstance(response.body, list) else []
        matches = [p for p in found if isinstance(p, dict) and p.get("sku") == item.external_key and p.get("id")]
        if not matches:
            return None
        if len(matches) > 1:
            raise ShopError(f"Several WooCommerce products have the SKU '{item.external_key}'; give each "
                            "product its own SKU or export by product id.")
        self._ids[item.external_key] = int(matches[0]["id"])
        return self._ids[item.external_key]
