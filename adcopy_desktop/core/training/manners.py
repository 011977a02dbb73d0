"""How background training shares the machine: low priority, and what a killed run leaves.

* ``low_priority()``: keyword arguments for ``subprocess.Popen`` that start a child at low CPU
  priority (nice 10 on POSIX, below-normal on Windows), so the window and generation keep the
  processor when they need it. (The trainer also waits while someone generates:
  ``core/activity.py``.)
* ``sweep_stale_work(root)``: removes work folders (``.owner`` holds a pid) of runs that were
  killed, at the next start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from adcopy_desktop.core.activity import process_alive

OWNER_FILE = ".owner"
NICE = 10


def low_priority() -> dict[str, Any]:
    if sys.platform == "win32":
        return {"creationflags": subprocess.BELOW_NORMAL_PRIORITY_CLASS}
    return {"preexec_fn": _lower_priority}


def _lower_priority() -> None:  # runs in the child between fork and exec
    try:
        os.nice(NICE)
    except OSError:
        pass


def claim(folder: Path) -> None:
    """Mark ``folder`` as this process's work, for ``sweep_stale_work``."""
    (folder / OWNER_FILE).write_text(str(os.getpid()))


def sweep_stale_work(root: Path, prefix: str = "") -> list[Path]:
    """Remove ``root``'s work folders whose owner process is gone; returns what was removed."""
    removed = []
    try:
        folders = [path for path in root.iterdir() if path.is_dir() and path.name.startswith(prefix)]
    except OSError:
        return removed
    for folder in folders:
        try:
            pid = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not a claimed work folder (or being created): leave it
        if pid != os.getpid() and not process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
