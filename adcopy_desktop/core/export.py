"""Export accepted copy: to a file through a file exporter, or to a shop through the outbox.

The CLI (``adcopy export``) and the GUI's export dialog both call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.outbox import JobSummary, Outbox, RetryPolicy, run_job
from adcopy_desktop.core.plugins import PluginManager
from adcopy_desktop.core.product_copy import ExportFilters, accepted_candidates, product_copies
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from adcopy_desktop.core.secrets import load_credentials, redact
from adcopy_desktop.core.settings import Settings, load_settings, save_settings
from adcopy_desktop.core.shops.http import normalise_shop_url


class ExportError(AdCopyError):
    """An export that cannot start as asked (nothing to export, no file, no shop)."""


@dataclass
class FileExportResult:
    path: Path
    products: int
    candidates: int


@dataclass
class ShopExportResult:
    jobs: list[JobSummary] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # products without a shop id

    @property
    def done(self) -> int:
        return sum(job.done for job in self.jobs)

    @property
    def failed(self) -> int:
        return sum(job.failed for job in self.jobs)

    @property
    def unfinished(self) -> int:
        return sum(job.unfinished for job in self.jobs)


def export_file(
    library: Library,
    plugins: PluginManager,
    target: str,
    path: Path,
    filters: ExportFilters = ExportFilters(),
    options: Mapping[str, Any] | None = None,
) -> FileExportResult:
    exporter = plugins.exporters().get(target)
    if exporter is None:
        plugins.shop_options(target, None)  # raises: unknown exporter, with the list
    if exporter.is_shop:
        raise ExportError(f"'{target}' sends to a shop; it writes no file (drop --out).")
    if exporter.products:
        copies = product_copies(library, filters)
        if not copies:
            raise ExportError(_nothing_message(filters))
        plugins.export_products(copies, path, exporter=target, options=options)
        return FileExportResult(Path(path), len(copies), sum(len(c.candidates) for c in copies))
    candidates = accepted_candidates(library, filters)
    if not candidates:
        raise ExportError(_nothing_message(filters))
    plugins.export(candidates, path, exporter=target, options=options)
    return FileExportResult(Path(path), len({c.product_id for c in candidates}), len(candidates))


def retry_policy(settings: Settings | None = None) -> RetryPolicy:
    settings = settings or load_settings()
    return RetryPolicy(base_s=settings.export_retry_base_s, max_s=settings.export_retry_max_s,
                       max_attempts=settings.export_max_attempts)


def shop_settings(plugins: PluginManager, target: str, options: Mapping[str, Any] | None,
                  settings: Settings | None = None) -> dict[str, Any]:
    """The target's options with ``shop_url`` normalised; a missing URL is taken from the one shop of
    this kind connected with ``adcopy shops add``."""
    given = dict(options or {})
    exporter = plugins.exporters().get(target)
    if exporter is None or not exporter.is_shop:
        plugins.shop_options(target, None)  # unknown: raises with the list
        raise ExportError(f"'{target}' writes a file, not to a shop; give --out FILE.")
    if not given.get("shop_url"):
        known = [shop for shop in (settings or load_settings()).shops if shop.get("target") == target]
        if len(known) != 1:
            hint = ", ".join(shop.get("shop_url", "") for shop in known) or "none connected"
            raise ExportError(f"Which {target} shop? Give --shop URL ({hint}); connect one with "
                              f"'adcopy shops add {target} --shop-url URL'.")
        given = {**{k: v for k, v in known[0].items() if k not in ("target",)}, **given}
    resolved = plugins.shop_options(target, given)
    resolved["shop_url"] = normalise_shop_url(resolved["shop_url"], what=exporter.label or target)
    return resolved


def connect(plugins: PluginManager, target: str, options: Mapping[str, Any]):
    exporter = plugins.exporters()[target]
    credentials = load_credentials(target, options["shop_url"], tuple(exporter.credentials))
    return plugins.connect_shop(target, options, credentials)


def export_to_shop(
    library: Library,
    plugins: PluginManager,
    target: str,
    filters: ExportFilters = ExportFilters(),
    options: Mapping[str, Any] | None = None,
    *,
    policy: RetryPolicy | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    client: Any = None,
) -> ShopExportResult:
    """Write a job for the accepted copy (superseding older unfinished items of the same products),
    finish older open jobs for this shop, then send the new one."""
    options = shop_settings(plugins, target, options)
    destination = options["shop_url"]
    client = client or connect(plugins, target, options)  # credentials checked before anything is written
    copies = product_copies(library, filters)
    items, skipped = [], []
    for copy in copies:
        fields = copy.shop_fields()
        if not copy.external_id:
            skipped.append(f"#{copy.product_id} {copy.name}".strip())
        elif fields:
            items.append((copy.product_id, copy.external_id, fields))
    if not items and not Outbox(library).unfinished_jobs(target, destination):
        raise ExportError(_nothing_message(filters) if not skipped else
                          f"None of the {len(skipped)} product(s) with accepted copy has a shop id; import the "
                          "catalog from the shop first so AdCopy knows which shop product each one is.")
    new_job = Outbox(library).create_job(target, destination, items, options=options,
                                         filters=filters.to_dict()) if items else None
    result = resume(library, plugins, target, destination, policy=policy, progress=progress, cancel=cancel,
                    client=client, exclude=new_job)
    if new_job is not None:
        progress(ProgressEvent("export", f"sending {len(items)} product(s) to {destination}", 0.0))
        result.jobs.append(run_job(library, new_job, client, policy=policy, progress=progress, cancel=cancel))
    result.skipped = skipped
    return result


def resume(
    library: Library,
    plugins: PluginManager,
    target: str | None = None,
    destination: str | None = None,
    *,
    policy: RetryPolicy | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    client: Any = None,
    exclude: int | None = None,
) -> ShopExportResult:
    """Send the unfinished items of open jobs (oldest first), each with its own target's client."""
    result = ShopExportResult()
    clients: dict[tuple[str, str], Any] = {}
    for job in Outbox(library).unfinished_jobs(target, destination):
        if job.id == exclude:
            continue
        key = (job.target, job.destination)
        if key not in clients:
            if client is not None and target == job.target and destination == job.destination:
                clients[key] = client
            else:
                options = {**job.options, "shop_url": job.destination}
                clients[key] = connect(plugins, job.target, plugins.shop_options(job.target, options))
        progress(ProgressEvent("export", f"resuming export job #{job.id} ({job.unfinished} unfinished)", None))
        result.jobs.append(run_job(library, job.id, clients[key], policy=policy, progress=progress, cancel=cancel))
    return result


def remember_shop(target: str, options: Mapping[str, Any]) -> None:
    """Add (or update) a connected shop in settings: target, URL and non-secret options only."""
    settings = load_settings()
    entry = {"target": target, **{k: v for k, v in options.items() if k in ("shop_url", "api_version")}}
    settings.shops = [s for s in settings.shops
                      if not (s.get("target") == target and s.get("shop_url") == entry.get("shop_url"))]
    settings.shops.append(entry)
    save_settings(settings)


def forget_shop(target: str, shop_url: str) -> bool:
    settings = load_settings()
    kept = [s for s in settings.shops if not (s.get("target") == target and s.get("shop_url") == shop_url)]
    changed = len(kept) != len(settings.shops)
    settings.shops = kept
    save_settings(settings)
    return changed


def describe_failures(result: ShopExportResult, limit: int = 20) -> list[str]:
    lines = []
    for job in result.jobs:
        for key, message in job.failures[:limit]:
            lines.append(redact(f"{key}: {message}"))
    return lines


def _nothing_message(filters: ExportFilters) -> str:
    chosen = {k: v for k, v in filters.to_dict().items() if v}
    where = f" matching {chosen}" if chosen else ""
    return f"There is no accepted copy{where} to export. Accept candidates in the library first."
