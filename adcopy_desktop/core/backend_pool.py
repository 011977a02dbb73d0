"""Several generation backends used as one: each call goes to the least-busy healthy member, and
a call whose member could not be reached or dropped the connection is run again on another.

The pool knows nothing about HTTP: a member signals "try elsewhere" by raising
``BackendUnavailableError`` (the openai-compatible backend does for refused connections, dropped
streams and servers that stay busy or broken after their retries). Any other error (a refused key,
a bad request) is the caller's to see and is not retried elsewhere, since every member would refuse
it the same way.

Health: a member that failed is left out for ``cooldown_s`` (doubling with each failure in a row,
up to ``max_cooldown_s``), then tried again; one success makes it healthy. A call that every member
failed ``attempts_per_member`` times raises ``BackendUnavailableError`` naming each member's error,
so a bulk job marks that item failed and its resume tries it again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from adcopy_desktop.core.errors import AdCopyError

log = logging.getLogger("adcopy.pool")


class BackendUnavailableError(AdCopyError):
    """A backend's server could not be reached, dropped the request or stayed busy; another server
    may take the same request."""


@dataclass
class PoolMember:
    name: str
    backend: Any  # a GenerationBackend
    capacity: int = 1  # requests it takes at once
    in_flight: int = 0
    served: int = 0
    failures_in_row: int = 0
    down_until: float = 0.0
    last_error: str = ""

    def load(self) -> float:
        return self.in_flight / self.capacity


@dataclass
class PoolStats:
    """What the pool did, per member: calls served, failures, whether it is up now."""

    served: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    failovers: int = 0


class BackendPool:
    """A GenerationBackend over ``members``."""

    def __init__(self, members: Sequence[PoolMember], *, cooldown_s: float = 2.0, max_cooldown_s: float = 30.0,
                 attempts_per_member: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        if not members:
            raise AdCopyError("A pool needs at least one backend.")
        self.members = list(members)
        self.cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self.attempts_per_member = attempts_per_member
        self._clock = clock
        self._lock = threading.Condition()
        self.stats = PoolStats(served={m.name: 0 for m in self.members}, failures={m.name: 0 for m in self.members})
        self.provider = f"pool of {len(self.members)}: " + ", ".join(m.name for m in self.members)
        specials: list[str] = []
        for member in self.members:
            specials.extend(token for token in member.backend.special_tokens if token not in specials)
        self.special_tokens = tuple(specials)

    @property
    def capacity(self) -> int:
        return sum(member.capacity for member in self.members)

    def _acquire(self, tried: dict[str, int]) -> PoolMember | None:
        """The healthy member with the lowest load (in flight / capacity) that has attempts left;
        a member cooling down only when no healthy one is left; None when every member is spent."""
        with self._lock:
            now = self._clock()
            usable = [m for m in self.members if tried.get(m.name, 0) < self.attempts_per_member]
            if not usable:
                return None
            healthy = [m for m in usable if m.down_until <= now]
            if healthy:
                chosen = min(healthy, key=lambda m: (m.load(), m.in_flight, m.served))
            else:
                chosen = min(usable, key=lambda m: m.down_until)
                wait = chosen.down_until - now
                if wait > 0:
                    log.info("every server of the pool is down; trying %s again in %.1f s", chosen.name, wait)
                    self._lock.wait(wait)
            chosen.in_flight += 1
            return chosen

    def _release(self, member: PoolMember, error: str | None) -> None:
        with self._lock:
            member.in_flight -= 1
            if error is None:
                member.served += 1
                member.failures_in_row = 0
                member.down_until = 0.0
                self.stats.served[member.name] += 1
            else:
                member.failures_in_row += 1
                member.last_error = error
                pause = min(self.cooldown_s * 2 ** (member.failures_in_row - 1), self.max_cooldown_s)
                member.down_until = self._clock() + pause
                self.stats.failures[member.name] += 1
            self._lock.notify_all()

    def generate(self, messages, settings, *, cancel=None, on_token=None):
        tried: dict[str, int] = {}
        errors: list[str] = []
        while True:
            if cancel is not None and cancel.cancelled:
                from adcopy_desktop.core.errors import GenerationCancelled

                raise GenerationCancelled("Generation was stopped.")
            member = self._acquire(tried)
            if member is None:
                raise BackendUnavailableError(
                    "Every server of the pool failed this request: " + "; ".join(errors) +
                    ". Check them with 'adcopy backends test NAME'; a bulk job tries the item again on resume.")
            tried[member.name] = tried.get(member.name, 0) + 1
            try:
                completions = member.backend.generate(messages, settings, cancel=cancel, on_token=on_token)
            except BackendUnavailableError as error:
                self._release(member, str(error))
                errors.append(f"{member.name}: {error}")
                with self._lock:
                    self.stats.failovers += 1
                log.warning("pool: %s failed (%s); sending the request to another server", member.name, error)
                continue
            except BaseException:
                self._release(member, None)  # the request's own fault (or a stop), not the server's
                raise
            self._release(member, None)
            return completions

    def close(self) -> None:
        for member in self.members:
            close = getattr(member.backend, "close", None)
            if callable(close):
                close()
