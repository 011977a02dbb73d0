"""``adcopy train``: fine-tune the active model on accepted copy or a dataset file, gate, swap.

A thin wrapper over ``core/training/pipeline.py``: progress on stderr, a summary (or ``--format
json``, the outcome as JSON) on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from adcopy_desktop.cli.common import ProgressPrinter, configure_logging

from adcopy_desktop.core.training.config import METHODS


def _format_metric(value) -> str:
    return "  -  " if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


@click.command("train")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Train on a JSON-lines file (AdvertiseGen content/summary or prompt/completion) "
                   "instead of the library's accepted copy.")
@click.option("--style", help="Train on this brand style's accepted copy only; generation with the style uses the result.")
@click.option("--method", type=click.Choice(METHODS), help="lora (default), top_layers or full.")
@click.option("--epochs", type=int)
@click.option("--learning-rate", type=float)
@click.option("--batch-size", type=int)
@click.option("--rank", "lora_rank", type=int, help="LoRA rank.")
@click.option("--holdout", "holdout_share", type=float, help="Share held out for the gate (0-1).")
@click.option("--margin", "gate_margin", type=float,
              help="How much worse the new model may be, relative to the old figure (0.05: 5%).")
@click.option("--max-steps", type=int, help="Stop after this many optimiser steps.")
@click.option("--preference", type=click.Choice(["auto", "off", "on"]), help="The DPO stage on accepted-vs-rejected pairs.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def train(data_file, style, method, epochs, learning_rate, batch_size, lora_rank, holdout_share, gate_margin,
          max_steps, preference, output_format):
    """Teach the active model your brand: train on accepted copy, keep it only if the held-out
    comparison shows it is better (accepted, refused, or not enough held-out copy to tell)."""
    from adcopy_desktop.core.errors import AdCopyError
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.settings import load_settings
    from adcopy_desktop.core.training.config import TrainingConfig
    from adcopy_desktop.core.training.pipeline import run_training

    configure_logging(0)
    settings = load_settings()
    given = {"method": method, "epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
             "lora_rank": lora_rank, "holdout_share": holdout_share, "gate_margin": gate_margin,
             "max_steps": max_steps, "preference": preference}
    try:
        config = TrainingConfig.from_overrides(settings.training, {k: v for k, v in given.items() if v is not None},
                                               {"style": style} if style else None)
        library = None if data_file else Library()
        try:
            outcome = run_training(config, store=ModelStore(), library=library, data_file=data_file,
                                   progress=ProgressPrinter(), threads=settings.threads)
        finally:
            if library is not None:
                library.close()
    except AdCopyError as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2))
        return
    from adcopy_desktop.core.training.gate import format_interval

    answer = outcome.decision or ("accepted" if outcome.accepted else "refused")
    headline = {"accepted": "ACCEPTED", "refused": "REFUSED", "not_enough": "NOT ENOUGH HELD-OUT COPY"}
    click.echo(headline.get(answer, answer.upper()) + f": {outcome.reason}")
    click.echo(f"data: {outcome.examples} trained on, {outcome.held_out} held out, {outcome.pairs} preference pairs;"
               f" {outcome.seconds:.0f} s")
    intervals = outcome.gate.get("intervals") or {}
    click.echo(f"{'held-out metric':20} {'old':>8} {'new':>8}  paired difference (new - old)")
    for name in ("heldout_loss", "rouge_l", "bleu", "compliance_rate", "forbidden_rate", "faithfulness_rate",
                 "empty_rate"):
        paired = f"  {format_interval(intervals[name])}" if isinstance(intervals.get(name), dict) else ""
        click.echo(f"{name:20} {_format_metric(outcome.old_metrics.get(name)):>8} "
                   f"{_format_metric(outcome.new_metrics.get(name)):>8}{paired}")
    if answer == "not_enough" and outcome.needed_examples:
        more = f", about {outcome.more_copies} more accepted copies" if outcome.more_copies else ""
        click.echo(f"the gate needs about {outcome.needed_examples} held-out examples to decide{more}")
    if outcome.version is not None:
        click.echo(f"active model is now {outcome.version.id} (roll back with: adcopy models rollback)")
    for warning in outcome.warnings[:10]:
        click.echo(f"warning: {warning}", err=True)
