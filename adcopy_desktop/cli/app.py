"""The ``adcopy`` command: the root group and the entry point; every command group lives in a
module of its own (thin wrappers that parse, call the core and print).

A plain ``adcopy`` opens the desktop window when a display is available; every subcommand works
headless.
"""

from __future__ import annotations

import os
import sys

import click

from adcopy_desktop import __version__
from adcopy_desktop.cli.backends import backends_group
from adcopy_desktop.cli.catalog import batch, import_command, products
from adcopy_desktop.cli.common import (
    AdCopyGroup,
    configure_logging,
    warn_about_a_crash_in_plugin_work,
    warn_about_plugin_problems,
)
from adcopy_desktop.cli.copy import copy_group
from adcopy_desktop.cli.diagnostics import diagnostics
from adcopy_desktop.cli.export import export_command, outbox_group, shops_group
from adcopy_desktop.cli.generate import generate
from adcopy_desktop.cli.models import models
from adcopy_desktop.cli.plugins import plugins, styles
from adcopy_desktop.cli.report import report
from adcopy_desktop.cli.scoring import eval_command, quality, score
from adcopy_desktop.cli.serve import serve_group
from adcopy_desktop.cli.train import train
from adcopy_desktop.paths import user_folders


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    )


@click.group(cls=AdCopyGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="adcopy")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-vv for debug).")
@click.option("--safe-mode", is_flag=True,
              help="Load no third-party plugins (same as ADCOPY_SAFE_MODE=1); for a run after AdCopy "
                   "stopped during plugin work.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, safe_mode: bool) -> None:
    """AdCopy Desktop: write marketing copy with a local language model, offline.

    Run without a command to open the desktop app (needs a display). User data lives under the
    folders shown by 'adcopy paths'; set ADCOPY_HOME to keep everything in one folder.
    Plugins: 'adcopy plugins list'; ADCOPY_PLUGINS=a,b loads only those third-party plugins.
    """
    configure_logging(verbose)
    if safe_mode:
        from adcopy_desktop.core.plugins import configure_plugins

        configure_plugins(safe_mode=True)
    if ctx.invoked_subcommand is not None:  # the window asks in a dialog instead
        warn_about_a_crash_in_plugin_work()
    ctx.call_on_close(warn_about_plugin_problems)
    if ctx.invoked_subcommand is None:
        if not has_display():
            click.echo(ctx.get_help())
            click.echo("\nNo display found: use a command above, e.g. adcopy generate --product ...", err=True)
            ctx.exit(0)
        from adcopy_desktop.gui.app import run_app

        ctx.exit(run_app())


@cli.command()
def paths() -> None:
    """Show where AdCopy keeps settings, models and logs."""
    folders = user_folders()
    for label, folder in (("config", folders.config), ("data", folders.data), ("cache", folders.cache),
                          ("models", folders.models), ("logs", folders.logs), ("plugins", folders.plugins)):
        click.echo(f"{label:7} {folder}")


def _add_commands() -> None:
    from adcopy_desktop.bench.runner import bench

    for command in (generate, models, plugins, styles, bench, score, eval_command, quality, export_command,
                    outbox_group, shops_group, import_command, products, batch, train, copy_group, diagnostics,
                    backends_group, serve_group, report):
        cli.add_command(command)


_add_commands()


def main() -> None:
    cli(prog_name="adcopy")


if __name__ == "__main__":
    main()
