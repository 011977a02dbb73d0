"""The user's installed models: building, importing, listing, verifying and the active pointer.

Layout under the models folder::

    active.json                 {"model": "<id>"}, replaced atomically
    <id>/manifest.json          written last: a folder without it is an unfinished build
    <id>/onnx/                  what the runtime loads (model.onnx + tokenizer files)
    <id>/hf/                    safetensors weights, kept for fine-tuning
    .build-<id>-<random>/       a build in progress; moved into place with one rename

Builds run in a child process (torch and Optimum never enter the app's process) and are moved into
place only after the export check and the manifest are written, so a crash at any point leaves
either the old model or the new one, never a half-written folder.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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
    read_manifest,
    verify_model_folder,
    write_json_atomically,
    write_manifest,
)
from adcopy_desktop.core.model_store.sources import (
    DEFAULT_MODEL_ID,
    ModelSource,
    default_model_source,
    inspect_source,
)
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.models")

ACTIVE_POINTER = "active.json"
BUILD_PREFIX = ".build-"
BUILD_EXTRAS = ("torch", "transformers", "optimum.exporters.onnx", "gguf")
# fp32: the exact export. int4: 4-bit weight-only matmuls, about twice the tokens/s on CPU but
# measurably less faithful to the float model (docs/benchmarks.md), so it is opt-in.
PRECISIONS = ("fp32", "int4")
DEFAULT_PRECISION = "fp32"


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

    @property
    def runtime_folder(self) -> Path:
        return self.folder / "onnx"

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
            "source": self.source,
            "created": self.created,
            "active": self.active,
            "status": "ok" if self.problem is None else f"damaged: {self.problem}",
            "folder": str(self.folder),
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
        )


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60] or "model"


class ModelStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else user_folders().models

    # -- reading -------------------------------------------------------------------------------
    def list_models(self) -> list[ModelInfo]:
        if not self.root.is_dir():
            return []
        active = self.active_id()
        models = []
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            models.append(self._info(folder, active))
        return models

    def _info(self, folder: Path, active: str | None) -> ModelInfo:
        try:
            manifest = read_manifest(folder)
        except CorruptModelError as exc:
            return ModelInfo(id=folder.name, folder=folder, active=folder.name == active, problem=str(exc))
        return ModelInfo.from_manifest(folder, manifest, active=folder.name == active)

    def get(self, model_id: str) -> ModelInfo:
        folder = self.root / model_id
        if not (folder.is_dir() and not model_id.startswith(".")):
            known = ", ".join(m.id for m in self.list_models()) or "none"
            raise ModelError(f"There is no model '{model_id}'. Installed models: {known}.")
        return self._info(folder, self.active_id())

    def active_id(self) -> str | None:
        try:
            data = json.loads((self.root / ACTIVE_POINTER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        model_id = data.get("model") if isinstance(data, dict) else None
        return model_id if isinstance(model_id, str) and (self.root / model_id).is_dir() else None

    def set_active(self, model_id: str) -> ModelInfo:
        info = self.get(model_id)
        if info.problem:
            raise CorruptModelError(info.problem)
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.root / ACTIVE_POINTER, {"model": model_id})
        log.info("active model is now %s", model_id)
        info.active = True
        return info

    def active_model(self) -> ModelInfo:
        model_id = self.active_id()
        if model_id is None:
            raise ModelNotReadyError(
                "No model is installed yet. Build the default model with 'adcopy models build' "
                "(the set-up script does it), or import one with 'adcopy models import PATH'."
            )
        return self.get(model_id)

    def verified(self, model_id: str, *, full: bool = False) -> ModelInfo:
        """The model, after checking its runtime files against the manifest (all files if ``full``)."""
        info = self.get(model_id)
        verify_model_folder(info.folder, prefix="" if full else "onnx/", force_hash=full)
        return self._info(info.folder, self.active_id())

    # -- writing -------------------------------------------------------------------------------
    def ensure_default_model(
        self, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
    ) -> ModelInfo:
        """The default model, built on first use; a damaged copy is rebuilt, not loaded."""
        folder = self.root / DEFAULT_MODEL_ID
        if (folder / MANIFEST_NAME).is_file():
            try:
                info = self.verified(DEFAULT_MODEL_ID)
            except CorruptModelError as exc:
                log.warning("rebuilding the default model: %s", exc)
                progress(ProgressEvent("check", f"The default model is damaged; rebuilding it. ({exc})"))
            else:
                if self.active_id() is None:
                    self.set_active(DEFAULT_MODEL_ID)
                    info.active = True
                return info
        info = self.build(
            default_model_source(),
            model_id=DEFAULT_MODEL_ID,
            name="SmolLM2-135M-Instruct",
            progress=progress,
            cancel=cancel,
            replace=True,
        )
        if self.active_id() is None:
            info = self.set_active(DEFAULT_MODEL_ID)
        return info

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
    ) -> ModelInfo:
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
            metadata = run_builder(source, staging, model_id, name, progress, cancel, self.root, precision)
            if languages:
                metadata["languages"] = languages
            progress(ProgressEvent("manifest", "Writing checksums", 0.95))
            write_manifest(staging, metadata)
            self._move_into_place(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        progress(ProgressEvent("done", f"Model {model_id} is ready", 1.0))
        return self._info(target, self.active_id())

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


def require_build_extras() -> None:
    missing = [name for name in BUILD_EXTRAS if _find_spec(name) is None]
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
    ]
    progress(ProgressEvent("start", f"Building {name} from {source.path.name}", 0.0))
    with log_path.open("w", encoding="utf-8") as log_file:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log_file, text=True, encoding="utf-8",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump_lines, args=(child.stdout, lines), daemon=True)
        reader.start()
        result: dict[str, Any] | None = None
        error: str | None = None
        while True:
            if cancel is not None and cancel.cancelled:
                child.kill()
                child.wait()
                raise Cancelled(f"Building {name} was cancelled; nothing was installed.")
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            try:
                message = json.loads(line)
            except ValueError:
                continue  # a library printing to stdout; the log has it
            if message.get("event") == "progress":
                progress(ProgressEvent(message["stage"], message["message"], message.get("fraction")))
            elif message.get("event") == "error":
                error = message["message"]
            elif message.get("event") == "done":
                result = message["metadata"]
        code = child.wait()
    (staging / ".owner").unlink(missing_ok=True)
    if result is None or code != 0:
        detail = error or f"the build process exited with code {code}"
        raise ModelError(f"Could not build {name}: {detail}. Details are in {log_path}.")
    return result


def _pump_lines(stream, lines: "queue.Queue[str | None]") -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)
