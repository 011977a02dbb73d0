"""Streaming tokens into cards without drowning the UI thread in signals.

The worker thread calls ``push(index, text)`` for every token; that only appends to a buffer under
a lock. A timer on the UI thread drains the buffer every ``FLUSH_MS`` and hands each card the text
that arrived since the last flush in one piece — at most ~33 updates a second per card however fast
the model runs.
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, QTimer

FLUSH_MS = 30


class TokenStream(QObject):
    def __init__(self, deliver: Callable[[int, str], None], interval_ms: int = FLUSH_MS, parent=None):
        super().__init__(parent)
        self._deliver = deliver  # (slot, text) on the UI thread
        self._lock = threading.Lock()
        self._pending: dict[int, list[str]] = {}
        self._slots: dict[int, int] = {}
        self._open = False
        self.flushes = 0
        self.tokens = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    def begin(self, slots: dict[int, int]) -> None:
        """Start a stream; ``slots`` maps a candidate's index in the request to its card."""
        with self._lock:
            self._pending.clear()
            self._slots = dict(slots)
            self._open = True
        self._timer.start()

    def push(self, index: int, text: str) -> None:
        """Any thread: queue streamed text for candidate ``index``."""
        with self._lock:
            if not self._open:
                return
            self._pending.setdefault(index, []).append(text)
            self.tokens += 1

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            slots = self._slots
        for index, parts in pending.items():
            slot = slots.get(index)
            if slot is not None and parts:
                self._deliver(slot, "".join(parts))
        if pending:
            self.flushes += 1

    def end(self) -> None:
        """Stop the timer and drop what is still queued (the final text replaces it)."""
        self._timer.stop()
        with self._lock:
            self._open = False
            self._pending.clear()

    @property
    def active(self) -> bool:
        return self._open
