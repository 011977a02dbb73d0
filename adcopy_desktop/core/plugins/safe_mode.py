"""Safe mode after a crash: remembering which plugin was working when the app died.

While plugin code runs, the app keeps a small marker file per process in
``<data>/plugin-work/<pid>.json`` naming the plugin(s) at work (name, version, hook). The file is
rewritten in place (no fsync: it has to survive the process, not the machine), emptied when the
work ends and removed at a clean exit. At the next start ``take_crash_report()`` finds the file of
a process that is gone with work still listed: the app died during plugin work, and that plugin is
the suspect. The CLI prints a warning line suggesting ``--safe-mode``; the window offers a safe-mode
run in a dialog.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

MARKER_FOLDER = "plugin-work"


def marker_folder() -> Path:
    from adcopy_desktop.paths import user_folders

    return user_folders().data / MARKER_FOLDER


@dataclass(frozen=True)
class CrashReport:
    """A previous run that died while plugin code ran."""

    plugin: str
    version: str
    source: str
    hook: str
    since: float  # when that work started (time.time())
    pid: int

    def describe(self) -> str:
        version = f" {self.version}" if self.version else ""
        return (f"AdCopy stopped unexpectedly last time while plugin '{self.plugin}'{version} ({self.source}) "
                f"was working in {self.hook}")


class _Marker:
    """This process's marker file; ``enter``/``leave`` record work per thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._folder: Path | None = None
        self._work: dict[int, list[dict[str, Any]]] = {}
        self._disabled = False

    def enter(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._work.setdefault(threading.get_ident(), []).append(entry)
            self._write()

    def leave(self, entry: dict[str, Any]) -> None:
        with self._lock:
            stack = self._work.get(threading.get_ident(), [])
            if entry in stack:
                stack.remove(entry)
            if not stack:
                self._work.pop(threading.get_ident(), None)
            self._write()

    def _write(self) -> None:
        if self._disabled:
            return
        folder = marker_folder()
        if self._fd is None or folder != self._folder:
            self._open(folder)
            if self._fd is None:
                return
        work = [entry for stack in self._work.values() for entry in stack]
        data = json.dumps({"pid": os.getpid(), "work": work}, ensure_ascii=False).encode("utf-8")
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, data)
            os.ftruncate(self._fd, len(data))
        except OSError:
            self._close()

    def _open(self, folder: Path) -> None:
        self._close()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{os.getpid()}.json"
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            self._path, self._folder = path, folder
        except OSError:  # a read-only data folder: no marker, plugins still run
            self._fd = None

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None

    def remove(self) -> None:
        """At a clean exit: nothing was running, so there is nothing to suspect."""
        with self._lock:
            path = self._path
            self._close()
            self._path = None
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()


_marker = _Marker()
atexit.register(_marker.remove)


@contextlib.contextmanager
def plugin_work(name: str, version: str, source: str, hook: str) -> Iterator[None]:
    """Mark ``hook`` of plugin ``name`` as running in this thread for as long as the block runs."""
    entry = {"plugin": name, "version": version, "source": source, "hook": hook, "since": time.time()}
    _marker.enter(entry)
    try:
        yield
    finally:
        _marker.leave(entry)


def take_crash_report(folder: Path | None = None) -> CrashReport | None:
    """The plugin that was working when an earlier run died, if one was; clears the old markers
    (each crash is reported once)."""
    folder = folder or marker_folder()
    if not folder.is_dir():
        return None
    found: CrashReport | None = None
    for path in folder.glob("*.json"):
        try:
            pid = int(path.stem)
        except ValueError:
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            work = [entry for entry in data.get("work", []) if isinstance(entry, dict)]
        except (OSError, ValueError, AttributeError):
            work = []
        with contextlib.suppress(OSError):
            path.unlink()
        if work:
            latest = max(work, key=lambda entry: float(entry.get("since") or 0))
            report = CrashReport(plugin=str(latest.get("plugin", "?")), version=str(latest.get("version", "")),
                                 source=str(latest.get("source", "")), hook=str(latest.get("hook", "?")),
                                 since=float(latest.get("since") or 0), pid=pid)
            if found is None or report.since > found.since:
                found = report
    return found


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.pid_exists(pid)
    except Exception:  # noqa: BLE001 - when unsure, do not blame a plugin
        return True
