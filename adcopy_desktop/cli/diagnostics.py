"""``adcopy diagnostics``: the support bundle (``core/diagnostics.py``), secrets redacted."""

from __future__ import annotations

import time
from pathlib import Path

import click

from adcopy_desktop.cli.common import echo_json, format_option


@click.command("diagnostics")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="The zip to write (default: adcopy-diagnostics-DATE.zip in this folder).")
@format_option()
def diagnostics(out: Path | None, output_format: str) -> None:
    """Write a zip for support: versions, platform, execution provider, plugins, model manifests
    (no weights), settings, the last errors and recent logs. Tokens, passwords, keys and
    credentials in URLs are redacted; no product or copy text is included."""
    from adcopy_desktop.core.diagnostics import write_bundle

    out = out or Path(f"adcopy-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip")
    bundle = write_bundle(out)
    if output_format == "json":
        echo_json({"path": str(bundle.path), "files": bundle.files, "bytes": bundle.bytes,
                   "problems": bundle.problems})
        return
    click.echo(f"Diagnostics written to {bundle.path} ({len(bundle.files)} files, {bundle.bytes / 1024:.0f} KB; "
               "secrets redacted). Attach it to your support request.")
    for problem in bundle.problems:
        click.echo(f"  not collected: {problem}", err=True)
