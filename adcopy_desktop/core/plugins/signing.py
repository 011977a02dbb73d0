"""Optional wheel signatures: an Ed25519 signature of the wheel's bytes in ``FILE.whl.sig``.

Wheels have no signing scheme in use (``RECORD.jws`` was dropped from the wheel spec), so AdCopy
takes a detached one: the publisher signs the ``.whl`` file with their private key
(``adcopy plugins sign FILE.whl --key KEY.pem`` writes ``FILE.whl.sig``, one line of base64) and
publishes their public key; the user lists the keys they trust in ``settings.json``::

    "trusted_plugin_keys": [{"name": "Acme Agency", "key": "<base64 of the 32-byte public key>"}]

``adcopy plugins install`` (and the Plugins tab) then check the signature before unpacking:

- a signature that a trusted key verifies: the wheel is **signed** by that key's name, installed
  without the unsigned warning, and recorded as such (``adcopy plugins list``, the Plugins tab);
- no ``.sig`` file, or a ``.sig`` but no trusted keys set, or no ``cryptography`` package to check
  it with: **unsigned** (the warning and the question, as for any wheel);
- a ``.sig`` that no trusted key verifies, or one that is not a signature: the install is refused
  (the wheel was changed after signing, or someone else signed it).

A signature says who built the wheel, not that its code is harmless: a signed plugin runs in a
plugin host like any other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from adcopy_desktop.core.errors import PluginError

log = logging.getLogger("adcopy.plugins.signing")

SIGNATURE_SUFFIX = ".sig"
SETTING = "trusted_plugin_keys"


class SignatureError(PluginError):
    """A wheel's signature file is there but does not prove it (refused)."""


@dataclass(frozen=True)
class TrustedKey:
    name: str
    key: bytes  # the raw 32-byte Ed25519 public key

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.key)


@dataclass(frozen=True)
class SignatureCheck:
    """What a wheel's signature proves: ``signed`` by ``signer`` (a trusted key's name), or why not."""

    signed: bool
    signer: str | None = None
    fingerprint: str | None = None
    note: str = ""  # why it counts as unsigned (no .sig, no trusted keys, no cryptography)
    sha256: str | None = None  # of the bytes the signature was checked against

    def describe(self) -> str:
        if self.signed:
            return f"signed by {self.signer} (key {self.fingerprint})"
        return f"unsigned: {self.note}" if self.note else "unsigned"


def signature_path(wheel: Path) -> Path:
    wheel = Path(wheel)
    return wheel.with_name(wheel.name + SIGNATURE_SUFFIX)


def key_fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def parse_public_key(text: str) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given as base64 (raw key) or PEM."""
    text = str(text).strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"{len(raw)} bytes; an Ed25519 public key has 32")
    return raw


def trusted_keys(entries: Iterable[Any] | None = None) -> list[TrustedKey]:
    """The keys in ``entries`` (default: the settings' ``trusted_plugin_keys``); a malformed entry
    is left out with a warning."""
    if entries is None:
        from adcopy_desktop.core.settings import load_settings

        entries = load_settings().trusted_plugin_keys
    keys = []
    for entry in entries or []:
        name, text = (entry.get("name"), entry.get("key")) if isinstance(entry, dict) else (None, entry)
        try:
            raw = parse_public_key(text)
        except Exception as error:  # noqa: BLE001 - a bad entry must not stop the others
            log.warning("%s: ignoring the key %r: %s", SETTING, name or text, error)
            continue
        keys.append(TrustedKey(str(name or key_fingerprint(raw)), raw))
    return keys


def check_signature(wheel: Path, keys: Iterable[TrustedKey] | None = None) -> SignatureCheck:
    """Whether ``wheel`` is signed by a trusted key; raises SignatureError for a ``.sig`` file
    that no trusted key verifies."""
    wheel = Path(wheel)
    sig_file = signature_path(wheel)
    if not sig_file.is_file():
        return SignatureCheck(False, note=f"there is no {sig_file.name}")
    keys = trusted_keys() if keys is None else list(keys)
    if not keys:
        return SignatureCheck(False, note=f"it has {sig_file.name}, but no trusted keys are set ({SETTING} in "
                                          "settings.json), so it was not checked")
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return SignatureCheck(False, note=f"it has {sig_file.name}, but the cryptography package is missing, so "
                                          "it was not checked")
    try:
        content = sig_file.read_bytes()
        signature = content if len(content) == 64 else base64.b64decode(content.strip(), validate=True)
    except (OSError, binascii.Error, ValueError) as error:
        raise SignatureError(f"{sig_file.name} is not a signature ({error})") from None
    if len(signature) != 64:
        raise SignatureError(f"{sig_file.name} is not an Ed25519 signature ({len(signature)} bytes, not 64)")
    data = wheel.read_bytes()
    for key in keys:
        try:
            Ed25519PublicKey.from_public_bytes(key.key).verify(signature, data)
        except (InvalidSignature, ValueError):
            continue
        return SignatureCheck(True, signer=key.name, fingerprint=key.fingerprint,
                              sha256=hashlib.sha256(data).hexdigest())
    raise SignatureError(
        f"{sig_file.name} does not match {wheel.name} with any trusted key ({SETTING}): the wheel was changed "
        f"after it was signed, or signed by a key you have not added. Add its publisher's key, or remove "
        f"{sig_file.name} to install it as an unsigned wheel")


# -- for publishers ---------------------------------------------------------------------------------


def generate_key() -> tuple[bytes, str]:
    """A new key pair: the private key as PEM (keep it secret) and the public key as base64."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return pem, base64.b64encode(public).decode("ascii")


def sign_wheel(wheel: Path, private_pem: bytes) -> Path:
    """Write ``wheel``'s signature next to it (``FILE.whl.sig``) and return its path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise PluginError("the key is not an Ed25519 private key (make one with: adcopy plugins keygen)")
    signature = private.sign(Path(wheel).read_bytes())
    path = signature_path(wheel)
    path.write_text(base64.b64encode(signature).decode("ascii") + "\n", encoding="ascii")
    return path


def public_key_of(private_pem: bytes) -> str:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(private_pem, password=None)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")
