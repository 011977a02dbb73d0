"""The line protocol of the app's worker children (model builder, exporter, trainer, held-out
generation): one JSON object per stdout line, ``{"event": "progress" | "error" | "done", ...}``;
anything else on stdout is a library talking and is ignored (the child's log has it)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from typing import Any, Callable

from adcopy_desktop.core.errors import Cancelled
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent


def pump_lines(stream, lines: "queue.Queue[str | None]") -> None:
    """Copy a child's output into ``lines`` (None at the end), so the reader can poll for cancel."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def line_queue(child: subprocess.Popen) -> "queue.Queue[str | None]":
    """A queue fed with ``child``'s stdout lines by a daemon thread."""
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=pump_lines, args=(child.stdout, lines), daemon=True).start()
    return lines


def parse_event(line: str) -> dict[str, Any] | None:
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def relay_events(child: subprocess.Popen, progress: ProgressCallback, cancel: CancelToken | None,
                 cancelled: Callable[[], str]) -> tuple[dict[str, Any] | None, str | None, int]:
    """Relay a child's progress until it ends: (its "done" metadata, its "error" message, exit
    code). On cancel the child is killed and ``Cancelled(cancelled())`` raised."""
    lines = line_queue(child)
    result: dict[str, Any] | None = None
    error: str | None = None
    while True:
        if cancel is not None and cancel.cancelled:
            child.kill()
            child.wait()
            raise Cancelled(cancelled())
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        message = parse_event(line)
        if message is None:
            continue
        if message.get("event") == "progress":
            progress(ProgressEvent(message["stage"], message["message"], message.get("fraction")))
        elif message.get("event") == "error":
            error = message["message"]
        elif message.get("event") == "done":
            result = message["metadata"]
    return result, error, child.wait()
