"""JSON over HTTP(S) with the standard library, sorting failures into "send again" and "stop".

Credentials travel only in headers passed by the caller; nothing here logs or repeats headers, and
error messages quote at most the start of a response body.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

from adcopy_desktop.core.secrets import redact
from adcopy_desktop.core.shops import ShopError, TransientShopError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON


def normalise_shop_url(url: str, *, what: str) -> str:
    """``https://host[/path]`` without a trailing slash. Plain http only for this computer (tests,
    local shops): credentials must not cross a network unencrypted."""
    text = (url or "").strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ShopError(f"{what} URL {url!r} is not a web address; give it like https://example.com.")
    if parsed.username or parsed.password or parsed.query:
        raise ShopError(f"{what} URL must not contain a user name, password or query; give only the address.")
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS:
        raise ShopError(f"{what} URL {url!r} uses plain http; use https so the access keys stay encrypted.")
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))


def request_json(
    method: str, url: str, *, headers: Mapping[str, str], body: Any = None, timeout: float = 30.0
) -> Response:
    """Send one request. HTTP 429, 5xx, timeouts and broken connections raise TransientShopError
    (with the shop's Retry-After); 401/403/404 and other 4xx raise ShopError; 2xx returns."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status, response_headers = response.status, dict(response.headers.items())
    except urllib.error.HTTPError as error:
        raw = _read_quietly(error)
        status, response_headers = error.code, dict(error.headers.items()) if error.headers else {}
    except (TimeoutError, socket.timeout) as error:
        raise TransientShopError(f"the shop did not answer within {timeout:g} s ({error})") from None
    except (ConnectionError, http.client.HTTPException, urllib.error.URLError, ssl.SSLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise ShopError(f"the shop's certificate is not valid ({reason}); check the shop URL") from None
        raise TransientShopError(f"the connection to the shop failed ({reason})") from None
    parsed = _parse(raw)
    if status == 429 or status >= 500:
        raise TransientShopError(f"the shop answered HTTP {status}{_excerpt(parsed, raw)}",
                                 retry_after=retry_after_seconds(response_headers.get("Retry-After")))
    if status in (401, 403):
        raise ShopError(f"the shop refused the credentials (HTTP {status}); store a valid access key with "
                        "'adcopy shops add'")
    if status >= 400:
        raise ShopError(f"the shop answered HTTP {status}{_excerpt(parsed, raw)}")
    if parsed is _UNPARSED:
        raise TransientShopError(f"the shop sent an answer that is not JSON (HTTP {status}){_excerpt(None, raw)}")
    return Response(status, response_headers, parsed)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_UNPARSED = object()


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        return _UNPARSED


def _read_quietly(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except (OSError, http.client.HTTPException):
        return b""


def _excerpt(parsed: Any, raw: bytes) -> str:
    if isinstance(parsed, dict):
        for key in ("message", "errors", "error"):
            if key in parsed:
                return ": " + redact(str(parsed[key]))[:300]
    text = raw[:200].decode("utf-8", "replace").strip()
    return f": {redact(text)}" if text else ""
