"""What every command module shares: output formats (text/json), progress on stderr, logging,
one-line errors. Imports only click and the core; the command modules import it, never each other."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import click

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.paths import user_folders

PROVIDER_CHOICES = ("auto", "cpu", "cuda", "directml")
FORMAT_CHOICES = ("text", "json", "jsonl")
TEXT_OR_JSON = ("text", "json")


def format_option(*choices: str):
    """``--format text|json`` (or the given choices), text by default."""
    return click.option("--format", "output_format", type=click.Choice(choices or TEXT_OR_JSON), default="text",
                        show_default=True)


def echo_json(data: Any, *, indent: int | None = 2) -> None:
    """JSON on stdout, non-ASCII kept readable."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=indent))


def configure_logging(verbose: int) -> None:
    """The rotating, redacted log file (``core/logs.py``); ``-v`` also logs to stderr."""
    from adcopy_desktop.core.logs import configure_logging as configure

    user_folders().ensure()
    configure(verbose)


class ProgressPrinter:
    """Progress on stderr: one rewritten line on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, event: ProgressEvent) -> None:
        percent = f"{event.fraction:4.0%} " if event.fraction is not None else ""
        line = f"{percent}{event.message}"
        if self.tty:
            click.echo(f"\r\033[K{line}", err=True, nl=False)
            if event.stage == "done":
                click.echo("", err=True)
        else:
            click.echo(line, err=True)


def fail(message: str) -> None:
    """Stop the command with ``Error: message`` on stderr and exit code 1."""
    raise click.ClickException(message)


class AdCopyGroup(click.Group):
    """Shows AdCopyError messages as clean one-line errors instead of tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AdCopyError as exc:
            raise click.ClickException(str(exc)) from None


def length_value(length: str | None):
    """--length: short/medium/long stay words, digits become a number."""
    if length is None:
        return None
    return int(length) if length.isdigit() else length


def scorer_options(channel: str | None, keywords: str | None) -> dict[str, dict[str, str]]:
    """Per-scorer settings from --channel and --keywords (unknown channels fail here, listed)."""
    options: dict[str, dict[str, str]] = {}
    if channel:
        from adcopy_desktop.core.channels import load_channels

        book = load_channels()
        names = [name.strip().lower() for name in re.split(r"[,，\s]+", channel) if name.strip()]
        unknown = [name for name in names if name not in book.channels]
        if unknown:
            fail(f"Unknown channel(s) {', '.join(unknown)}. Channels: {', '.join(sorted(book.channels))}.")
        options["channel-rules"] = {"channel": ",".join(names)}
    if keywords:
        options["keyword-coverage"] = {"keywords": keywords}
    return options


def warn_about_a_crash_in_plugin_work() -> None:
    """When the last run died while a plugin worked: one warning line naming it, and the way out."""
    from adcopy_desktop.core.plugins.safe_mode import take_crash_report

    report = take_crash_report()
    if report is None:
        return
    click.echo(f"warning: {report.describe()}. If AdCopy stops again, run it with --safe-mode (no third-party "
               f"plugins), or turn the plugin off: add \"{report.plugin}\" to disabled_plugins in settings.json "
               "(see 'adcopy paths').", err=True)


def warn_about_plugin_problems() -> None:
    """One stderr line per plugin problem of this run, so a failed plugin never goes unnoticed."""
    from adcopy_desktop.core.plugins import current_plugin_manager

    manager = current_plugin_manager()
    if manager is None or not manager.loaded:
        return
    for problem in manager.problems:
        tail = "; it is disabled for this session" if problem.disabled else ""
        click.echo(f"warning: {problem.describe()}{tail}", err=True)
