"""The one way the GUI runs long work: off the UI thread, with progress, cancel and errors.

A task is a plain core function ``fn(report, cancel)`` (the shape of every long core call: a
progress callback and a ``CancelToken``). ``report(payload)`` may be called from the worker thread
with any object (``ProgressEvent``s, anything else a caller agrees on); it reaches the UI thread
through a queued signal. The worker thread only emits signals of a private bridge object; the public
``JobSignals`` live on the UI thread and are re-emitted there, so every slot connected to them —
bound methods and lambdas alike — runs on the UI thread. Widgets are never touched from a worker.

Outcomes, each followed by ``finished``:

- ``succeeded(result)``: the task returned (for a generation stopped by the user the result holds
  the partial candidates, and ``cancelled`` comes first);
- ``cancelled()``: the task raised ``Cancelled`` after ``cancel()``;
- ``failed(message)``: the task raised; the message names the job ("Generation failed: ...").

``JobTracker`` keeps every running job alive, knows whether one of a kind is running, and cancels
and waits for all of them when the window closes.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal

from adcopy_desktop.core.errors import AdCopyError, Cancelled
from adcopy_desktop.core.progress import CancelToken

log = logging.getLogger("adcopy.gui.worker")

Task = Callable[[Callable[[Any], None], CancelToken], Any]

_pool: QThreadPool | None = None


def job_pool() -> QThreadPool:
    """The app's own pool: a long model import must not starve generation or scoring of threads."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(max(4, QThreadPool.globalInstance().maxThreadCount()))
        _pool.setExpiryTimeout(30_000)
    return _pool


class JobSignals(QObject):
    """What a job tells the UI; every emission happens on the UI thread."""

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()


class _Bridge(QObject):
    """Emitted from the worker thread only; connected to ``JobSignals`` with queued connections."""

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()


def failure_message(name: str, error: BaseException) -> str:
    """What the user reads when a job fails: the job's name, then the error."""
    if isinstance(error, AdCopyError):
        return QCoreApplication.translate("BackgroundJob", "{name} failed: {error}").format(name=name, error=error)
    return QCoreApplication.translate("BackgroundJob", "{name} failed unexpectedly: {error}").format(
        name=name, error=f"{type(error).__name__}: {error}")


class _Runnable(QRunnable):
    def __init__(self, job: "BackgroundJob"):
        super().__init__()
        self.job = job

    def run(self) -> None:
        job, bridge = self.job, self.job._bridge
        try:
            result = job.task(bridge.progress.emit, job.cancel_token)
        except Cancelled:
            job._outcome = "cancelled"
            bridge.cancelled.emit()
        except BaseException as exc:  # a bug or a user-facing error: keep the app alive, show it
            # the log line is the message the user reads, whole in the interface language (the
            # job's name is translated already, so "{name} failed" would mix two languages)
            job.error = failure_message(job.name, exc)
            if not isinstance(exc, AdCopyError):
                log.error("%s\n%s", job.error, traceback.format_exc())
            else:
                log.warning("%s", job.error)
            job._outcome = "failed"
            bridge.failed.emit(job.error)
        else:
            job.result = result
            job._outcome = "succeeded"
            if job.cancel_token.cancelled:
                bridge.cancelled.emit()
            bridge.succeeded.emit(result)
        finally:
            job._done.set()
            bridge.finished.emit()


class BackgroundJob:
    """Handle on a task: connect to ``signals``, then ``start()``; ``cancel()`` from the UI."""

    def __init__(self, name: str, task: Task, pool: QThreadPool | None = None, *, kind: str = "work"):
        self.name = name
        self.kind = kind  # "generation", "model", "plugins", "export", ... (one generation at a time)
        self.task = task
        self.signals = JobSignals()
        self.cancel_token = CancelToken()
        self.result: Any = None
        self.error: str | None = None
        self._outcome: str | None = None
        self._done = threading.Event()
        self._started = False
        self._bridge = _Bridge()
        queued = Qt.ConnectionType.QueuedConnection
        for name_ in ("progress", "succeeded", "failed", "cancelled", "finished"):
            getattr(self._bridge, name_).connect(getattr(self.signals, name_), queued)
        self.delivered = False  # True once ``finished`` reached the UI thread
        self.signals.finished.connect(self._mark_delivered)
        self._runnable = _Runnable(self)
        self._runnable.setAutoDelete(False)
        self._pool = pool or job_pool()

    def start(self) -> "BackgroundJob":
        if self._started:
            raise RuntimeError(f"{self.name}: a job runs once")
        self._started = True
        self._pool.start(self._runnable)
        return self

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def _mark_delivered(self) -> None:
        self.delivered = True

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    @property
    def running(self) -> bool:
        return self._started and not self._done.is_set()

    @property
    def outcome(self) -> str | None:
        """None while running, then "succeeded", "cancelled" or "failed" (worker-side view)."""
        return self._outcome

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task returned (its signals may still be queued for the UI thread)."""
        return self._done.wait(timeout)


class JobTracker(QObject):
    """The window's running jobs: kept alive until finished, cancelled together on close."""

    busy_changed = Signal(bool)
    job_started = Signal(object)
    job_finished = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._jobs: list[BackgroundJob] = []

    def start(self, job: BackgroundJob) -> BackgroundJob:
        was_busy = self.busy
        self._jobs.append(job)
        job.signals.finished.connect(lambda job=job: self._finished(job))
        job.start()
        self.job_started.emit(job)
        if not was_busy:
            self.busy_changed.emit(True)
        return job

    def _finished(self, job: BackgroundJob) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        self.job_finished.emit(job)
        if not self._jobs:
            self.busy_changed.emit(False)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def running(self, kind: str | None = None) -> list[BackgroundJob]:
        return [job for job in self._jobs if kind is None or job.kind == kind]

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def wait_all(self, timeout: float = 10.0) -> bool:
        """Cancel nothing; wait until every running task returned (used after cancel_all on close)."""
        ok = True
        for job in list(self._jobs):
            ok = job.wait(timeout) and ok
        return ok
