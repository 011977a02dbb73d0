"""Taking secrets out of text and data before it is written to a log or a diagnostics bundle.

Two layers, applied together by ``redact_text``:

- the secrets this process has seen (``core.secrets.redact``: every token read from or stored in
  the keyring) plus any ``extra`` values the caller knows to be secret (a settings field named
  ``token``, an environment variable named ``*_TOKEN``);
- patterns for secrets no one told us about: credentials in URLs (``https://user:pass@host``),
  secret query parameters (``?access_token=…``, ``&consumer_secret=…``), ``Authorization`` and
  ``X-…-Token`` headers, ``password=…`` / ``"api_key": "…"`` pairs, and token shapes of the shops
  AdCopy talks to (Shopify ``shpat_…``, WooCommerce ``ck_…``/``cs_…``) and common ones (``Bearer``).

``redact_data`` walks JSON-like data: a value under a secret-sounding key is replaced whole, every
other string goes through ``redact_text``. Nothing here imports Qt.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from adcopy_desktop.core import secrets

MASK = secrets.MASK

# words that make a key or variable name secret (access_token, SHOP_PASSWORD, consumerSecret, X-Api-Key);
# not 'pwd': $PWD is the working folder
SECRET_WORDS = {"password", "passwd", "passphrase", "secret", "token", "apikey", "auth", "authorization",
                "credential", "credentials", "cookie", "signature", "sig"}
KEY_QUALIFIERS = {"api", "access", "private", "consumer", "secret", "client", "signing", "shop", "app"}
NOT_SECRET_AFTER_TOKEN = {"s", "count", "counts", "len", "length", "limit", "ids", "usage"}  # first_token_s, token_count
_NAMES = (r"pass(?:word|wd|phrase)?|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
          r"consumer[_-]?(?:key|secret)|client[_-]?secret|credentials?|signature|auth")
_NAME_PART = rf"(?:[A-Za-z0-9_-]*(?:{_NAMES}))"

PATTERNS: list[tuple[re.Pattern[str], Any]] = [  # (pattern, replacement text or function)
    # scheme://user:password@host and scheme://token@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@:'\"<>]+(?::[^\s/@'\"<>]*)?@"), r"\1" + MASK + "@"),
    # ?access_token=…&key=… (any secret-sounding parameter, also 'key' and 'auth' alone)
    (re.compile(rf"(?i)([?&;](?:{_NAME_PART}|key|sig|code)=)[^&#\s'\"<>]+"), r"\1" + MASK),
    # Authorization: Bearer …  /  X-Shopify-Access-Token: …  (headers, also as "key": "value")
    (re.compile(r"(?i)((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])(?:(?:bearer|basic|token|digest)\s+)?"
                r"[^\s,;'\"]+"), r"\1" + MASK),
    (re.compile(r"(?i)(x-[a-z0-9-]*(?:token|key|secret|auth)[a-z0-9-]*[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])[^\s,;'\"]+"),
     r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
    # "password": "…", token=…, api_key: … in JSON, logs and repr()s
    (re.compile(rf"(?i)([\"']?\b{_NAME_PART}[\"']?\s*[:=]\s*)(?![\"']?\[redacted\])(\"[^\"]*\"|'[^']*'|[^\s,;}}&)\]\"']+)"),
     lambda m: m.group(1) + (m.group(2)[0] + MASK + m.group(2)[0] if m.group(2)[0] in "\"'" else MASK)),
    # token shapes: Shopify access tokens, WooCommerce keys, GitHub, Slack, AWS access key ids, JWTs
    (re.compile(r"\bshp(?:at|ca|pa|ss|ua)_[A-Za-z0-9]{16,}"), MASK),
    (re.compile(r"\bc[ks]_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),
]


def is_secret_name(name: str) -> bool:
    """A key or variable name whose value must never be shown (``token``, ``SHOP_PASSWORD``,
    ``consumerSecret``, ``X-Api-Key``); ``max_new_tokens`` or ``first_token_s`` are not."""
    words = [w.lower() for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", str(name)) if w]
    for position, word in enumerate(words):
        after = words[position + 1] if position + 1 < len(words) else ""
        if word == "token" and after in NOT_SECRET_AFTER_TOKEN:
            continue
        if word in SECRET_WORDS:
            return True
        if word == "key" and (position == 0 and len(words) == 1 or position and words[position - 1] in KEY_QUALIFIERS):
            return True
    return False


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with known secrets, ``extra`` values and secret-looking patterns replaced by [redacted]."""
    if not text:
        return text
    text = secrets.redact(text)
    for value in sorted({v for v in extra if v and len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_data(data: Any, extra: Iterable[str] = ()) -> Any:
    """A copy of JSON-like ``data``: secret-named keys' values masked, strings redacted."""
    extra = tuple(extra)
    if isinstance(data, dict):
        return {key: (MASK if is_secret_name(str(key)) and value not in (None, "", [], {}) else
                      redact_data(value, extra)) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(value, extra) for value in data]
    if isinstance(data, str):
        return redact_text(data, extra)
    return data


def secret_values(data: Any) -> set[str]:
    """Every string found under a secret-named key of ``data`` (to mask it wherever else it appears)."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if is_secret_name(str(key)) and isinstance(value, str) and len(value) >= 4:
                found.add(value)
            else:
                found |= secret_values(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            found |= secret_values(value)
    return found
