"""``adcopy copy list|show|accept|reject|edit``: review the library's copy headless (core/review.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from adcopy_desktop.cli.common import TEXT_OR_JSON, echo_json, fail, format_option
from adcopy_desktop.core.review import STATUSES


def _open_library():
    from adcopy_desktop.core.library import Library

    return Library()


def _plugins():
    from adcopy_desktop.core.plugins import get_plugin_manager

    return get_plugin_manager()


def _status_text(data: dict) -> str:
    if data["status"] == "pending":
        return "pending"
    return data["status"] + (" (auto)" if data["decided_by"] == "auto" else "")


def _short(text: str, width: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at)) if at else "-"


@click.group("copy")
def copy_group() -> None:
    """The library's copy: list and show candidates, accept, reject or edit them (as in the app)."""


@copy_group.command("list")
@click.option("--product", "product_id", type=int, help="Only this product's copy (id from adcopy products list).")
@click.option("--status", type=click.Choice(STATUSES), help="accepted, rejected or pending (no decision yet).")
@click.option("--kind", help="Only this kind: title, description, selling_points, promo or slogan.")
@click.option("--style", help="Only copy written in this brand style.")
@click.option("--limit", type=click.IntRange(1), help="At most this many, newest first.")
@format_option(*TEXT_OR_JSON)
def copy_list(product_id, status, kind, style, limit, output_format) -> None:
    """List candidates, newest first: id, status (auto: accepted by batch --accept-top), kind,
    language, product and the start of the text."""
    from adcopy_desktop.core.review import find_copy, record

    with _open_library() as library:
        found = find_copy(library, product_id=product_id, status=status, kind=kind, style=style, limit=limit)
        names: dict = {}
        records = [record(library, candidate, names=names) for candidate in found]
    if output_format == "json":
        echo_json(records)
        return
    for data in records:
        product = _short(data["product"] or f"(deleted product #{data['product_id']})", 24)
        edited = "*" if data["edited"] else " "
        click.echo(f"{data['id']:>6}  {_status_text(data):<16} {data['kind']:<14} {data['language']:<3} "
                   f"{product:<24}  {edited}{_short(data['text'], 60)}")
    click.echo(f"{len(records):,} candidates (* = edited)", err=True)


@copy_group.command("show")
@click.argument("candidate_id", type=int)
@format_option(*TEXT_OR_JSON)
def copy_show(candidate_id: int, output_format: str) -> None:
    """Everything about one candidate: text (and the generated text if edited), decision and who
    made it, scores, flags and the history of decisions and edits."""
    from adcopy_desktop.core.review import get_copy, record

    with _open_library() as library:
        data = record(library, get_copy(library, candidate_id), full=True)
    if output_format == "json":
        echo_json(data)
        return
    click.echo(click.style(f"#{data['id']}  {data['kind']}, {data['language']}"
                           f"{', style ' + data['style'] if data['style'] else ''}, model {data['model']}",
                           bold=True))
    click.echo(f"product #{data['product_id']}: {data['product'] or '(deleted)'}")
    status = _status_text(data)
    if data["reason"]:
        status += f": {data['reason']}"
    click.echo(f"status:  {status}")
    click.echo(f"created: {_when(data['created_at'])}, finish {data['finish_reason']}")
    click.echo("text (edited):" if data["edited"] else "text:")
    click.echo(data["text"])
    if data["edited"]:
        click.echo("generated:")
        click.echo(data["generated_text"])
    for flag in data["flags"]:
        click.echo(click.style(f"  ! {flag.get('message') or flag.get('rule')}", fg="yellow"))
    scores = [s for s in data["scores"] if not s.get("abstained")]
    if scores:
        click.echo("scores" + (" (of the generated text)" if data["edited"] else "") + ": "
                   + ", ".join(f"{s['scorer']} {s['value']:.2f}" for s in scores))
    if data["history"]:
        click.echo("history:")
    for entry in data["history"]:
        who = f" ({entry['source']})" if entry.get("source") == "auto" else ""
        detail = entry.get("reason") or (_short(entry["text"], 60) if entry.get("text") else "")
        click.echo(f"  {_when(entry['at'])}  {entry['action']}{who}" + (f": {detail}" if detail else ""))


def _echo_decided(library, decided, output_format: str, verb: str) -> None:
    from adcopy_desktop.core.review import record

    names: dict = {}
    records = [record(library, candidate, names=names) for candidate in decided]
    if output_format == "json":
        echo_json(records)
        return
    for data in records:
        click.echo(f"{verb} #{data['id']} ({data['kind']}, {data['product'] or 'product #' + str(data['product_id'])})")


@copy_group.command("accept")
@click.argument("candidate_ids", nargs=-1, required=True, type=int, metavar="ID...")
@format_option(*TEXT_OR_JSON)
def copy_accept(candidate_ids, output_format) -> None:
    """Accept candidates (what export and training use); replaces an earlier decision."""
    from adcopy_desktop.core.review import decide

    with _open_library() as library:
        decided = decide(library, candidate_ids, "accepted", plugins=_plugins())
        _echo_decided(library, decided, output_format, "accepted")


@copy_group.command("reject")
@click.argument("candidate_ids", nargs=-1, required=True, type=int, metavar="ID...")
@click.option("--reason", help="Why (kept with the decision and passed to plugins).")
@format_option(*TEXT_OR_JSON)
def copy_reject(candidate_ids, reason, output_format) -> None:
    """Reject candidates; replaces an earlier decision."""
    from adcopy_desktop.core.review import decide

    with _open_library() as library:
        decided = decide(library, candidate_ids, "rejected", reason=reason or None, plugins=_plugins())
        _echo_decided(library, decided, output_format, "rejected")


@copy_group.command("edit")
@click.argument("candidate_id", type=int)
@click.option("--text", help="The new copy.")
@click.option("--file", "text_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
              help="Read the new copy from a file (UTF-8; - for standard input).")
@format_option(*TEXT_OR_JSON)
def copy_edit(candidate_id, text, text_file, output_format) -> None:
    """Replace a candidate's text with your version, as an edit in the app does: the generated
    text is kept beside it, the decision stays, export and training use your text."""
    from adcopy_desktop.core.review import edit, record

    if (text is None) == (text_file is None):
        fail("Give the new copy with exactly one of --text or --file.")
    if text_file is not None:
        try:
            raw = sys.stdin.buffer.read() if str(text_file) == "-" else text_file.read_bytes()
            text = raw.decode("utf-8-sig").strip()
        except UnicodeDecodeError as exc:
            fail(f"{text_file} is not UTF-8 text ({exc}). Save it as UTF-8 and try again.")
    with _open_library() as library:
        stored, changed = edit(library, candidate_id, text, plugins=_plugins())
        data = record(library, stored)
    if output_format == "json":
        echo_json({**data, "changed": changed})
        return
    click.echo(f"edited #{data['id']}" if changed else f"#{data['id']} already has this text; nothing changed")
