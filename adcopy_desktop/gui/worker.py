"""The one way the GUI runs long work: off the UI thread, with progress, cancel and errors.

A task is a plain core function ``fn(report, cancel)``; ``report(payload)`` may be called from the
worker thread with any object (progress events, streamed tokens) and reaches the UI thread through a
queued signal. Widgets are only ever touched in the slots connected on the UI thread.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from adcopy_desktop.core.errors import AdCopyError, Cancelled
from adcopy_desktop.core.progress import CancelToken

log = logging.getLogger("adcopy.gui.worker")

Task = Callable[[Callable[[Any], None], CancelToken], Any]


class WorkerSignals(QObject):
    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()


class _Runnable(QRunnable):
    def __init__(self, task: Task, signals: WorkerSignals, cancel: CancelToken, name: str):
        super().__init__()
        self.task, self.signals, self.cancel, self.name = task, signals, cancel, name

    def run(self) -> None:
        try:
            result = self.task(self.signals.progress.emit, self.cancel)
        except Cancelled:
            self.signals.cancelled.emit()
        except AdCopyError as exc:
            self.signals.failed.emit(f"{self.name} failed: {exc}")
        except Exception as exc:  # a bug: keep the app alive, show and log it
            log.error("%s crashed:\n%s", self.name, traceback.format_exc())
            self.signals.failed.emit(f"{self.name} failed unexpectedly: {type(exc).__name__}: {exc}")
        else:
            if self.cancel.cancelled:
                self.signals.cancelled.emit()
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


class BackgroundJob:
    """Handle on a running task: connect to ``signals`` and call ``cancel()`` from the UI."""

    def __init__(self, name: str, task: Task, pool: QThreadPool | None = None):
        self.name = name
        self.signals = WorkerSignals()
        self.cancel_token = CancelToken()
        self._runnable = _Runnable(task, self.signals, self.cancel_token, name)
        self._runnable.setAutoDelete(False)
        self._pool = pool or QThreadPool.globalInstance()

    def start(self) -> "BackgroundJob":
        self._pool.start(self._runnable)
        return self

    def cancel(self) -> None:
        self.cancel_token.cancel()
