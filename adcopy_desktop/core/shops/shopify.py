"""Shopify Admin GraphQL client: ``productUpdate`` per product, addressed by handle or GID.

``POST {shop}/admin/api/{version}/graphql.json`` with the ``X-Shopify-Access-Token`` header.
A handle is resolved once with ``productByIdentifier``; the update sets title, descriptionHtml and
seo{title, description} (nothing else: tags, variants and media stay as they are). Both need an
Admin API version of 2025-01 or newer (``productUpdate(product:)``, ``productByIdentifier``). Throttling is
cost based: every answer carries ``extensions.cost.throttleStatus`` (maximumAvailable,
currentlyAvailable, restoreRate); the client waits before a request that the bucket cannot pay
for, and a ``THROTTLED`` error becomes a TransientShopError with the time the bucket needs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from adcopy_desktop.core.secrets import redact
from adcopy_desktop.core.shops import ItemResult, OutgoingItem, ShopError, TransientShopError
from adcopy_desktop.core.shops.http import normalise_shop_url, request_json

DEFAULT_API_VERSION = "2025-07"
CREDENTIALS = ("token",)
GID_PREFIX = "gid://shopify/Product/"
EXPECTED_COST = 10.0  # what a productUpdate usually costs; the bucket is checked before sending

RESOLVE_QUERY = """query ProductByHandle($handle: String!) {
  productByIdentifier(identifier: {handle: $handle}) { id }
}"""
UPDATE_MUTATION = """mutation UpdateProductCopy($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id }
    userErrors { field message }
  }
}"""


@dataclass
class CostBucket:
    maximum: float = 1000.0
    available: float = 1000.0
    restore_rate: float = 50.0
    at: float = 0.0

    def estimate(self, now: float) -> float:
        return min(self.maximum, self.available + max(0.0, now - self.at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        deficit = cost - self.estimate(now)
        return deficit / self.restore_rate if deficit > 0 and self.restore_rate > 0 else 0.0


def graphql_url(shop_url: str, api_version: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}|unstable", api_version or ""):
        raise ShopError(f"Shopify API version {api_version!r} must look like 2025-07.")
    return f"{shop_url}/admin/api/{api_version}/graphql.json"


def product_input(gid: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """The ProductUpdateInput for the mapped copy fields (absent fields are left alone)."""
    product: dict[str, Any] = {"id": gid}
    if fields.get("title"):
        product["title"] = fields["title"]
    if fields.get("description_html"):
        product["descriptionHtml"] = fields["description_html"]
    seo = {key: fields[name] for key, name in (("title", "seo_title"), ("description", "seo_description"))
           if fields.get(name)}
    if seo:
        product["seo"] = seo
    return product


class ShopifyClient:
    batch_size = 1

    def __init__(self, shop_url: str, token: str, *, api_version: str = DEFAULT_API_VERSION,
                 timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.destination = normalise_shop_url(shop_url, what="Shopify shop")
        self.url = graphql_url(self.destination, api_version)
        self._headers = {"X-Shopify-Access-Token": token}
        self.timeout = timeout
        self.bucket = CostBucket()
        self._sleep, self._clock = sleep, clock
        self._gids: dict[str, str] = {}

    def send(self, items: Sequence[OutgoingItem]) -> list[ItemResult]:
        return [self._update(item) for item in items]

    def _update(self, item: OutgoingItem) -> ItemResult:
        gid = item.remote_id or self._gids.get(item.external_key)
        if gid is None:
            if item.external_key.startswith(GID_PREFIX):
                gid = item.external_key
            else:
                data = self._graphql(RESOLVE_QUERY, {"handle": item.external_key})
                found = (data.get("productByIdentifier") or {}).get("id") if isinstance(data, dict) else None
                if not found:
                    return ItemResult(item.id, "failed", f"the shop has no product with the handle "
                                      f"'{item.external_key}'; re-import the catalog or fix the handle")
                gid = str(found)
            self._gids[item.external_key] = gid
        data = self._graphql(UPDATE_MUTATION, {"product": product_input(gid, item.payload)})
        result = data.get("productUpdate") if isinstance(data, dict) else None
        if not isinstance(result, dict):
            raise TransientShopError("the shop's answer to productUpdate had no productUpdate result")
        errors = result.get("userErrors") or []
        if errors:
            message = "; ".join(f"{'.'.join(map(str, e.get('field') or [])) or 'product'}: {e.get('message')}"
                                for e in errors if isinstance(e, dict))
            return ItemResult(item.id, "failed", f"Shopify refused the update: {message}", remote_id=gid)
        if not (result.get("product") or {}).get("id"):
            raise TransientShopError("the shop's answer to productUpdate did not confirm the product")
        return ItemResult(item.id, "done", remote_id=gid)

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        wait = self.bucket.wait_for(EXPECTED_COST, self._clock())
        if wait > 0:
            self._sleep(wait)
        response = request_json("POST", self.url, headers=self._headers,
                                body={"query": query, "variables": variables}, timeout=self.timeout)
        body = response.body if isinstance(response.body, dict) else {}
        cost = (body.get("extensions") or {}).get("cost") or {}
        self._note_cost(cost)
        errors = body.get("errors")
        if errors:
            codes = {((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                requested = _number(cost.get("requestedQueryCost")) or EXPECTED_COST
                raise TransientShopError("Shopify throttled the request (cost limit reached)",
                                         retry_after=self.bucket.wait_for(requested, self._clock()))
            if codes & {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}:
                raise TransientShopError(f"Shopify reported an internal error: {_messages(errors)}")
            if codes & {"ACCESS_DENIED", "UNAUTHORIZED"}:
                raise ShopError(f"Shopify refused access ({_messages(errors)}); the token needs the "
                                "write_products scope")
            raise ShopError(f"Shopify rejected the request: {_messages(errors)}. Check the API version "
                            f"({self.url.rsplit('/', 2)[-2]}) is one your shop supports.")
        data = body.get("data")
        if not isinstance(data, dict):
            raise TransientShopError("Shopify's answer had no data")
        return data

    def _note_cost(self, cost: Mapping[str, Any]) -> None:
        status = cost.get("throttleStatus") if isinstance(cost, Mapping) else None
        if not isinstance(status, Mapping):
            return
        maximum, available, rate = (_number(status.get(key)) for key in
                                    ("maximumAvailable", "currentlyAvailable", "restoreRate"))
        if maximum and available is not None and rate:
            self.bucket = CostBucket(maximum, available, rate, self._clock())


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _messages(errors: list[Any]) -> str:
    return redact("; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors))[:500]
