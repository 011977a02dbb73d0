"""Measuring how responsive the UI thread stays: a fast timer and the longest gap between its ticks.

While it runs, a ``StallMeter`` ticks every ``interval_ms`` on the UI thread; any time the event
loop is busy (a slot that takes long, a worker holding the GIL, a flood of signals) shows up as a
gap longer than the interval. ``longest_stall_ms`` is the longest gap minus the interval — the
longest time the window could not react. Used by tests/gui/test_responsiveness.py and
benchmarks/gui_responsiveness.py.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer


@dataclass(frozen=True)
class StallReport:
    ticks: int
    interval_ms: float
    longest_gap_ms: float
    longest_stall_ms: float
    p99_gap_ms: float
    median_gap_ms: float
    seconds: float

    def describe(self) -> str:
        return (f"longest event-loop stall {self.longest_stall_ms:.1f} ms (longest gap {self.longest_gap_ms:.1f} ms "
                f"for a {self.interval_ms:.0f} ms timer; p99 gap {self.p99_gap_ms:.1f} ms, median "
                f"{self.median_gap_ms:.1f} ms; {self.ticks} ticks in {self.seconds:.1f} s)")


class StallMeter(QObject):
    def __init__(self, interval_ms: int = 5, parent: QObject | None = None):
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._gaps: list[float] = []
        self._last: float | None = None
        self._started = 0.0
        self._stopped = 0.0

    def start(self) -> None:
        self._gaps = []
        self._last = None
        self._started = time.perf_counter()
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self._gaps.append((now - self._last) * 1000)
        self._last = now

    def stop(self) -> StallReport:
        self._timer.stop()
        self._stopped = time.perf_counter()
        return self.report()

    def report(self) -> StallReport:
        gaps = sorted(self._gaps) or [0.0]
        longest = gaps[-1]
        p99 = gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]
        return StallReport(
            ticks=len(self._gaps),
            interval_ms=self.interval_ms,
            longest_gap_ms=longest,
            longest_stall_ms=max(0.0, longest - self.interval_ms),
            p99_gap_ms=p99,
            median_gap_ms=statistics.median(gaps),
            seconds=(self._stopped or time.perf_counter()) - self._started,
        )
