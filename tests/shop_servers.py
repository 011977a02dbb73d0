"""Fake Shopify and WooCommerce servers on 127.0.0.1 for export tests.

They implement the documented request and response shapes (Shopify Admin GraphQL
``productByIdentifier`` and ``productUpdate`` with cost extensions and THROTTLED errors;
WooCommerce REST v3 ``products?sku=`` and ``products/batch`` with per-item errors), check
credentials, and inject faults: throttling bursts, HTTP 5xx and 429, connections dropped before or
after the shop committed, partially failed batches. Every applied write is logged per product, so
tests can count lost items and duplicated writes.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Faults:
    """Chances per request; ``burst`` forces that many throttled answers first."""

    rng: random.Random = field(default_factory=lambda: random.Random(0))
    http_5xx: float = 0.0
    http_429: float = 0.0
    drop_before_commit: float = 0.0
    drop_after_commit: float = 0.0
    item_5xx: float = 0.0  # WooCommerce: per-item transient error inside a batch
    throttle_burst: int = 0

    def roll(self, chance: float) -> bool:
        return chance > 0 and self.rng.random() < chance


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeShop:
    """Base: one server thread, a lock around state, write logs, a hook after each commit."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []  # method, path, headers, body (for leak checks)
        self.writes: dict[str, list[Any]] = {}  # product key -> every applied write (value tuple)
        self.changes: dict[str, list[Any]] = {}  # product key -> writes that changed the product
        self.on_commit: Callable[[str], None] | None = None  # called after a write is applied
        self.on_request: Callable[[str], None] | None = None
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                shop._handle(self, "GET")

            def do_POST(self) -> None:
                shop._handle(self, "POST")

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _record(self, key: str, value: Any, current: Any) -> bool:
        self.writes.setdefault(key, []).append(value)
        if value != current:
            self.changes.setdefault(key, []).append(value)
            return True
        return False

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self.lock:
            self.requests.append({"method": method, "path": handler.path, "headers": dict(handler.headers),
                                  "body": raw.decode("utf-8", "replace")})
        if self.on_request:
            self.on_request(handler.path)
        if not self._authorised(handler):
            return _reply(handler, 401, {"errors": "[API] Invalid API key or access token"})
        faults = self.faults
        if faults.roll(faults.http_5xx):
            return _reply(handler, 503, {"errors": "Service unavailable"})
        if faults.roll(faults.http_429):
            return _reply(handler, 429, {"errors": "Too many requests"}, {"Retry-After": "0.001"})
        if faults.roll(faults.drop_before_commit):
            return _drop(handler)
        drop_after = faults.roll(faults.drop_after_commit)
        status, answer, committed = self.answer(method, handler.path, body)
        if committed and self.on_commit:
            self.on_commit(handler.path)
        if committed and drop_after:
            return _drop(handler)
        _reply(handler, status, answer)

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        raise NotImplementedError

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any, bool]:
        raise NotImplementedError


def _reply(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode("utf-8")
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    except OSError:  # the client is gone (a killed export process)
        handler.close_connection = True


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer (the client cannot know what happened)."""
    handler.close_connection = True
    try:
        handler.wfile.flush()
        handler.connection.shutdown(2)
    except OSError:
        pass


# -- Shopify ---------------------------------------------------------------------------------------


class FakeShopify(FakeShop):
    """``POST /admin/api/{version}/graphql.json``."""

    QUERY_COST = 1
    MUTATION_COST = 10

    def __init__(self, token: str = "shpat_test", api_version: str = "2025-07") -> None:
        self.token = token
        self.api_version = api_version
        self.products: dict[str, dict[str, Any]] = {}  # handle -> product
        self.maximum, self.available, self.restore_rate, self._at = 1000.0, 1000.0, 50.0, time.monotonic()
        super().__init__()

    def reset(self, handles: list[str], *, faults: Faults | None = None, maximum: float = 1000.0,
              restore_rate: float = 50.0) -> None:
        with self.lock:
            self.products = {h: {"id": f"gid://shopify/Product/{1000 + i}", "title": f"old {h}",
                                 "descriptionHtml": "<p>old</p>", "seo": {"title": None, "description": None}}
                             for i, h in enumerate(handles)}
            self.faults = faults or Faults()
            self.writes, self.changes, self.requests = {}, {}, []
            self.maximum, self.available, self.restore_rate, self._at = maximum, maximum, restore_rate, time.monotonic()

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        return handler.headers.get("X-Shopify-Access-Token") == self.token

    def _cost(self, requested: float, actual: float) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": {"maximumAvailable": self.maximum, "currentlyAvailable": self.available,
                                   "restoreRate": self.restore_rate}}

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any, bool]:
        if method != "POST" or path != f"/admin/api/{self.api_version}/graphql.json":
            return 404, {"errors": "Not Found"}, False
        query = body.get("query", "")
        variables = body.get("variables") or {}
        cost = self.MUTATION_COST if query.lstrip().startswith("mutation") else self.QUERY_COST
        with self.lock:
            now = time.monotonic()
            self.available = min(self.maximum, self.available + (now - self._at) * self.restore_rate)
            self._at = now
            if self.faults.throttle_burst > 0 or self.available < cost:
                self.faults.throttle_burst = max(0, self.faults.throttle_burst - 1)
                return 200, {"errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": {"cost": self._cost(cost, 0)}}, False
            self.available -= cost
            if "productByIdentifier" in query:
                handle = (variables.get("identifier") or {}).get("handle") or variables.get("handle")
                product = self.products.get(handle)
                data = {"productByIdentifier": {"id": product["id"]} if product else None}
                return 200, {"data": data, "extensions": {"cost": self._cost(cost, cost)}}, False
            if "productUpdate" in query:
                update = variables.get("product") or {}
                handle = next((h for h, p in self.products.items() if p["id"] == update.get("id")), None)
                if handle is None:
                    result = {"product": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]}
                    return 200, {"data": {"productUpdate": result}, "extensions": {"cost": self._cost(cost, cost)}}, False
                if len(update.get("title") or "") > 255:
                    result = {"product": None, "userErrors": [{"field": ["title"], "message": "Title is too long"}]}
                    return 200, {"data": {"productUpdate": result}, "extensions": {"cost": self._cost(cost, cost)}}, False
                product = self.products[handle]
                before = _shopify_state(product)
                for key in ("title", "descriptionHtml"):
                    if key in update:
                        product[key] = update[key]
                if "seo" in update:
                    product["seo"] = {**product["seo"], **update["seo"]}
                self._record(handle, _shopify_state(product), before)
                result = {"product": {"id": product["id"]}, "userErrors": []}
                return 200, {"data": {"productUpdate": result}, "extensions": {"cost": self._cost(cost, cost)}}, True
            return 200, {"errors": [{"message": "Field doesn't exist on type 'QueryRoot'",
                                     "extensions": {"code": "undefinedField"}}]}, False


def _shopify_state(product: dict[str, Any]) -> tuple:
    return (product["title"], product["descriptionHtml"], product["seo"].get("title"), product["seo"].get("description"))


# -- WooCommerce -----------------------------------------------------------------------------------


class FakeWooCommerce(FakeShop):
    """``GET /wp-json/wc/v3/products?sku=`` and ``POST /wp-json/wc/v3/products/batch``."""

    def __init__(self, key: str = "ck_test", secret: str = "cs_test") -> None:
        self.key, self.secret = key, secret
        self.products: dict[int, dict[str, Any]] = {}
        self.locked: set[int] = set()  # products the shop refuses to update (permanent per-item error)
        self.batch_sizes: list[int] = []
        super().__init__()

    def reset(self, products: dict[int, str], *, locked: set[int] = frozenset(), faults: Faults | None = None) -> None:
        with self.lock:
            self.products = {pid: {"id": pid, "sku": sku, "name": f"old {pid}", "description": "old",
                                   "meta_data": []} for pid, sku in products.items()}
            self.locked = set(locked)
            self.faults = faults or Faults()
            self.writes, self.changes, self.requests, self.batch_sizes = {}, {}, [], []

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return handler.headers.get("Authorization") == expected

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any, bool]:
        parsed = urllib.parse.urlsplit(path)
        with self.lock:
            if method == "GET" and parsed.path == "/wp-json/wc/v3/products":
                sku = urllib.parse.parse_qs(parsed.query).get("sku", [""])[0]
                return 200, [dict(p) for p in self.products.values() if p["sku"] == sku], False
            if method == "POST" and parsed.path == "/wp-json/wc/v3/products/batch":
                updates = (body or {}).get("update") or []
                if len(updates) > 100:
                    return 400, {"code": "woocommerce_rest_request_entity_too_large",
                                 "message": "Unable to accept more than 100 items for this request.",
                                 "data": {"status": 413}}, False
                self.batch_sizes.append(len(updates))
                answered, committed = [], False
                for update in updates:
                    pid = update.get("id")
                    product = self.products.get(pid)
                    if product is None:
                        answered.append({"id": pid, "error": {"code": "woocommerce_rest_product_invalid_id",
                                                              "message": "Invalid ID.", "data": {"status": 400}}})
                    elif pid in self.locked:
                        answered.append({"id": pid, "error": {"code": "woocommerce_rest_cannot_edit",
                                                              "message": "Sorry, you cannot edit this resource.",
                                                              "data": {"status": 403}}})
                    elif self.faults.roll(self.faults.item_5xx):
                        answered.append({"id": pid, "error": {"code": "internal_error",
                                                              "message": "Database busy", "data": {"status": 500}}})
                    else:
                        before = _woo_state(product)
                        for key in ("name", "description"):
                            if key in update:
                                product[key] = update[key]
                        for meta in update.get("meta_data") or []:
                            product["meta_data"] = [m for m in product["meta_data"] if m["key"] != meta["key"]] + [meta]
                        self._record(str(pid), _woo_state(product), before)
                        committed = True
                        answered.append(dict(product))
                return 200, {"update": answered}, committed
        return 404, {"code": "rest_no_route", "message": "No route was found matching the URL and request method.",
                     "data": {"status": 404}}, False


def _woo_state(product: dict[str, Any]) -> tuple:
    return (product["name"], product["description"], tuple(sorted((m["key"], m["value"]) for m in product["meta_data"])))


HANDLE = re.compile(r"^[a-z0-9-]+$")
