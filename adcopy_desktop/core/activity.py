"""Interactive generation in progress, visible to other processes.

``generating()`` marks it with a file ``generating-<pid>`` in ``activity_folder()`` for as long as
a generation runs; background work (the training child) checks ``someone_generating`` before each
step and waits, so the user's own generation gets the processor. A CLI ``adcopy generate`` in
another terminal counts too; markers of dead processes are swept.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Iterator

from adcopy_desktop.paths import user_folders

MARKER_PREFIX = "generating-"


def activity_folder() -> Path:
    return user_folders().cache / "activity"


@contextlib.contextmanager
def generating(folder: Path | None = None) -> Iterator[None]:
    """Mark this process as generating for the duration (nested uses share one marker)."""
    folder = folder or activity_folder()
    marker = folder / f"{MARKER_PREFIX}{os.getpid()}"
    key = str(marker)
    with _depth_lock:  # bulk jobs over a pool and adcopy serve generate on several threads at once
        first = _depth.get(key, 0) == 0
        _depth[key] = _depth.get(key, 0) + 1
        if first:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                marker.write_text(str(time.time()))
            except OSError:
                pass  # a read-only cache only loses the courtesy, never the generation
    try:
        yield
    finally:
        with _depth_lock:
            _depth[key] -= 1
            if _depth[key] == 0:
                del _depth[key]
                with contextlib.suppress(OSError):
                    marker.unlink()


_depth: dict[str, int] = {}
_depth_lock = threading.Lock()


def someone_generating(folder: Path) -> bool:
    """Whether a live process other than this one holds a generation marker in ``folder``."""
    try:
        markers = list(folder.glob(f"{MARKER_PREFIX}*"))
    except OSError:
        return False
    for marker in markers:
        try:
            pid = int(marker.name[len(MARKER_PREFIX):])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        if process_alive(pid):
            return True
        with contextlib.suppress(OSError):
            marker.unlink()  # left by a process that died mid-generation
    return False


def process_alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(pid)
