"""``adcopy export``, ``adcopy outbox`` and ``adcopy shops``: accepted copy to files and shops."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from adcopy_desktop.core.errors import AdCopyError

TOKEN_ENV = {"token": "ADCOPY_SHOP_TOKEN", "consumer_key": "ADCOPY_WOO_KEY", "consumer_secret": "ADCOPY_WOO_SECRET"}


def _options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} must look like key=value", param_hint="--option")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def _progress(event) -> None:
    if event.stage != "done":
        click.echo(event.message, err=True)


@click.command("export")
@click.option("--to", "target", help="csv, xlsx, json, shopify-csv, shopify, woocommerce (or a plugin's exporter).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (file targets).")
@click.option("--shop", "shop_url", help="Shop address for shopify/woocommerce (default: the one connected).")
@click.option("--api-version", help="Shop API version (Shopify: 2025-07; WooCommerce: wc/v3).")
@click.option("-o", "--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="An exporter setting (see adcopy plugins list); repeatable.")
@click.option("--product", "products", multiple=True, type=int, help="Only this product id; repeatable.")
@click.option("--kind", "kinds", multiple=True, help="Only this kind of copy (title, description, ...); repeatable.")
@click.option("--style", help="Only copy written in this brand style.")
@click.option("--since", help="Only copy generated since this date (2026-05-01 or 2026-05-01T14:30).")
@click.option("--language", type=click.Choice(["zh", "en"]), help="Only copy in this language.")
@click.option("--resume", is_flag=True, help="Only finish the unfinished shop export jobs (all shops, or --to/--shop).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def export_command(target, out, shop_url, api_version, option_pairs, products, kinds, style, since, language,
                   resume, as_json):
    """Export the accepted copy to a file or send it to a shop.

    Shop exports go through the outbox: every item is stored before anything is sent, marked done
    only when the shop confirmed it, and unfinished jobs for the same shop are finished first.
    Credentials come from the system keyring ('adcopy shops add').
    """
    from adcopy_desktop.core import export as exporting
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.product_copy import ExportFilters

    plugins = get_plugin_manager()
    options = _options(option_pairs)
    if shop_url:
        options["shop_url"] = shop_url
    if api_version:
        options["api_version"] = api_version
    with Library() as library:
        if resume:
            destination = None
            if target and (shop_url or options):
                destination = exporting.shop_settings(plugins, target, options)["shop_url"]
            result = exporting.resume(library, plugins, target, destination, policy=exporting.retry_policy(),
                                      progress=_progress)
            _report_shop(result, as_json)
            return
        if not target:
            raise click.UsageError("Give --to TARGET (or --resume).")
        exporter = plugins.exporters().get(target)
        if exporter is None:
            available = ", ".join(plugins.exporters()) or "none"
            raise click.UsageError(f"Unknown export target '{target}'. Targets: {available}.")
        filters = ExportFilters.parse(products=products, kinds=kinds, style=style, since=since, language=language)
        if exporter.is_shop:
            if out:
                raise click.UsageError(f"--to {target} sends to a shop; drop --out.")
            result = exporting.export_to_shop(library, plugins, target, filters, options,
                                              policy=exporting.retry_policy(), progress=_progress)
            _report_shop(result, as_json)
            return
        if out is None:
            raise click.UsageError(f"--to {target} writes a file: give --out FILE{exporter.extension}.")
        written = exporting.export_file(library, plugins, target, out, filters, options)
        if as_json:
            click.echo(json.dumps({"path": str(written.path), "products": written.products,
                                   "candidates": written.candidates}))
        else:
            click.echo(f"exported {written.candidates} accepted candidate(s) of {written.products} product(s) "
                       f"to {written.path}")


def _report_shop(result, as_json: bool) -> None:
    from adcopy_desktop.core.export import describe_failures

    failures = describe_failures(result)
    if as_json:
        click.echo(json.dumps({"jobs": [job.job_id for job in result.jobs], "done": result.done,
                               "failed": result.failed, "unfinished": result.unfinished,
                               "skipped": result.skipped, "failures": failures}, ensure_ascii=False))
    else:
        click.echo(f"{result.done} done, {result.failed} failed, {result.unfinished} unfinished "
                   f"({len(result.jobs)} job(s))")
        for line in failures:
            click.echo(f"failed: {line}", err=True)
        for name in result.skipped:
            click.echo(f"skipped (no shop id; import it from the shop first): {name}", err=True)
    if result.unfinished:
        stopped = next((job.stopped_by for job in result.jobs if job.stopped_by), None)
        raise click.ClickException(
            f"{result.unfinished} item(s) are not confirmed by the shop yet"
            + (f" (last error: {stopped})" if stopped else "")
            + "; they stay in the outbox: run 'adcopy export --resume' later.")
    if result.failed:
        raise click.ClickException(f"The shop refused {result.failed} item(s); see the messages above.")


@click.group("outbox")
def outbox_group():
    """Shop export jobs: what was sent, what is unfinished."""


@outbox_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Finished and cancelled jobs too.")
@click.option("--json", "as_json", is_flag=True)
def outbox_list(show_all, as_json):
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.outbox import Outbox

    with Library() as library:
        jobs = Outbox(library).jobs(unfinished_only=not show_all)
    if as_json:
        click.echo(json.dumps([{"id": j.id, "target": j.target, "destination": j.destination, "status": j.status,
                                "counts": j.counts} for j in jobs]))
        return
    if not jobs:
        click.echo("no unfinished export jobs" if not show_all else "no export jobs")
    for job in jobs:
        counts = ", ".join(f"{n} {state}" for state, n in job.counts.items() if n)
        click.echo(f"#{job.id}  {job.status:9}  {job.target:12} {job.destination}  {counts}")


@outbox_group.command("show")
@click.argument("job_id", type=int)
def outbox_show(job_id):
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.outbox import Outbox

    with Library() as library:
        outbox = Outbox(library)
        job = outbox.job(job_id)
        click.echo(f"#{job.id} {job.status} {job.target} {job.destination}")
        for item in outbox.items(job_id):
            error = f"  {item.last_error}" if item.last_error else ""
            click.echo(f"  {item.external_key:30} {item.status:10} tries {item.attempts}{error}")


@outbox_group.command("cancel")
@click.argument("job_id", type=int)
def outbox_cancel(job_id):
    """Stop sending a job's unfinished items."""
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.outbox import Outbox

    with Library() as library:
        Outbox(library).cancel(job_id)
    click.echo(f"export job #{job_id} cancelled")


@click.group("shops")
def shops_group():
    """Connect shops: the address in settings, the access key in the system keyring."""


def _read_secret(name: str) -> str:
    env = TOKEN_ENV.get(name)
    if env and os.environ.get(env):
        return os.environ[env].strip()
    label = name.replace("_", " ")
    if not sys.stdin.isatty():
        line = sys.stdin.readline().strip()
        if not line:
            raise click.UsageError(f"Give the {label} on standard input or in {env}.")
        return line
    return click.prompt(label.capitalize(), hide_input=True).strip()


@shops_group.command("add")
@click.argument("target")
@click.option("--shop-url", required=True, help="https://NAME.myshopify.com or your WordPress site address.")
@click.option("--api-version", help="Shopify: 2025-07; WooCommerce: wc/v3.")
def shops_add(target, shop_url, api_version):
    """Store a shop's access key in the keyring (read from a hidden prompt, standard input, or
    ADCOPY_SHOP_TOKEN / ADCOPY_WOO_KEY + ADCOPY_WOO_SECRET; never from the command line)."""
    from adcopy_desktop.core import export as exporting
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.secrets import require_keyring, store_credentials

    plugins = get_plugin_manager()
    exporter = plugins.exporters().get(target)
    if exporter is None or not exporter.is_shop:
        shops = ", ".join(name for name, e in plugins.exporters().items() if e.is_shop) or "none"
        raise click.UsageError(f"'{target}' is not a shop target. Shop targets: {shops}.")
    options = {"shop_url": shop_url, **({"api_version": api_version} if api_version else {})}
    resolved = exporting.shop_settings(plugins, target, options)
    require_keyring()  # before asking for a key that could not be kept
    values = {name: _read_secret(name) for name in exporter.credentials}
    store_credentials(target, resolved["shop_url"], values)
    exporting.remember_shop(target, {k: v for k, v in resolved.items() if k in ("shop_url", "api_version")})
    click.echo(f"connected {target} at {resolved['shop_url']} (access key in the system keyring)")


@shops_group.command("list")
def shops_list():
    from adcopy_desktop.core.settings import load_settings

    shops = load_settings().shops
    if not shops:
        click.echo("no shops connected; use 'adcopy shops add shopify --shop-url ...'")
    for shop in shops:
        version = f"  API {shop['api_version']}" if shop.get("api_version") else ""
        click.echo(f"{shop.get('target', '?'):12} {shop.get('shop_url', '')}{version}")


@shops_group.command("remove")
@click.argument("target")
@click.option("--shop-url", required=True)
def shops_remove(target, shop_url):
    """Forget a shop and delete its access key from the keyring."""
    from adcopy_desktop.core import export as exporting
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.secrets import delete_credentials
    from adcopy_desktop.core.shops.http import normalise_shop_url

    plugins = get_plugin_manager()
    exporter = plugins.exporters().get(target)
    if exporter is None or not exporter.is_shop:
        raise click.UsageError(f"'{target}' is not a shop target.")
    destination = normalise_shop_url(shop_url, what=target)
    try:
        delete_credentials(target, destination, tuple(exporter.credentials))
    except AdCopyError as error:
        click.echo(f"warning: {error}", err=True)
    exporting.forget_shop(target, destination)
    click.echo(f"removed {target} at {destination}")
