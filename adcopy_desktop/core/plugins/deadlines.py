"""Deadlines for plugin code: how long each kind of call may take, and running a call under one.

CPython cannot stop a thread, so an in-process call past its deadline is *abandoned*: it keeps
running on a daemon thread of its own (it cannot block the app's exit) while the caller goes on
without its result. Out-of-process plugins (``remote.py``) are stopped for real: their host is
killed. Either way the manager reports the plugin and disables it for the session.

The defaults below suit each kind of work; ``plugin_deadlines`` in settings.json overrides them
by kind (``{"scorer": 2, "backend": null}``; null or 0 means no deadline).
"""

from __future__ import annotations

import math
import queue
import threading
from typing import Any, Callable, Mapping

# kind -> seconds. Generous for work that is long by nature (a catalog import, generation on a
# CPU), short for work that runs per candidate.
DEFAULT_DEADLINES: dict[str, float | None] = {
    "load": 30.0,  # import a plugin and run its register_* hooks
    "hook": 5.0,  # adjust_prompt, process_candidate
    "event": 5.0,  # candidate_accepted / rejected / edited, export_finished
    "scorer": 10.0,  # one scorer on one candidate
    "importer": 600.0,  # reading a whole catalog
    "exporter": 300.0,  # writing an export file
    "shop": 120.0,  # a shop target's connect, and each send of a batch
    "backend_load": 300.0,  # loading a generation backend (a model)
    "backend": 1800.0,  # one generate() call (all candidates of a request)
}
DEADLINE_KINDS = tuple(DEFAULT_DEADLINES)


class DeadlineExceeded(Exception):
    """A plugin call did not return within its deadline (it was abandoned or its host stopped)."""

    def __init__(self, seconds: float, kind: str):
        super().__init__(
            f"did not answer within {seconds:g} s (the deadline for {kind} calls; change it with "
            f"plugin_deadlines.{kind} in settings.json)"
        )
        self.seconds = seconds
        self.kind = kind


def resolve_deadlines(overrides: Mapping[str, Any] | None) -> dict[str, float | None]:
    """The defaults with the user's valid overrides; invalid ones are left out (settings warns)."""
    deadlines = dict(DEFAULT_DEADLINES)
    for kind, value in (overrides or {}).items():
        problem = deadline_problem(kind, value)
        if problem is None:
            deadlines[kind] = None if value in (None, 0) else float(value)
    return deadlines


def deadline_problem(kind: Any, value: Any) -> str | None:
    """Why ``kind: value`` is not a valid deadline setting, or None."""
    if kind not in DEFAULT_DEADLINES:
        return f"unknown kind {kind!r} (kinds: {', '.join(DEADLINE_KINDS)})"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return f"{kind} must be a number of seconds (0 or null: no deadline), not {value!r}"
    return None


# -- running in-process calls under a deadline ----------------------------------------------------


class _Worker(threading.Thread):
    """A daemon thread that runs one call at a time; idle workers are reused."""

    def __init__(self, pool: "_Pool"):
        super().__init__(name="adcopy-plugin-call", daemon=True)
        self.pool = pool
        self.jobs: "queue.SimpleQueue[tuple[Callable[[], Any], queue.SimpleQueue] | None]" = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            fn, answer = job
            try:
                answer.put((True, fn()))
            except BaseException as error:  # noqa: BLE001 - handed to the caller as it is
                answer.put((False, error))
            if not self.pool.give_back(self):
                return  # abandoned while it ran: the pool no longer counts on this thread


class _Pool:
    MAX_IDLE = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._abandoned: set[_Worker] = set()

    def take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        worker = _Worker(self)
        worker.start()
        return worker

    def give_back(self, worker: _Worker) -> bool:
        with self._lock:
            if worker in self._abandoned:
                self._abandoned.discard(worker)
                return False
            if len(self._idle) >= self.MAX_IDLE:
                return False
            self._idle.append(worker)
            return True

    def abandon(self, worker: _Worker) -> None:
        with self._lock:
            self._abandoned.add(worker)


_pool = _Pool()


def call_with_deadline(fn: Callable[..., Any], args: tuple = (), kwargs: Mapping[str, Any] | None = None,
                       *, seconds: float | None, kind: str) -> Any:
    """``fn(*args, **kwargs)``, or DeadlineExceeded after ``seconds`` (None: wait for ever, in the
    calling thread). The plugin's own exceptions are raised as they are."""
    kwargs = kwargs or {}
    if not seconds:
        return fn(*args, **kwargs)
    answer: "queue.SimpleQueue[tuple[bool, Any]]" = queue.SimpleQueue()
    worker = _pool.take()
    worker.jobs.put((lambda: fn(*args, **kwargs), answer))
    try:
        ok, value = answer.get(timeout=seconds)
    except queue.Empty:
        _pool.abandon(worker)
        raise DeadlineExceeded(seconds, kind) from None
    if ok:
        return value
    raise value
