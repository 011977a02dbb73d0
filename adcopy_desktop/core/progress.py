"""Progress reporting and cancellation for long core work, with no Qt in sight.

Core functions take a ``progress`` callback and a ``CancelToken``; the GUI's worker and the CLI
adapt them to a progress dialog or a terminal line.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # short machine-readable step name, e.g. "export"
    message: str  # what a person reads
    fraction: float | None = None  # 0..1 when known


ProgressCallback = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    return None


class CancelToken:
    """Set from any thread; the worker checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def format_duration(seconds: float | None) -> str:
    """An ETA or elapsed time as people read it: "45 s", "3 min 05 s", "1 h 02 min"; "–" when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
