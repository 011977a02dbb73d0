"""Bulk generation: every product of a catalog (or a selection) times every kind, with n candidates
each, stored in the library as it goes.

A job lives in the library (``batch_jobs``/``batch_items``): each (product, kind) item is marked
done in the same transaction that records its candidates, so a stopped or killed run loses at most
the item in flight. Running the same catalog with the same options again, or resuming the job by
id, continues with the items still pending (failed ones are tried again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.errors import AdCopyError, Cancelled
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, format_duration, ignore_progress
from adcopy_desktop.core.prompts import CopyRequest, parse_copy_kind

log = logging.getLogger("adcopy.batch")


class BatchError(AdCopyError):
    """Bulk-generation options or jobs that cannot be used."""


@dataclass(frozen=True)
class BatchOptions:
    """What every item of a job is generated with; part of the job's identity."""

    kinds: tuple[str, ...] = ("title", "description")
    n: int = 3
    style: str | None = None
    language: str | None = None
    length: str | int | None = None
    tone: str | None = None
    temperature: float = 0.8
    top_p: float = 0.95
    seed: int | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        if not self.kinds:
            raise BatchError("Choose at least one kind of copy (title, description, ...).")
        try:
            kinds = tuple(dict.fromkeys(parse_copy_kind(k).value for k in self.kinds))
        except ValueError as error:
            raise BatchError(str(error)) from None
        object.__setattr__(self, "kinds", kinds)
        if not 1 <= int(self.n) <= 16:
            raise BatchError(f"-n must be between 1 and 16 candidates (got {self.n}).")

    def settings(self) -> GenerationSettings:
        return GenerationSettings(n=self.n, temperature=self.temperature, top_p=self.top_p, seed=self.seed)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BatchOptions":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["kinds"] = tuple(known.get("kinds") or ())
        return cls(**known)


@dataclass
class BatchStatus:
    """Where a run stands; ``eta_s`` is None until an item of this run finished."""

    job_id: int
    total: int
    done: int
    failed: int
    elapsed_s: float = 0.0
    done_this_run: int = 0
    eta_s: float | None = None
    stopped: bool = False
    errors: list[str] = field(default_factory=list)
    kinds: int = 1

    @property
    def pending(self) -> int:
        return self.total - self.done - self.failed

    @property
    def products_per_minute(self) -> float:
        if self.elapsed_s <= 0 or not self.done_this_run:
            return 0.0
        return self.done_this_run / self.kinds / (self.elapsed_s / 60)

    def message(self) -> str:
        text = f"{self.done:,}/{self.total:,} done"
        if self.failed:
            text += f", {self.failed:,} failed"
        if self.eta_s is not None and self.pending:
            text += f", about {format_duration(self.eta_s)} left"
        if self.products_per_minute:
            text += f" ({self.products_per_minute:.1f} products/min)"
        return text


def job_key(options: BatchOptions, *, catalog: str = "", product_ids: Sequence[int] = ()) -> str:
    """Same catalog (or the same product selection) and options: the same job."""
    basis = {"catalog": catalog, "products": [] if catalog else sorted(product_ids), "options": options.to_dict()}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def active_products(library: Library, product_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(active, skipped): products the shop has as drafts, archived or unpublished (Shopify Status
    and Published columns) are skipped by bulk generation unless it is asked to include them."""
    inactive = library.inactive_product_ids()
    ids = list(dict.fromkeys(product_ids))
    return [i for i in ids if i not in inactive], [i for i in ids if i in inactive]


def plan_batch(
    library: Library, product_ids: Iterable[int], options: BatchOptions, *, catalog: str = "", fresh: bool = False,
    include_drafts: bool = True,
) -> tuple[int, bool]:
    """The job for these products and options: the latest one with the same key (continued: what
    it did is skipped, products new to the catalog join it), or with ``fresh`` (or none yet) a new
    one. Returns (job id, continued). With ``include_drafts=False`` (``adcopy batch`` without
    ``--include-drafts``) draft, archived and unpublished products are left out (``active_products``)."""
    ids = list(dict.fromkeys(product_ids))
    if not include_drafts:
        ids, skipped = active_products(library, ids)
        if not ids and skipped:
            raise BatchError(f"All {len(skipped):,} products are drafts, archived or unpublished in the shop; "
                             "generate for them on purpose with --include-drafts (in the app: "
                             "'Include drafts, archived and unpublished products').")
    if not ids:
        raise BatchError("There are no products to generate for: import a catalog or add products first.")
    key = job_key(options, catalog=catalog, product_ids=ids)
    existing = None if fresh else library.latest_batch_job(key)
    items = [(product_id, kind) for product_id in ids for kind in options.kinds]  # product by product
    if existing is not None:
        library.add_batch_items(existing, items)
        return existing, True
    return library.create_batch_job(key, catalog, options.to_dict(), items), False


# Items written at once on this computer when its model batches them (continuous batching,
# core/runtime/batching.py). Measured on 2 cores (docs/benchmarks.md), 8 products x 2 kinds x 3
# candidates: 1 item 6.1-6.7 products/min, 2: 7.6-8.8, 4: 9.2-9.9, 6: 11.0, 8: 10.8.
LOCAL_ITEMS_AT_ONCE = 6
# Rows of the batch at most (candidates of all items together): the KV cache of a row of the 0.5B
# default is ~15 MB for a description, so 16 candidates x 6 items would hold 1.4 GB.
LOCAL_MAX_ROWS = 24


def batch_workers(generator: CopyGenerator, candidates: int, wanted: int | None = None) -> tuple[int, str | None]:
    """Items to generate at once, and a note to show when asking for more was not possible.

    A server or pool: what it takes at once (or ``wanted``). This computer: LOCAL_ITEMS_AT_ONCE
    (or ``wanted``) when the loaded model can share decode steps between requests, whose
    candidates then step as one batch; otherwise one item at a time, since the model serves one
    request at a time."""
    if not generator.uses_model_store:
        return (wanted or int(getattr(generator.backend, "capacity", 1) or 1)), None
    workers = wanted or LOCAL_ITEMS_AT_ONCE
    if workers <= 1:
        return 1, None
    model = getattr(generator.backend, "model", None)
    enable = getattr(model, "enable_batching", None)
    if enable is not None and enable(rows=max(candidates, min(workers * candidates, LOCAL_MAX_ROWS))):
        return workers, None  # items beyond the rows wait inside the batcher for a candidate to finish
    note = (f"The model {generator.model_id} cannot batch requests (it has no fused graph on this processor; "
            "rebuild it with adcopy models build): writing one item at a time.")
    return 1, note if wanted and wanted > 1 else None


def run_batch(
    library: Library,
    generator: CopyGenerator,
    job_id: int,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    on_status=None,
    workers: int = 1,
) -> BatchStatus:
    """Generate every pending item of the job. Stopping (``cancel``) returns with
    ``stopped=True`` after the items in flight; their partial candidates are not kept.

    ``workers``: items generated at once (a pool of servers: the sum of what its servers take);
    generation runs on worker threads, while every item is recorded here on the calling thread,
    each exactly once, in the transaction that marks it done."""
    cancel = cancel or CancelToken()
    job = library.batch_job(job_id)
    options = BatchOptions.from_dict(job.options)
    library.retry_failed_batch_items(job_id)
    pending = library.batch_items(job_id, status="pending")
    job = library.batch_job(job_id)
    status = BatchStatus(job_id, job.total, job.counts["done"], 0, kinds=len(options.kinds))
    style = generator.resolve_style(options.style) if options.style else None
    settings = options.settings()
    library.set_batch_status(job_id, "open")
    started = time.perf_counter()

    def report() -> None:
        status.elapsed_s = time.perf_counter() - started
        if status.done_this_run:
            per_item = status.elapsed_s / status.done_this_run
            status.eta_s = per_item * status.pending
        progress(ProgressEvent("batch", status.message(),
                               (status.done + status.failed) / status.total if status.total else 1.0))
        if on_status is not None:
            on_status(status)

    def fail(item, error: Exception) -> None:
        message = f"product #{item.product_id} {item.kind}: {error}"
        log.warning("bulk generation: %s", message)
        library.fail_batch_item(job_id, item.product_id, item.kind, str(error))
        status.failed += 1
        status.errors.append(message)
        report()

    def prepare(item) -> CopyRequest:
        product = library.get_product(item.product_id).product
        return CopyRequest(product, parse_copy_kind(item.kind), language=options.language,
                           length=options.length, tone=options.tone)

    def attempt(item, request):
        """(item, candidates or None, error or None, seconds); runs on a worker thread when workers > 1."""
        item_started = time.perf_counter()
        try:
            candidates = generator.generate(request, settings, cancel=cancel, max_new_tokens_from_request=True,
                                            style=style)
        except (AdCopyError, ValueError) as error:  # Cancelled included: settle() tells them apart
            return item, None, error, 0.0
        return item, candidates, None, time.perf_counter() - item_started

    def settle(outcome) -> None:
        item, candidates, error, seconds = outcome
        if isinstance(error, Cancelled):
            status.stopped = True
            return
        if error is not None:
            fail(item, error)
            return
        if cancel.cancelled and any(c.finish_reason == "cancelled" for c in candidates):
            status.stopped = True  # cut short: generated again on resume
            return
        library.record_generation(item.product_id, candidates, length=options.length, tone=options.tone,
                                  batch_item=(job_id, item.kind, seconds))
        status.done += 1
        status.done_this_run += 1
        report()

    report()
    try:
        if workers <= 1:
            for item in pending:
                if cancel.cancelled or status.stopped:
                    status.stopped = True
                    break
                try:
                    request = prepare(item)
                except (AdCopyError, ValueError) as error:
                    fail(item, error)
                    continue
                settle(attempt(item, request))
        else:
            _run_parallel(pending, workers, prepare, attempt, settle, fail, cancel, status)
    finally:
        finished = not library.batch_items(job_id, status="pending")
        if status.failed and not status.stopped:
            finished = False  # failed items are tried again by a resume
        library.set_batch_status(job_id, "finished" if finished else "stopped")
        status.elapsed_s = time.perf_counter() - started
    status.stopped = status.stopped or bool(status.pending)
    progress(ProgressEvent("done", status.message(), 1.0 if not status.pending else None))
    return status


def _run_parallel(pending, workers: int, prepare, attempt, settle, fail, cancel: CancelToken,
                  status: BatchStatus) -> None:
    """Keep ``workers`` items generating; settle each on this thread as it finishes. A stop lets
    the items in flight finish (complete ones are kept) and submits no more."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    queue = iter(pending)
    in_flight: set = set()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="adcopy-batch") as pool:
        try:
            while True:
                while len(in_flight) < workers and not (cancel.cancelled or status.stopped):
                    item = next(queue, None)
                    if item is None:
                        break
                    try:
                        request = prepare(item)
                    except (AdCopyError, ValueError) as error:
                        fail(item, error)
                        continue
                    in_flight.add(pool.submit(attempt, item, request))
                if not in_flight:
                    break
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    settle(future.result())
        except BaseException:
            cancel.cancel()  # Ctrl+C or a library error: the workers stop at their next token
            raise
        if cancel.cancelled:
            status.stopped = True


@dataclass
class AcceptTopResult:
    """What ``accept_top`` did: candidate ids accepted, items left alone and why."""

    accepted: list[int] = field(default_factory=list)
    reviewed: int = 0  # items whose candidates a person had decided on or edited already
    decided: int = 0  # items with an automatic decision from an earlier run
    sunk: list[str] = field(default_factory=list)  # items whose every candidate broke a hard rule


def accept_top(library: Library, job_id: int, *, style=None, weights=None) -> AcceptTopResult:
    """Accept the top-ranked candidate of every done item of the job, recorded as an automatic
    decision (``decided_by='auto'``). Items a person has decided on or edited are left alone, and
    so are items whose best candidate still breaks a hard rule (a sunk ranking: nothing to accept).
    Ranks by the scores stored at generation, with the job's style weights (``core/scoring.rank``)."""
    from adcopy_desktop.core import scoring

    result = AcceptTopResult()
    for item in library.batch_items(job_id, status="done"):
        stored = [c for c in library.candidates(product_id=item.product_id, kind=item.kind)
                  if c.generation_id == item.generation_id]
        if not stored:
            continue
        if any(c.edited or (c.decision is not None and c.decided_by != "auto") for c in stored):
            result.reviewed += 1
            continue
        if any(c.decision is not None for c in stored):
            result.decided += 1
            continue
        pairs = [(row, row.to_candidate()) for row in stored if row.text.strip()]
        if not pairs:
            result.sunk.append(f"product #{item.product_id} {item.kind}: every candidate is empty")
            continue
        ranked = scoring.rank([candidate for _, candidate in pairs], style=style, weights=weights)
        best = ranked[0]
        row = next(r for r, candidate in pairs if candidate is best)
        ranking = best.ranking or {}
        if ranking.get("sunk"):
            reasons = "; ".join(ranking.get("reasons", [])[:2])
            result.sunk.append(f"product #{item.product_id} {item.kind}: even the best candidate #{row.id} "
                               f"fails ({reasons})")
            continue
        library.decide(row.id, "accepted", source="auto",
                       reason=f"top-ranked of {len(stored)} (score {ranking.get('total', 0):.2f})")
        result.accepted.append(row.id)
    return result
