"""A diagnostics bundle for support: one zip with what is needed to understand a problem, no secret.

``write_bundle`` (``adcopy diagnostics --out FILE.zip``, Help > Copy diagnostics… in the app) writes:

    README.txt          what the bundle holds and what was left out
    system.json         versions (app, Python, ONNX Runtime, torch, PySide6, …), platform, memory,
                        the execution provider chosen and the ones available, selected environment
    plugins.json        every plugin with its status and why, and the plugin problems of this process
    models.json         every model's manifest (file sizes and checksums, no weights) and the pointer
    settings.json       the settings file as read (secret-named fields masked)
    library.json        counts only: products, generations, candidates by decision, batch and export
                        jobs by status and shop; no product or copy text
    errors.txt          the last warnings and errors (with their tracebacks) from the logs
    logs/adcopy.log*    the recent log files (the newest MAX_LOG_BYTES of each)

Secrets never reach the zip: every file goes through ``core.redaction.redact_text`` as the last
step, with the values found under secret-named settings fields, secret-named environment variables
and the connected shops' keyring entries added to the secrets it masks; the home folder is written
as ``~``. The bundle is built in memory file by file, so a failure in one part (a damaged
manifest, no keyring) is written into that part instead of stopping the bundle.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import sqlite3
import sys
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

from adcopy_desktop import __version__
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.logs import log_files
from adcopy_desktop.core.redaction import MASK, is_secret_name, redact_data, redact_text, secret_values
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.diagnostics")

MAX_LOG_BYTES = 1024 * 1024  # the newest 1 MB of each log file
LAST_ERRORS = 50
# distributions whose versions matter to support (torch is read from its metadata: never imported here)
VERSIONED = ("adcopy-desktop", "onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "torch", "transformers",
             "optimum-onnx", "tokenizers", "numpy", "PySide6", "PySide6-Essentials", "pyqtgraph", "pluggy",
             "keyring", "openpyxl", "peft")
ENV_PREFIXES = ("ADCOPY_", "QT_", "LC_", "OMP_", "ORT_", "HF_", "TRANSFORMERS_", "CUDA_", "PYTHON")
ENV_NAMES = ("LANG", "LANGUAGE", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "XDG_CURRENT_DESKTOP")
CREDENTIAL_FIELDS = ("token", "access_token", "consumer_key", "consumer_secret", "password", "api_key")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


class DiagnosticsError(AdCopyError):
    """The bundle could not be written where asked."""


@dataclass
class Bundle:
    path: Path
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    problems: list[str] = field(default_factory=list)  # parts that could not be collected, and why


def write_bundle(out: Path, *, library_path: Path | None = None, plugins: Any = None,
                 models_root: Path | None = None) -> Bundle:
    """Collect everything into the zip ``out`` (written to a temporary name, then renamed)."""
    out = Path(out).expanduser()
    if out.suffix.lower() != ".zip":
        out = out.with_name(out.name + ".zip")
    folders = user_folders()
    extra = _secrets_to_mask()
    problems: list[str] = []

    def part(name: str, build: Callable[[], Any]) -> tuple[str, str]:
        try:
            content = build()
        except Exception as exc:  # one part failing must not lose the rest
            log.warning("diagnostics: %s could not be collected: %s", name, exc)
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            content = {"error": f"could not be collected: {type(exc).__name__}: {exc}"}
        if not isinstance(content, str):
            content = json.dumps(redact_data(content, extra), ensure_ascii=False, indent=2, default=str)
        return name, content

    parts = [
        part("system.json", system_report),
        part("plugins.json", lambda: plugin_report(plugins)),
        part("models.json", lambda: model_report(models_root or folders.models)),
        part("settings.json", settings_report),
        part("library.json", lambda: library_report(library_path or folders.data / "library.sqlite3")),
        part("errors.txt", last_errors),
    ]
    for path in log_files():
        parts.append(part(f"logs/{path.name}", lambda path=path: _tail(path, MAX_LOG_BYTES)))
    parts.insert(0, ("README.txt", _readme(problems)))
    home = str(Path.home())
    partial = out.with_name(out.name + ".part")
    bundle = Bundle(out, problems=problems)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in parts:
                text = redact_text(content, extra)  # the one gate every byte of the bundle passes
                if home and home not in ("/", "~"):
                    text = text.replace(home, "~")
                data = text.encode("utf-8")
                archive.writestr(name, data)
                bundle.files.append(name)
                bundle.bytes += len(data)
        os.replace(partial, out)
    except OSError as exc:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise DiagnosticsError(f"The diagnostics bundle could not be written to {out} ({exc.strerror or exc}); "
                               "choose a folder you can write to.") from None
    log.info("diagnostics bundle written: %s (%d files, %d bytes)", out, len(bundle.files), bundle.bytes)
    return bundle


# -- the parts -------------------------------------------------------------------------------------


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"adcopy": __version__, "python": sys.version.split()[0]}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def system_report() -> dict[str, Any]:
    report: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
        "python": {"implementation": platform.python_implementation(), "version": sys.version,
                   "executable_in_venv": sys.prefix != sys.base_prefix, "frozen": bool(getattr(sys, "frozen", False))},
        "platform": {"system": platform.system(), "release": platform.release(), "version": platform.version(),
                     "machine": platform.machine(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "environment": environment(),
        "execution_provider": execution_provider(),
    }
    try:
        import psutil

        memory = psutil.virtual_memory()
        report["platform"]["memory_gb"] = round(memory.total / 1e9, 1)
        report["platform"]["memory_available_gb"] = round(memory.available / 1e9, 1)
    except Exception as exc:  # psutil missing a platform
        report["platform"]["memory_gb"] = f"unknown ({exc})"
    return report


def environment() -> dict[str, str]:
    """The variables that change AdCopy's behaviour; secret-named ones masked."""
    chosen = {}
    for name, value in sorted(os.environ.items()):
        if name in ENV_NAMES or name.startswith(ENV_PREFIXES):
            chosen[name] = MASK if is_secret_name(name) else value
    return chosen


def execution_provider() -> dict[str, Any]:
    from adcopy_desktop.core.settings import load_settings

    settings = load_settings()
    result: dict[str, Any] = {"preference": settings.execution_provider, "threads": settings.threads}
    try:
        import onnxruntime

        available = list(onnxruntime.get_available_providers())
        result["available"] = available
        result["device"] = onnxruntime.get_device()
    except Exception as exc:
        result["available"] = f"onnxruntime cannot be loaded: {exc}"
        return result
    from adcopy_desktop.core.runtime.providers import select_providers

    try:
        result["chosen"] = select_providers(available, settings.execution_provider)
    except AdCopyError as exc:
        result["chosen"] = f"none: {exc}"
    return result


def plugin_report(plugins: Any = None) -> dict[str, Any]:
    if plugins is None:
        from adcopy_desktop.core.plugins import get_plugin_manager

        plugins = get_plugin_manager()
    return {
        "safe_mode": bool(getattr(plugins, "safe_mode", False)),
        "plugins": [info.to_dict() for info in plugins.plugins()],
        "problems": [problem.to_dict() for problem in plugins.problems],
    }


def model_report(root: Path) -> dict[str, Any]:
    """Each model folder's manifest as written (never a weight file) and the active pointer."""
    report: dict[str, Any] = {"folder": str(root), "pointer": None, "models": {}}
    pointer = root / "active.json"
    if pointer.is_file():
        report["pointer"] = _read_json(pointer)
    if not root.is_dir():
        return report
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            if folder.is_dir() and folder.name.startswith(".build-"):
                report.setdefault("unfinished_builds", []).append(folder.name)
            continue
        manifest = folder / "manifest.json"
        report["models"][folder.name] = _read_json(manifest) if manifest.is_file() else {
            "error": "no manifest.json (an incomplete or foreign folder)",
            "files": sorted(p.name for p in folder.iterdir())[:50]}
    return report


def settings_report() -> dict[str, Any]:
    path = user_folders().settings_file
    if not path.is_file():
        return {"file": str(path), "exists": False}
    return {"file": str(path), "exists": True, "settings": _read_json(path)}


def library_report(path: Path) -> dict[str, Any]:
    """Counts from the library, read-only (never migrates or creates it); no copy text."""
    if not path.is_file():
        return {"file": str(path), "exists": False}
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        def rows(sql: str) -> list[list[Any]]:
            return [list(row) for row in db.execute(sql).fetchall()]

        report: dict[str, Any] = {"file": str(path), "exists": True,
                                  "schema_version": db.execute("PRAGMA user_version").fetchone()[0]}
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "products" in tables:
            report["products"] = db.execute("SELECT COUNT(*) FROM products WHERE deleted_at IS NULL").fetchone()[0]
        if "generations" in tables:
            report["generations"] = db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
            report["candidates_by_decision"] = rows(
                "SELECT COALESCE(decision, 'undecided'), COUNT(*) FROM candidates GROUP BY 1 ORDER BY 1")
            report["generations_by_model"] = rows("SELECT model, COUNT(*) FROM generations GROUP BY 1 ORDER BY 1")
        if "batch_jobs" in tables:
            report["batch_items_by_status"] = rows("SELECT status, COUNT(*) FROM batch_items GROUP BY 1 ORDER BY 1")
            report["last_batch_errors"] = rows(
                "SELECT job_id, kind, error FROM batch_items WHERE error IS NOT NULL ORDER BY finished_at DESC LIMIT 10")
        if "export_jobs" in tables:
            report["export_jobs"] = rows(
                "SELECT j.target, j.destination, j.status, COUNT(DISTINCT j.id), COUNT(i.id) FROM export_jobs j"
                " LEFT JOIN export_items i ON i.job_id = j.id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
            report["export_items_by_status"] = rows("SELECT status, COUNT(*) FROM export_items GROUP BY 1 ORDER BY 1")
            report["last_export_errors"] = rows(
                "SELECT job_id, status, last_error FROM export_items WHERE last_error IS NOT NULL"
                " ORDER BY id DESC LIMIT 10")
        return report
    finally:
        db.close()


def last_errors(limit: int = LAST_ERRORS) -> str:
    """The last ``limit`` warnings and errors of the logs, oldest first, each with its traceback."""
    entries: list[list[str]] = []
    for path in reversed(log_files()):  # oldest file first
        current: list[str] | None = None
        for line in _tail(path, MAX_LOG_BYTES).splitlines():
            match = LOG_LINE.match(line)
            if match:
                current = [line] if match.group(1) in ("WARNING", "ERROR", "CRITICAL") else None
                if current is not None:
                    entries.append(current)
            elif current is not None and len(current) < 200:  # a traceback or a wrapped message
                current.append(line)
    chosen = entries[-limit:]
    if not chosen:
        return "No warnings or errors in the recent logs.\n"
    return "\n".join("\n".join(entry) for entry in chosen) + "\n"


# -- helpers ----------------------------------------------------------------------------------------


def _secrets_to_mask() -> set[str]:
    """Values that are secret wherever they appear: secret-named settings fields and environment
    variables, and the keyring entries of the shops in the settings (if a keyring is there)."""
    found: set[str] = {value for name, value in os.environ.items()
                       if is_secret_name(name) and len(value) >= 6 and not os.path.exists(value)}
    path = user_folders().settings_file
    settings: Any = None
    if path.is_file():
        try:
            settings = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            settings = None
    found |= secret_values(settings)
    shops = settings.get("shops") if isinstance(settings, dict) else None
    if isinstance(shops, list) and shops:
        found |= _keyring_values(shops)
    return found


def _keyring_values(shops: Iterable[Any]) -> set[str]:
    try:
        from adcopy_desktop.core.secrets import SERVICE, credential_name, keyring_available

        if not keyring_available():
            return set()
        import keyring
    except Exception:
        return set()
    values: set[str] = set()
    for shop in shops:
        if not isinstance(shop, dict):
            continue
        target, url = str(shop.get("target", "")), str(shop.get("shop_url", ""))
        for name in CREDENTIAL_FIELDS:
            try:
                value = keyring.get_password(SERVICE, credential_name(target, url, name))
            except Exception:
                continue
            if value and len(value) >= 4:
                values.add(value)
    return values


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": f"{path.name} cannot be read: {exc}"}


def _tail(path: Path, limit: int) -> str:
    """The last ``limit`` bytes of a text file, starting at a whole line."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - limit))
        data = handle.read()
    if size > limit:
        data = data[data.find(b"\n") + 1:]
    return data.decode("utf-8", errors="replace")


def _readme(problems: list[str]) -> str:
    lines = [
        f"AdCopy Desktop {__version__} diagnostics, {time.strftime('%Y-%m-%d %H:%M:%S')}",
        "",
        "system.json    versions, platform, execution provider, environment",
        "plugins.json   plugins with their status and problems",
        "models.json    model manifests (no weights) and the active pointer",
        "settings.json  the settings file",
        "library.json   counts of products, copy, batch and export jobs (no product or copy text)",
        "errors.txt     the last warnings and errors from the logs",
        "logs/          the recent log files",
        "",
        "Tokens, passwords, keys, Authorization headers and credentials in URLs are replaced by "
        f"{MASK}; the home folder is written as ~.",
    ]
    if problems:
        lines += ["", "Parts that could not be collected:"] + [f"- {problem}" for problem in problems]
    return "\n".join(lines) + "\n"
