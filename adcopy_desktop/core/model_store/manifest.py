"""Model manifests: the list of files (sizes, sha256) a model folder must hold to be loaded.

Sizes are checked on every load (cheap, catches truncation); sha256 is checked whenever a file's
size or modification time differs from the last verification, so an unchanged 500 MB model is not
re-hashed at every start while any rewrite or truncation is caught.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from adcopy_desktop.core.errors import CorruptModelError

MANIFEST_NAME = "manifest.json"
VERIFIED_STAMP_NAME = ".verified.json"
OWNER_NAME = ".owner"  # pid of the process a folder in progress belongs to
MANIFEST_FORMAT = 1


def sha256_of(path: Path, chunk_size: int = 4 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(folder: Path, relative_paths: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {
        rel: {"size": (folder / rel).stat().st_size, "sha256": sha256_of(folder / rel)}
        for rel in sorted(relative_paths)
    }


TEMP_SUFFIX = ".tmp"


def write_json_atomically(path: Path, data: Any, *, before_replace: Callable[[], None] | None = None) -> None:
    """Write, fsync, rename, fsync the folder: readers see the old file or the new one, never half
    of one, and after a power cut the rename is on disk too. The temporary name is unique per
    process and thread; a leftover of a killed writer starts with "." and ends with ".tmp".
    ``before_replace`` runs between the written temporary file and the rename (crash tests)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}{TEMP_SUFFIX}")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable (no-op where folders cannot be opened)."""
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(folder: Path, metadata: dict[str, Any]) -> dict[str, Any]:
    """Describe every file under ``folder`` (manifest and stamp excluded) and save the manifest."""
    files = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (MANIFEST_NAME, VERIFIED_STAMP_NAME, OWNER_NAME)
    ]
    manifest = {"format": MANIFEST_FORMAT, **metadata, "files": describe_files(folder, files)}
    write_json_atomically(folder / MANIFEST_NAME, manifest)
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptModelError(
            f"Model folder {folder} has no {MANIFEST_NAME}: it was not completely built. "
            "Rebuild it (adcopy models build) or import it again (adcopy models import)."
        ) from None
    except (OSError, ValueError) as exc:
        raise CorruptModelError(
            f"The manifest {path} cannot be read ({exc}). Rebuild or re-import the model."
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CorruptModelError(f"The manifest {path} has no file list. Rebuild or re-import the model.")
    return manifest


def verify_model_folder(folder: Path, *, prefix: str = "", force_hash: bool = False) -> dict[str, Any]:
    """Check the files under ``prefix`` against the manifest; raise CorruptModelError on any mismatch."""
    manifest = read_manifest(folder)
    stamp = _read_stamp(folder)
    problems: list[str] = []
    new_stamp = dict(stamp)
    for rel, expected in manifest["files"].items():
        if not rel.startswith(prefix):
            continue
        path = folder / rel
        try:
            stat = path.stat()
        except FileNotFoundError:
            problems.append(f"{rel} is missing")
            continue
        if stat.st_size != expected["size"]:
            problems.append(f"{rel} has {stat.st_size} bytes, expected {expected['size']}")
            continue
        signature = [stat.st_size, stat.st_mtime_ns]
        if force_hash or stamp.get(rel) != signature:
            if sha256_of(path) != expected["sha256"]:
                problems.append(f"{rel} does not match its checksum")
                new_stamp.pop(rel, None)
                continue
            new_stamp[rel] = signature
    if problems:
        raise CorruptModelError(
            f"Model {manifest.get('id', folder.name)} in {folder} is damaged: "
            + "; ".join(problems)
            + ". Rebuild it (adcopy models build) or import it again (adcopy models import)."
        )
    if new_stamp != stamp:
        try:
            write_json_atomically(folder / VERIFIED_STAMP_NAME, new_stamp)
        except OSError:
            pass  # a read-only model folder is still usable; it is just hashed again next time
    return manifest


def _read_stamp(folder: Path) -> dict[str, list[int]]:
    try:
        data = json.loads((folder / VERIFIED_STAMP_NAME).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
