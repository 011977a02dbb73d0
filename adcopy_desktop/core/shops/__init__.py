"""Sending accepted copy to online shops (Shopify Admin GraphQL, WooCommerce REST v3).

A shop client turns outbox items into requests and says, per item, what the shop confirmed:

- ``ItemResult(status="done")``: the shop applied the update (and said so in its response);
- ``ItemResult(status="failed", message=...)``: the shop refused this item for good (unknown
  product, invalid field); retrying the same request cannot help;
- ``ItemResult(status="retry", message=...)``: this item hit a passing problem inside an
  otherwise answered request (a per-item 5xx in a batch).

Problems with the whole request raise ``TransientShopError`` (throttling, HTTP 429/5xx, timeouts,
dropped connections: the outbox backs off and sends again; the updates are idempotent sets keyed
by the shop's product id, so a repeat after a commit the client never heard of changes nothing)
or ``ShopError`` (wrong credentials, wrong URL: the job stops, nothing is marked done).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from adcopy_desktop.core.errors import AdCopyError

ITEM_STATUSES = ("done", "failed", "retry")


class ShopError(AdCopyError):
    """The shop refused the request for a reason a retry cannot fix (credentials, URL, version)."""


class TransientShopError(ShopError):
    """A passing problem (throttled, 429, 5xx, timeout, dropped connection): send again later.

    ``retry_after`` is the wait the shop asked for (Retry-After, throttle restore time), if any."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class OutgoingItem:
    """One product update as the outbox hands it to a client."""

    id: int
    external_key: str  # Shopify handle or product GID; WooCommerce product id or SKU
    payload: dict[str, Any]  # ProductCopy.shop_fields(): title, description_html, seo_title, seo_description
    remote_id: str | None = None  # the shop's product id, once resolved


@dataclass(frozen=True)
class ItemResult:
    item_id: int
    status: str  # done | failed | retry
    message: str = ""
    remote_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in ITEM_STATUSES:
            raise ValueError(f"ItemResult.status must be one of {ITEM_STATUSES}, not {self.status!r}")


class ShopClient(Protocol):
    """What a shop target's ``connect`` returns."""

    batch_size: int  # items per ``send`` call (Shopify 1, WooCommerce up to 100)
    destination: str  # the shop URL, shown to the user (never holds credentials)

    def send(self, items: Sequence[OutgoingItem]) -> list[ItemResult]: ...
