"""``adcopy models rollback`` and the version lines of ``adcopy models list``: trained versions of
a model with their parent, style and held-out metrics."""

from __future__ import annotations

import json
import math
from typing import Any

import click


def metric_text(name: str, value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{name} {value:.4g}"
    return f"{name} {value}"


def held_out_summary(info) -> str:
    """One line: the gate's held-out metrics of the version (its parent's in brackets) and decision."""
    evaluation = info.evaluation or {}
    new, old = info.held_out_metrics("new"), info.held_out_metrics("old")
    parts = []
    for name, value in new.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            before = old.get(name)
            was = f" (was {before:.4g})" if isinstance(before, (int, float)) and not isinstance(before, bool) else ""
            parts.append(metric_text(name, value) + was)
    decision = evaluation.get("decision")
    text = "held-out: " + (", ".join(parts) if parts else "no metrics recorded")
    return text + (f"; gate {decision}" if decision else "")


def version_line(info) -> str:
    """The second line under a trained version in ``adcopy models list``."""
    style = f", style {info.style}" if info.style else ""
    return f"    version {info.version} of {info.base}, parent {info.parent}{style}; {held_out_summary(info)}"


@click.command("rollback")
@click.argument("version", required=False)
@click.option("--style", "style_name", help="Roll back only this brand style's model.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def models_rollback(version: str | None, style_name: str | None, output_format: str) -> None:
    """Make an earlier model active again: VERSION (see 'adcopy models list'), or without it the
    parent of the model active now. The running app picks it up at its next generation."""
    from adcopy_desktop.core.model_store import ModelStore

    store = ModelStore()
    before = store.active_id(style_name)
    info = store.rollback(version, style=style_name)
    if output_format == "json":
        click.echo(json.dumps({"previous": before, "active": info.id, "style": style_name}, ensure_ascii=False))
        return
    scope = f" for style {style_name}" if style_name else ""
    click.echo(f"Active model{scope}: {info.id} (was {before})")
