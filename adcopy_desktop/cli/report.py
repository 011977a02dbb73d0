"""``adcopy report``: one self-contained HTML file with a brand style's Insights charts (core/report.py)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.option("--style", help="The brand style (default: all copy; '' for copy without a style).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
@click.option("--period", type=click.Choice(("week", "day")), default="week", show_default=True)
@click.option("--lang", "language", type=click.Choice(("en", "zh")), default="en", show_default=True,
              help="The language of the report's titles and labels.")
def report(style: str | None, out: Path, period: str, language: str) -> None:
    """Write the Insights charts (decisions, scores, sinking rules, the newest generations, training,
    models, exports per shop) of a brand style into one HTML file for a client: inline SVG, no
    scripts, no external links; opens offline."""
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.report import write_report

    with Library() as library:
        path = write_report(out, library, ModelStore(), style=style, bucket=period, language=language)
    click.echo(f"Report written to {path}")
