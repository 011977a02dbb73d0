"""The outbox: every shop export is a job in the library, so nothing is lost or sent twice.

- The job and all its items are written in one transaction *before* any request goes out.
- Before each request its items are marked ``sent`` (attempts + 1) and committed; an item becomes
  ``done`` only when the shop's answer confirmed it, ``failed`` only when the shop refused that item
  for good (its message is kept). Transient problems leave items ``pending``/``sent`` for the next
  try, with the error in ``last_error``.
- A crash or kill at any point leaves the job ``open``; ``run_job`` on it later sends exactly the
  items that are not ``done``/``failed``. Re-sending a ``sent`` item is safe: updates are
  idempotent sets keyed by the shop's product id/handle, and exports never create products.
- Credentials never reach these tables: errors are passed through ``secrets.redact`` first, and the
  job's options hold only the shop URL and non-secret settings.

This module is the only owner of the ``export_jobs`` and ``export_items`` tables (created by a
library migration) and uses the library's connection and lock.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from adcopy_desktop.core.secrets import redact
from adcopy_desktop.core.shops import ItemResult, OutgoingItem, ShopClient, ShopError, TransientShopError

log = logging.getLogger("adcopy.outbox")

ITEM_STATES = ("pending", "sent", "done", "failed", "superseded")
OPEN, FINISHED, CANCELLED = "open", "finished", "cancelled"


class OutboxError(AdCopyError):
    """An export job that does not exist or cannot run as asked."""


@dataclass(frozen=True)
class ExportJob:
    id: int
    target: str
    destination: str
    options: dict[str, Any]
    filters: dict[str, Any]
    status: str
    created_at: float
    updated_at: float
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unfinished(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sent", 0)


@dataclass(frozen=True)
class ExportItem:
    id: int
    job_id: int
    product_id: int | None
    external_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    remote_id: str | None
    confirmed_at: float | None

    def outgoing(self) -> OutgoingItem:
        return OutgoingItem(self.id, self.external_key, dict(self.payload), self.remote_id)


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter between tries; a shop's own wait (Retry-After, throttle
    restore time) is honoured when longer. ``max_attempts`` bounds the tries *per item per run*:
    an item that still failed stays in the open job for the next run."""

    base_s: float = 1.0
    max_s: float = 60.0
    max_attempts: int = 8
    jitter: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        backoff = min(self.max_s, self.base_s * (2 ** max(0, failures - 1)))
        backoff *= 1 + self.jitter * self.rng.random()
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.max_s * 5))
        return backoff


@dataclass
class JobSummary:
    job_id: int
    target: str
    destination: str
    done: int = 0
    failed: int = 0
    unfinished: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (external key, shop's message)
    stopped_by: str | None = None  # why items are left unfinished

    @property
    def finished(self) -> bool:
        return self.unfinished == 0


class Outbox:
    def __init__(self, library: Library):
        self.library = library

    # the library's connection and lock: one writer, one transaction discipline
    def _transaction(self):
        return self.library._transaction()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.library.read(sql, params)

    # -- jobs ------------------------------------------------------------------------------------
    def create_job(
        self,
        target: str,
        destination: str,
        items: Iterable[tuple[int | None, str, dict[str, Any]]],
        *,
        options: dict[str, Any] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> int:
        """Write a job and its items (product id, external key, payload) in one transaction."""
        now = time.time()
        rows = list(items)
        keys = [key for _, key, _ in rows]
        duplicated = {key for key in keys if keys.count(key) > 1}
        if duplicated:
            raise OutboxError(
                f"Several products share the shop id {', '.join(sorted(duplicated))}; give each product its "
                "own external id before exporting.")
        with self._transaction() as db:
            job_id = int(db.execute(
                "INSERT INTO export_jobs (target, destination, options, filters, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'open', ?, ?)",
                (target, destination, json.dumps(options or {}, ensure_ascii=False),
                 json.dumps(filters or {}, ensure_ascii=False), now, now),
            ).lastrowid)
            db.executemany(
                "INSERT INTO export_items (job_id, product_id, external_key, payload, status)"
                " VALUES (?, ?, ?, ?, 'pending')",
                [(job_id, product_id, key, json.dumps(payload, ensure_ascii=False)) for product_id, key, payload in rows],
            )
            # an older open job must never send its (older) copy of these products after this one
            db.executemany(
                "UPDATE export_items SET status = 'superseded', last_error = ? WHERE status IN ('pending', 'sent')"
                " AND external_key = ? AND job_id IN (SELECT id FROM export_jobs WHERE status = 'open'"
                " AND target = ? AND destination = ? AND id != ?)",
                [(f"superseded by export job #{job_id}", key, target, destination, job_id) for key in keys],
            )
            for (old_job,) in db.execute(
                "SELECT id FROM export_jobs j WHERE status = 'open' AND id != ? AND NOT EXISTS (SELECT 1 FROM"
                " export_items i WHERE i.job_id = j.id AND i.status IN ('pending', 'sent'))", (job_id,)
            ).fetchall():
                db.execute("UPDATE export_jobs SET status = 'finished', updated_at = ?, finished_at = ? WHERE id = ?",
                           (now, now, old_job))
        return job_id

    def job(self, job_id: int) -> ExportJob:
        rows = self._query("SELECT * FROM export_jobs WHERE id = ?", (job_id,))
        if not rows:
            raise OutboxError(f"There is no export job #{job_id}; 'adcopy outbox list' shows the jobs.")
        return self._job(rows[0])

    def jobs(self, *, unfinished_only: bool = False, target: str | None = None,
             destination: str | None = None, limit: int = 50) -> list[ExportJob]:
        sql = "SELECT * FROM export_jobs WHERE 1 = 1"
        params: list[Any] = []
        if unfinished_only:
            sql += " AND status = 'open'"
        if target:
            sql += " AND target = ?"
            params.append(target)
        if destination:
            sql += " AND destination = ?"
            params.append(destination)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        jobs = [self._job(row) for row in self._query(sql, params)]
        return sorted(jobs, key=lambda job: job.id) if unfinished_only else jobs

    def unfinished_jobs(self, target: str | None = None, destination: str | None = None) -> list[ExportJob]:
        """Open jobs, oldest first (the order they must be resumed in)."""
        return self.jobs(unfinished_only=True, target=target, destination=destination, limit=10_000)

    def _job(self, row: Any) -> ExportJob:
        counts = {state: 0 for state in ITEM_STATES}
        for status, count in self._query(
            "SELECT status, COUNT(*) FROM export_items WHERE job_id = ? GROUP BY status", (row["id"],)
        ):
            counts[status] = count
        return ExportJob(row["id"], row["target"], row["destination"], json.loads(row["options"]),
                         json.loads(row["filters"]), row["status"], row["created_at"], row["updated_at"], counts)

    def items(self, job_id: int, statuses: Sequence[str] | None = None) -> list[ExportItem]:
        sql = "SELECT * FROM export_items WHERE job_id = ?"
        params: list[Any] = [job_id]
        if statuses:
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            params += list(statuses)
        sql += " ORDER BY id"
        return [ExportItem(row["id"], row["job_id"], row["product_id"], row["external_key"],
                           json.loads(row["payload"]), row["status"], row["attempts"], row["last_error"],
                           row["remote_id"], row["confirmed_at"]) for row in self._query(sql, params)]

    def cancel(self, job_id: int) -> None:
        """Give up a job's unfinished items (they are not sent again); done items stay done."""
        self.job(job_id)
        now = time.time()
        with self._transaction() as db:
            db.execute("UPDATE export_jobs SET status = 'cancelled', updated_at = ?, finished_at = ? WHERE id = ?"
                       " AND status = 'open'", (now, now, job_id))

    # -- item transitions ------------------------------------------------------------------------
    def mark_sent(self, item_ids: Sequence[int]) -> None:
        now = time.time()
        with self._transaction() as db:
            db.executemany(
                "UPDATE export_items SET status = 'sent', attempts = attempts + 1, sent_at = ?"
                " WHERE id = ? AND status IN ('pending', 'sent')", [(now, item_id) for item_id in item_ids])

    def record_results(self, results: Sequence[ItemResult]) -> None:
        now = time.time()
        with self._transaction() as db:
            for result in results:
                message = redact(result.message)[:2000] or None
                if result.status == "done":
                    db.execute("UPDATE export_items SET status = 'done', confirmed_at = ?, last_error = NULL,"
                               " remote_id = COALESCE(?, remote_id) WHERE id = ? AND status != 'done'",
                               (now, result.remote_id, result.item_id))
                elif result.status == "failed":
                    db.execute("UPDATE export_items SET status = 'failed', last_error = ?,"
                               " remote_id = COALESCE(?, remote_id) WHERE id = ? AND status != 'done'",
                               (message, result.remote_id, result.item_id))
                else:
                    db.execute("UPDATE export_items SET status = 'pending', last_error = ?,"
                               " remote_id = COALESCE(?, remote_id) WHERE id = ? AND status != 'done'",
                               (message, result.remote_id, result.item_id))

    def record_error(self, item_ids: Sequence[int], message: str) -> None:
        """A request failed as a whole; its items stay ``sent`` (the shop may have applied them)."""
        with self._transaction() as db:
            db.executemany("UPDATE export_items SET last_error = ? WHERE id = ?",
                           [(redact(message)[:2000], item_id) for item_id in item_ids])

    def finish_if_complete(self, job_id: int) -> bool:
        now = time.time()
        with self._transaction() as db:
            left = db.execute("SELECT COUNT(*) FROM export_items WHERE job_id = ? AND status IN ('pending', 'sent')",
                              (job_id,)).fetchone()[0]
            if left:
                db.execute("UPDATE export_jobs SET updated_at = ? WHERE id = ?", (now, job_id))
                return False
            db.execute("UPDATE export_jobs SET status = 'finished', updated_at = ?, finished_at = ?"
                       " WHERE id = ? AND status = 'open'", (now, now, job_id))
            return True


def run_job(
    library: Library,
    job_id: int,
    client: ShopClient,
    *,
    policy: RetryPolicy | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> JobSummary:
    """Send a job's unfinished items through ``client`` until each is done or failed, or until the
    per-run attempt budget is spent (those items stay for the next run). Safe to call again on the
    same job at any time, after a crash too."""
    policy = policy or RetryPolicy()
    outbox = Outbox(library)
    job = outbox.job(job_id)
    if job.status != OPEN:
        return _summary(outbox, job_id)
    tries: dict[int, int] = {}
    failures_in_row = 0
    batch_size = max(1, int(getattr(client, "batch_size", 1)))
    stopped_by = None
    while True:
        if cancel is not None and cancel.cancelled:
            stopped_by = "cancelled"
            break
        waiting = outbox.items(job_id, ("pending", "sent"))
        sendable = [item for item in waiting if tries.get(item.id, 0) < policy.max_attempts]
        if not sendable:
            if waiting:
                stopped_by = waiting[0].last_error or "too many failed tries"
            break
        batch = sendable[:batch_size]
        for item in batch:
            tries[item.id] = tries.get(item.id, 0) + 1
        outbox.mark_sent([item.id for item in batch])
        try:
            results = client.send([item.outgoing() for item in batch])
        except TransientShopError as error:
            outbox.record_error([item.id for item in batch], str(error))
            failures_in_row += 1
            log.info("export job #%s: %d item(s) not confirmed, trying again: %s", job_id, len(batch), error)
            progress(ProgressEvent("export", redact(f"the shop is busy or unreachable, trying again: {error}"),
                                   _fraction(outbox, job_id)))
            _wait(policy, policy.delay(failures_in_row, error.retry_after), cancel)
            continue
        except ShopError as error:
            outbox.record_error([item.id for item in batch], str(error))
            log.warning("export job #%s stopped: %s", job_id, error)
            raise ShopError(redact(str(error))) from None
        except Exception as error:  # a plugin's client failed (its deadline, its host): the items stay
            outbox.record_error([item.id for item in batch], str(error))
            log.warning("export job #%s stopped: %s", job_id, error)
            raise
        sent_ids = {item.id for item in batch}
        valid = [result for result in results if isinstance(result, ItemResult) and result.item_id in sent_ids]
        answered = {result.item_id for result in valid}
        missing = [ItemResult(item_id, "retry", "the shop's answer did not mention this item")
                   for item_id in sent_ids - answered]
        outbox.record_results(valid + missing)
        if any(result.status == "retry" for result in valid + missing):
            failures_in_row += 1
            _wait(policy, policy.delay(failures_in_row), cancel)
        else:
            failures_in_row = 0
        progress(ProgressEvent("export", f"sent {len(batch)} item(s) to {job.destination}",
                               _fraction(outbox, job_id)))
    outbox.finish_if_complete(job_id)
    summary = _summary(outbox, job_id)
    summary.stopped_by = redact(stopped_by) if stopped_by and not summary.finished else None
    log.info("export job #%s to %s: %d done, %d failed, %d unfinished", job_id, job.destination, summary.done,
             summary.failed, summary.unfinished)
    for key, message in summary.failures:
        log.info("export job #%s: %s failed: %s", job_id, key, message)
    progress(ProgressEvent("done", f"{summary.done} done, {summary.failed} failed, {summary.unfinished} unfinished",
                           1.0))
    return summary


def _wait(policy: RetryPolicy, seconds: float, cancel: CancelToken | None) -> None:
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        if cancel is not None and cancel.cancelled:
            return
        policy.sleep(min(left, 0.25))


def _fraction(outbox: Outbox, job_id: int) -> float:
    job = outbox.job(job_id)
    return (job.total - job.unfinished) / job.total if job.total else 1.0


def _summary(outbox: Outbox, job_id: int) -> JobSummary:
    job = outbox.job(job_id)
    failures = [(item.external_key, item.last_error or "") for item in outbox.items(job_id, ("failed",))]
    return JobSummary(job_id, job.target, job.destination, done=job.counts["done"], failed=job.counts["failed"],
                      unfinished=job.unfinished if job.status == OPEN else 0, failures=failures)

