"""Bearer tokens for ``adcopy serve``: created once and shown once, kept only as SHA-256 hashes.

A token is 32 random bytes (``adc_`` + URL-safe base64), so a plain SHA-256 of it cannot be
guessed back (a slow password hash protects short human passwords; this one is not one). The
hashes live in ``<data>/serve/tokens.json`` with a name, an id and the creation time; the server
reads the file again when it changes, so a revoked token stops working without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.model_store.manifest import write_json_atomically
from adcopy_desktop.paths import user_folders

TOKEN_PREFIX = "adc_"


class TokenError(AdCopyError):
    """A token that cannot be created or revoked as asked."""


@dataclass(frozen=True)
class ServeToken:
    id: str
    name: str
    sha256: str
    created_at: float


def default_tokens_file() -> Path:
    return user_folders().data / "serve" / "tokens.json"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_tokens_file()
        self._lock = threading.Lock()
        self._cache: tuple[float, int, list[ServeToken]] | None = None  # (mtime, size, tokens)

    def tokens(self) -> list[ServeToken]:
        """The stored tokens (hashes), read again only when the file changed."""
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self._cache = None
                return []
            key = (stat.st_mtime, stat.st_size)
            if self._cache is not None and self._cache[:2] == key:
                return list(self._cache[2])
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                tokens = [ServeToken(**entry) for entry in data.get("tokens", [])]
            except (OSError, ValueError, TypeError) as error:
                raise TokenError(f"The token file {self.path} cannot be read ({error}); remove it and create "
                                 "tokens again with 'adcopy serve token create'.") from None
            self._cache = (*key, tokens)
            return list(tokens)

    def create(self, name: str) -> tuple[ServeToken, str]:
        """A new token: (its record, the token itself, which is not stored and cannot be shown again)."""
        name = (name or "").strip()
        if not name or len(name) > 64:
            raise TokenError("Give the token a name of 1-64 characters (who or what uses it), e.g. --name laptop-anna.")
        existing = self.tokens()
        if any(token.name == name for token in existing):
            raise TokenError(f"There is a token called '{name}' already; revoke it first or choose another name.")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = ServeToken(id=secrets.token_hex(4), name=name, sha256=hash_token(secret), created_at=time.time())
        self._write([*existing, record])
        return record, secret

    def revoke(self, id_or_name: str) -> ServeToken:
        existing = self.tokens()
        match = [t for t in existing if id_or_name in (t.id, t.name)]
        if not match:
            raise TokenError(f"There is no token '{id_or_name}'; 'adcopy serve token list' shows ids and names.")
        self._write([t for t in existing if t not in match])
        return match[0]

    def check(self, presented: str | None) -> ServeToken | None:
        """The token record that ``presented`` matches (constant-time comparison), or None."""
        if not presented:
            return None
        digest = hash_token(presented)
        found = None
        for token in self.tokens():
            if hmac.compare_digest(token.sha256, digest):
                found = token
        return found

    def _write(self, tokens: list[ServeToken]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.path, {"tokens": [asdict(t) for t in tokens]})
        try:
            self.path.chmod(0o600)  # hashes only, but nobody else needs to read them
        except OSError:
            pass
        with self._lock:
            self._cache = None
