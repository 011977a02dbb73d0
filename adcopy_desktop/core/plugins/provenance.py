"""Where a plugin came from: the wheel's sha256, the file it was installed from, and when.

``adcopy plugins install`` writes ``adcopy-install.json`` next to the unpacked wheel (outside its
``.dist-info``, which stays as the wheel had it). A plugin installed with pip shows its
distribution's folder and the time its metadata was written; pip keeps no wheel checksum we could
show. ``adcopy plugins list`` and the Plugins tab show both.

Signatures: Python wheels have no signing scheme in use today (``RECORD.jws``/``.p7s`` were
dropped from the wheel spec), so a wheel is *unsigned* unless a detached Ed25519 signature
(``FILE.whl.sig``) is verified by one of the keys the user trusts (``signing.py``); installing an
unsigned wheel asks first, showing its sha256 so the user can compare it with the one its author
published.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

PROVENANCE_FILE = "adcopy-install.json"


def wheel_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_signed(path: Path) -> bool:
    """Whether a trusted key verifies the wheel's signature (``FILE.whl.sig``)."""
    from adcopy_desktop.core.plugins.signing import SignatureError, check_signature

    try:
        return check_signature(path).signed
    except SignatureError:
        return False


def record_install(folder: Path, wheel: Path, sha256: str, signature: Any = None) -> dict[str, Any]:
    """Write ``adcopy-install.json``; ``signature``: the wheel's ``signing.SignatureCheck``."""
    data = {
        "sha256": sha256,
        "source": str(Path(wheel).resolve()),
        "installed": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "signed": bool(signature is not None and signature.signed),
    }
    if data["signed"]:
        data["signer"] = signature.signer
        data["key"] = signature.fingerprint
    (Path(folder) / PROVENANCE_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data


def folder_provenance(folder: Path, dist_info: Path | None = None) -> dict[str, Any]:
    """What ``adcopy plugins install`` recorded for the plugin in ``folder``; for a folder put
    there by hand, its path and the time its metadata was written."""
    try:
        data = json.loads((Path(folder) / PROVENANCE_FILE).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            found = {key: data.get(key) for key in ("sha256", "source", "installed", "signed")}
            found["signed"] = found["signed"] is True
            if found["signed"]:
                found.update(signer=str(data.get("signer") or ""), key=str(data.get("key") or ""))
            return found
    except (OSError, ValueError):
        pass
    return {"sha256": None, "source": str(folder), "installed": _mtime(dist_info or folder), "signed": False}


def distribution_provenance(dist: Any) -> dict[str, Any]:
    """A pip-installed plugin: its distribution's location and install time."""
    if dist is None:
        return {}
    try:
        location = Path(dist.locate_file(""))
    except Exception:  # noqa: BLE001 - an odd distribution: nothing to show
        return {}
    meta = getattr(dist, "_path", None)
    return {"sha256": None, "source": str(location), "installed": _mtime(Path(meta) if meta else location),
            "signed": False}


def _mtime(path: Path) -> str | None:
    try:
        stamp = Path(path).stat().st_mtime
    except OSError:
        return None
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).isoformat(timespec="seconds")
