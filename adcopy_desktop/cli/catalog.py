"""``adcopy import``, ``adcopy products list`` and ``adcopy batch``: catalogs in, copy for all of them."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from adcopy_desktop.cli.common import PROVIDER_CHOICES, ProgressPrinter, fail
from adcopy_desktop.core.progress import CancelToken

IMPORT_FORMATS = ("shopify", "woocommerce", "csv", "xlsx", "jsonl")
MAPPING_FIELDS = ("name", "id", "description", "attributes")
MAX_PROBLEMS_SHOWN = 50


def _apply_overrides(mapping, overrides: tuple[str, ...], header: list[str]):
    from adcopy_desktop.core.catalog import ColumnMapping

    data = mapping.to_dict() if mapping is not None else ColumnMapping().to_dict()
    for override in overrides:
        field, sep, column = override.partition("=")
        field = field.strip().lower()
        if not sep or field not in MAPPING_FIELDS:
            fail(f"--map takes FIELD=COLUMN with FIELD one of {', '.join(MAPPING_FIELDS)} (got '{override}'); "
                 "attributes take several columns separated by '+'.")
        if field == "attributes":
            data["attributes"] = [c.strip() for c in column.split("+") if c.strip()]
        else:
            data[field] = column.strip() or None
    mapping = ColumnMapping.from_dict(data)
    mapping.check(header)
    return mapping


def _describe_mapping(mapping) -> str:
    return "\n".join([
        f"  name:        {mapping.name or '-'}",
        f"  id:          {mapping.id or '-'}",
        f"  description: {mapping.description or '-'}",
        f"  attributes:  {', '.join(mapping.attributes) or '-'}",
    ])


def _confirm(question: str, *, interactive: bool) -> bool | None:
    """The user's answer; None when there is no terminal and nothing on standard input to answer
    with (instead of click's bare 'Aborted!')."""
    if not interactive:
        return False
    try:
        return click.confirm(question, default=True, err=True)
    except click.Abort:
        if sys.stdin.isatty():
            raise  # Ctrl+C / Ctrl+D at a terminal: aborted, as before
        click.echo("", err=True)
        return None


def _importer_choice(fmt: str | None, path: Path, plugins) -> tuple[str, dict]:
    if fmt == "csv":
        return "csv", {"layout": "generic"}
    if fmt is not None:
        return fmt, {}
    return plugins.importer_for(path).name, {}


def import_catalog_file(path: Path, fmt: str | None, encoding: str | None, *, assume_yes: bool,
                        overrides: tuple[str, ...] = (), interactive: bool = True):
    """Preview, confirm (encoding when unsure, the column mapping of a generic table), read."""
    from adcopy_desktop.core.catalog import ENCODING_LABELS, container_of, preview_catalog, save_mapping
    from adcopy_desktop.core.plugins import get_plugin_manager

    plugins = get_plugin_manager()
    importer, options = _importer_choice(fmt, path, plugins)
    mapping = None
    builtin_catalog = importer in IMPORT_FORMATS
    if builtin_catalog:
        preview = preview_catalog(path, fmt=fmt, encoding=encoding, rows=3)
        if preview.encoding_problem:  # the read would refuse it too: say so once, without the garbled rows
            fail(preview.encoding_problem)
        where = f"{path.name}: format {preview.format}"
        if preview.encoding is not None:
            where += (f", encoding {ENCODING_LABELS.get(preview.encoding.encoding, preview.encoding.encoding)}"
                      f" ({preview.encoding.reason}, confidence {preview.encoding.confidence:.2f})")
        click.echo(where, err=True)
        if preview.header and container_of(path, fmt) != "jsonl":
            click.echo("  columns: " + ", ".join(preview.header[:12]) + (" …" if len(preview.header) > 12 else ""),
                       err=True)
        for row in preview.rows[:3]:
            click.echo("  | " + " | ".join(cell[:30] for cell in row[:6]), err=True)
        if preview.encoding is not None and preview.encoding.confidence < 0.8 and not encoding and not assume_yes:
            answer = _confirm("Is the text above readable with this encoding?", interactive=interactive)
            if answer is None:
                fail("The encoding above is a guess that needs confirming, and there is no terminal to ask on: "
                     "run again with --yes to import with it, or give it with --encoding (utf-8, gbk, big5, utf-16).")
            if not answer:
                fail("Give the encoding with --encoding (utf-8, gbk, big5, utf-16) and import again.")
        if preview.mapping is not None:
            mapping = _apply_overrides(preview.mapping, overrides, preview.header) if overrides else preview.mapping
            state = "saved for these columns" if preview.mapping_saved and not overrides else "proposed"
            click.echo(f"Column mapping ({state}):\n{_describe_mapping(mapping)}", err=True)
            needs_confirmation = not preview.mapping_saved or bool(overrides)
            if needs_confirmation and not assume_yes:
                answer = _confirm("Import with this mapping?", interactive=interactive)
                if answer is None and overrides:
                    fail("The column mapping above (your --map on top of the proposed one) needs confirming, and "
                         "there is no terminal to ask on: run again with --yes to import with it.")
                if answer is None:
                    fail("The column mapping above is proposed and needs confirming, and there is no terminal to "
                         "ask on: run again with --yes to import with it, or give it with --map FIELD=COLUMN "
                         "(e.g. --map name=Product --map attributes=Color+Size) and --yes.")
                if not answer:
                    fail("Change the mapping with --map FIELD=COLUMN (e.g. --map name=Product "
                         "--map attributes=Color+Size), or confirm it with --yes.")
            save_mapping(preview.header, mapping)
        if encoding and importer != "xlsx":  # a workbook has no text encoding
            options["encoding"] = encoding
    elif encoding:
        options = {**options, "encoding": encoding}
    cancel = CancelToken()
    return plugins.import_catalog(path, importer=importer, options=options, progress=ProgressPrinter(),
                                  cancel=cancel, mapping=mapping)


def _store(result):
    from adcopy_desktop.core.library import Library

    with Library() as library:
        return library.import_products(result.items, source_format=result.format)


def _echo_summary(result, counts, *, drafts_hint: bool = True) -> None:
    """The import's summary; ``drafts_hint`` off where the caller says itself what happens to drafts."""
    skipped_rows = sorted({p.row for p in result.skipped if p.row is not None})
    click.echo(f"Imported {len(result.items):,} products ({counts.describe()}) "
               f"from {result.rows_read:,} rows; {len(skipped_rows):,} rows skipped.")
    if counts.inactive and drafts_hint:
        by_status = ", ".join(f"{number:,} {status}" for status, number in result.summary()["inactive"].items())
        click.echo(f"{counts.inactive:,} of them are drafts, archived or unpublished in the shop ({by_status}): "
                   "adcopy batch leaves them out unless --include-drafts.")
    for problem in result.problems[:MAX_PROBLEMS_SHOWN]:
        label = "skipped" if problem.skipped else "note"
        click.echo(f"  {label}: {problem.describe()}")
    if len(result.problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"  … and {len(result.problems) - MAX_PROBLEMS_SHOWN:,} more problems")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS),
              help="Layout of the file (default: from the extension and the header row).")
@click.option("--encoding", help="Text encoding: utf-8, gbk, gb18030, big5, utf-16 (default: detected).")
@click.option("--map", "overrides", multiple=True, metavar="FIELD=COLUMN",
              help="Generic CSV/XLSX: which column is name, id, description or attributes (Color+Size).")
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Accept the detected encoding and proposed mapping.")
def import_command(file: Path, fmt: str | None, encoding: str | None, overrides: tuple[str, ...],
                   assume_yes: bool) -> None:
    """Import products from a catalog file into the library and print a summary.

    Shopify and WooCommerce product exports, generic CSV (a column mapping you confirm, saved for
    files with the same columns), XLSX and JSON lines. Importing a file again updates the products
    it imported before instead of adding them twice.
    """
    result = import_catalog_file(file, fmt, encoding, assume_yes=assume_yes, overrides=overrides)
    counts = _store(result)
    _echo_summary(result, counts)


@click.group("products")
def products() -> None:
    """The products in the library."""


@products.command("list")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--search", help="Only products whose name or facts contain this text.")
def list_products(output_format: str, search: str | None) -> None:
    """List the library's products (id, shop id, name; [draft], [archived] or [unpublished] for
    products inactive in their shop, which adcopy batch leaves out unless --include-drafts)."""
    from adcopy_desktop.core.library import Library

    with Library() as library:
        stored = library.list_products(search)
    if output_format == "json":
        click.echo(json.dumps([{
            "id": p.id, "name": p.product.name, "external_id": p.external_id, "source_format": p.source_format,
            "attributes": [list(pair) for pair in p.product.attributes], "shop_status": p.shop_status,
            "created_at": p.created_at, "updated_at": p.updated_at,
        } for p in stored], ensure_ascii=False, indent=2))
        return
    for p in stored:
        source = f"{p.source_format}:{p.external_id}" if p.external_id else "-"
        name = p.product.name or p.product.to_attribute_string()[:60]
        marker = f"  [{p.shop_status}]" if p.shop_status else ""  # left out by adcopy batch unless asked
        click.echo(f"{p.id:>6}  {source:<30}  {name}{marker}")
    click.echo(f"{len(stored):,} products", err=True)


@click.command("batch")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Import this catalog (again) and generate for its products (default: every product in the library).")
@click.option("--kind", "kinds", default="title,description", show_default=True,
              help="Kinds of copy, comma-separated: title, description, selling_points, promo, slogan.")
@click.option("-n", "--candidates", "n", default=3, show_default=True, type=click.IntRange(1, 16))
@click.option("--style", "style_name", help="Brand style (see adcopy styles list).")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the copy (default: each product's).")
@click.option("--length", help="short, medium, long, or a number.")
@click.option("--tone", help="Free text, e.g. playful, 专业.")
@click.option("--temperature", default=0.8, show_default=True, type=float)
@click.option("--seed", type=int)
@click.option("--model", "model_id", help="Model id (default: the active model).")
@click.option("--provider", type=click.Choice(PROVIDER_CHOICES))
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS), help="Layout of --catalog (default: detected).")
@click.option("--encoding", help="Encoding of --catalog (default: detected).")
@click.option("--resume", "resume_id", type=int, metavar="JOB_ID", help="Continue this job where it stopped.")
@click.option("--new", "fresh", is_flag=True,
              help="Start a new job even if this catalog was done with these options before (generate again).")
@click.option("--jobs", "list_jobs", is_flag=True, help="List bulk-generation jobs and exit.")
@click.option("--accept-top", is_flag=True,
              help="Accept the top-ranked candidate of every item, recorded as an automatic decision (items you "
                   "decided on or edited are left alone; review with adcopy copy list).")
@click.option("--include-drafts", is_flag=True,
              help="Also generate for products the shop has as drafts, archived or unpublished (left out by default).")
@click.option("--backend", "backend_name",
              help="Write with this backend (default: onnx, this computer): a server from 'adcopy backends list', "
                   "or 'pool' (every server; pool:a,b some): items go to the least busy, a failed server's to another.")
@click.option("--workers", type=click.IntRange(1, 256),
              help="Items generated at once (default: 6 locally, their candidates decoded as one batch; a server's or "
                   "pool's max-concurrent in all).")
def batch(catalog, kinds, n, style_name, lang, length, tone, temperature, seed, model_id, provider, fmt, encoding,
          resume_id, fresh, list_jobs, accept_top, include_drafts, backend_name, workers) -> None:
    """Generate copy for every product of a catalog, with progress and ETA; stop with Ctrl+C and
    run the same command again (or --resume JOB_ID) to continue where it stopped.

    Exit status: 0 when every item of the run is done (or the run was stopped with Ctrl+C: run
    it again to continue); 1 when any item failed, with how many and the first errors on stderr."""
    from adcopy_desktop.core.batch import BatchOptions, active_products, batch_workers, plan_batch, run_batch
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.settings import load_settings

    library = Library()
    try:
        if list_jobs:
            for job in library.batch_jobs():
                click.echo(f"{job.id:>4}  {job.status:<9} {job.counts['done']:>6}/{job.total:<6} "
                           f"failed {job.counts['failed']:<4} kinds {','.join(job.options.get('kinds', []))}  "
                           f"{job.catalog or '(selected products)'}")
            return
        plugins = get_plugin_manager()
        if resume_id is not None:
            job = library.batch_job(resume_id)
            options = BatchOptions.from_dict(job.options)
            job_id, resumed = resume_id, True
        else:
            length_value = int(length) if length and length.isdigit() else length
            options = BatchOptions(kinds=tuple(k for k in kinds.split(",") if k.strip()), n=n, style=style_name,
                                   language=lang, length=length_value, tone=tone, temperature=temperature,
                                   seed=seed, model=model_id)
            if options.style:
                plugins.style(options.style)  # unknown: an error listing the styles, before any work
            if catalog is not None:
                result = import_catalog_file(catalog, fmt, encoding, assume_yes=True, interactive=False)
                counts = library.import_products(result.items, source_format=result.format)
                _echo_summary(result, counts, drafts_hint=False)  # "Leaving out ..." below says it for this run
                product_ids = counts.ids
                catalog_key = str(catalog.resolve())
            else:
                product_ids = [p.id for p in reversed(library.list_products())]
                catalog_key = ""
            if not include_drafts:
                _, skipped = active_products(library, product_ids)
                if skipped:
                    click.echo(f"Leaving out {len(skipped):,} product(s) that the shop has as drafts, archived or "
                               "unpublished; add --include-drafts to generate for them too.", err=True)
            job_id, resumed = plan_batch(library, product_ids, options, catalog=catalog_key, fresh=fresh,
                                         include_drafts=include_drafts)
        job = library.batch_job(job_id)
        if not job.counts["pending"] and not job.counts["failed"]:
            click.echo(f"Job {job_id} has done all {job.total:,} items already; use --new to generate again.")
            if accept_top:
                _accept_top(library, plugins, job_id, options)
            return
        click.echo(f"{'Resuming' if resumed else 'Starting'} job {job_id}: {job.total:,} items "
                   f"({job.counts['done']:,} done), kinds {', '.join(options.kinds)}, {options.n} candidates each.",
                   err=True)
        store = ModelStore()
        user_settings = load_settings()
        from adcopy_desktop.core.endpoints import resolve_backend_choice

        backend, backend_options = resolve_backend_choice(backend_name)  # not part of the job: any server may finish it
        generator = CopyGenerator(store, model_id=options.model, provider=provider or user_settings.execution_provider,
                                  threads=user_settings.threads, plugins=plugins, backend=backend,
                                  backend_options=backend_options)
        if generator.uses_model_store and options.model is None and store.active_id() is None:
            click.echo("No model is installed yet: building the default model once (about a minute).", err=True)
            store.ensure_default_model(progress=ProgressPrinter())
        cancel = CancelToken()
        previous = signal.getsignal(signal.SIGINT)

        def stop(signum, frame) -> None:
            click.echo("\nStopping: what is done is kept; the item in progress runs again on resume.", err=True)
            cancel.cancel()

        try:
            signal.signal(signal.SIGINT, stop)
        except ValueError:  # not the main thread (tests, embedding): Ctrl+C handling stays as it is
            previous = None
        try:
            workers, note = batch_workers(generator, options.n, workers)
            if note:
                click.echo(note, err=True)
            if workers > 1:
                click.echo(f"Writing {workers} items at once with {generator.provider}.", err=True)
            status = run_batch(library, generator, job_id, progress=ProgressPrinter(), cancel=cancel, workers=workers)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        click.echo(f"Job {job_id}: {status.done:,}/{status.total:,} items done, {status.failed:,} failed, "
                   f"{status.products_per_minute:.1f} products/min this run ({status.elapsed_s:.0f} s).")
        for error in status.errors[:20]:
            click.echo(f"  failed: {error}")
        if status.pending or status.failed:
            click.echo(f"Not finished: run the same command again, or adcopy batch --resume {job_id}.")
        if accept_top:
            _accept_top(library, plugins, job_id, options)
        if status.failed:
            first = "; ".join(status.errors[:3])
            fail(f"{status.failed:,} of {status.total:,} items failed, {status.done:,} done"
                 f"{' (first errors: ' + first + ')' if first else ''}. Run the same command again, or "
                 f"adcopy batch --resume {job_id}, to try the failed items again.")
    finally:
        library.close()


def _accept_top(library, plugins, job_id: int, options) -> None:
    from adcopy_desktop.core.batch import accept_top

    style = plugins.style(options.style) if options.style else None
    result = accept_top(library, job_id, style=style)
    click.echo(f"Accepted the top-ranked candidate of {len(result.accepted):,} items automatically "
               "(see adcopy copy list --status accepted).")
    if result.reviewed:
        click.echo(f"  left alone: {result.reviewed:,} items you decided on or edited already")
    if result.decided:
        click.echo(f"  left alone: {result.decided:,} items accepted automatically before")
    for line in result.sunk[:10]:
        click.echo(f"  not accepted: {line}")
    if len(result.sunk) > 10:
        click.echo(f"  … and {len(result.sunk) - 10:,} more items with no candidate to accept")
