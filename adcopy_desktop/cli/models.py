"""``adcopy models``: list, build, import, select, verify, remove, prune, roll back and export models;
trained versions with their parent, style, held-out metrics and disk use."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from adcopy_desktop.cli.common import ProgressPrinter, fail
from adcopy_desktop.core.model_store.store import DEFAULT_PRECISION, PRECISIONS


@click.group("models")
def models() -> None:
    """List, build, import and select models."""


@models.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def models_list(output_format: str) -> None:
    """Show installed models with size, disk use, source, languages and which is active; trained
    versions with their parent, style and held-out metrics."""
    from adcopy_desktop.core.model_store import ModelStore

    infos = ModelStore().list_models()
    if output_format == "json":
        click.echo(json.dumps([m.to_dict() for m in infos], ensure_ascii=False, indent=2))
        return
    if not infos:
        click.echo("No models installed. Build the default one with: adcopy models build")
        return
    for info in infos:
        marker = "*" if info.active else " "
        if info.problem:
            click.echo(f"{marker} {info.id:32} DAMAGED: {info.problem}")
            continue
        source = info.source.get("kind", "?")
        if info.version is not None:
            source = f"trained from {info.parent}"
        elif source != "default":
            source = f"{source}: {info.source.get('path', '')}"
        styles = f"  [active for style {', '.join(info.active_styles)}]" if info.active_styles else ""
        click.echo(
            f"{marker} {info.id:32} {info.size_bytes / 1e6:8.0f} MB  {format_bytes(info.disk_bytes):>8} on disk  "
            f"{info.architecture:8} "
            f"{'+'.join(info.languages):6} {info.parameters / 1e6:6.0f}M params  {source}{styles}"
        )
        if info.version is not None:
            click.echo(version_line(info))
    click.echo("(* = active)")


PRECISION_HELP = (
    "Weights: int8 (8-bit, about twice as fast on CPU as fp32 and close to it), fp32 (the exact "
    "export), int4 (4-bit, faster still but noticeably less faithful)"
)


@models.command("build")
@click.option("--model", "model_name", metavar="ID",
              help="Which built-in model: qwen2.5-coder-0.5b-instruct (the default, Chinese + English) or "
                   "smollm2-135m-instruct (small, English only). See 'adcopy models available'.")
@click.option("--force", is_flag=True, help="Rebuild even if the model is already there.")
@click.option("--precision", type=click.Choice(PRECISIONS), default=DEFAULT_PRECISION, show_default=True,
              help=PRECISION_HELP + ".")
@click.option("--activate", is_flag=True, help="Make it the active model (the first model always is).")
def models_build(model_name: str | None, force: bool, precision: str, activate: bool) -> None:
    """Build a built-in model (default: Qwen2.5-Coder-0.5B-Instruct) from its offline packages.

    The weights' sha256 is checked against the publisher's checksum before every build."""
    from adcopy_desktop.core.model_store import ModelStore, catalog_model

    model = catalog_model(model_name)
    store = ModelStore()
    info = store.ensure_catalog_model(model.id, precision=precision, force=force, progress=ProgressPrinter())
    if activate and not info.active:
        info = store.set_active(info.id)
    click.echo(f"{info.id} ready in {info.folder} (licence {model.licence.name}: {model.licence.url})")


@models.command("available")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def models_available(output_format: str) -> None:
    """The built-in models 'adcopy models build --model ID' can build offline, with their licences."""
    from adcopy_desktop.core.model_store import CATALOG, DEFAULT_MODEL_ID

    if output_format == "json":
        click.echo(json.dumps([m.to_dict() for m in CATALOG.values()], ensure_ascii=False, indent=2))
        return
    for model in CATALOG.values():
        mark = "*" if model.id == DEFAULT_MODEL_ID else " "
        click.echo(f"{mark} {model.id:30} {'+'.join(model.languages):6} {model.parameters / 1e6:5.0f}M  "
                   f"{model.licence.name:11} {model.summary}")
    click.echo("(* = default)")


@models.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--name", help="Display name (default: the folder or file name).")
@click.option("--languages", help="Languages the model writes, e.g. zh,en (default: detected).")
@click.option("--activate", is_flag=True, help="Make it the active model.")
@click.option("--precision", type=click.Choice(PRECISIONS), default=DEFAULT_PRECISION, show_default=True,
              help=PRECISION_HELP + ".")
def models_import(path: Path, name: str | None, languages: str | None, activate: bool, precision: str) -> None:
    """Import a Hugging Face model folder (safetensors) or a GGUF file."""
    from adcopy_desktop.core.model_store import ModelStore

    langs = None
    if languages:
        langs = [code.strip() for code in languages.split(",") if code.strip()]
        unknown = [code for code in langs if code not in ("zh", "en")]
        if unknown:
            fail(f"Unknown language code(s) {', '.join(unknown)}: use zh and/or en.")
    info = ModelStore().import_model(path, name=name, languages=langs, activate=activate, precision=precision,
                                     progress=ProgressPrinter())
    state = "active" if info.active else "not active: adcopy models use " + info.id
    click.echo(f"Imported {info.id} ({info.architecture}, languages {'+'.join(info.languages)}, {state})")


@models.command("use")
@click.argument("model_id")
def models_use(model_id: str) -> None:
    """Select the active model."""
    from adcopy_desktop.core.model_store import ModelStore

    store = ModelStore()
    store.verified(model_id)
    store.set_active(model_id)
    click.echo(f"Active model: {model_id}")


@models.command("verify")
@click.argument("model_id", required=False)
def models_verify(model_id: str | None) -> None:
    """Check every file of a model (default: the active one) against its manifest checksums."""
    from adcopy_desktop.core.model_store import ModelStore

    store = ModelStore()
    model_id = model_id or store.active_model().id
    store.verified(model_id, full=True)
    click.echo(f"{model_id}: all files match the manifest")


@models.command("export")
@click.argument("model_id")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="A new (or empty) folder for the export; written under a temporary name and renamed at the end.")
@click.option("--format", "export_format", type=click.Choice(["hf"]), default="hf", show_default=True,
              help="hf: a merged Hugging Face folder for vLLM, TGI or llama.cpp's convert_hf_to_gguf.py.")
@click.option("--dtype", type=click.Choice(["float16", "bfloat16"]), default="float16", show_default=True,
              help="Weights of model.safetensors.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (files, sizes, the check) as JSON.")
def models_export(model_id: str, out: Path, export_format: str, dtype: str, as_json: bool) -> None:
    """Export a model (a trained version with its LoRA adapter merged in) for an inference server.

    The folder is loaded back with transformers and its logits compared with the ONNX model AdCopy
    runs before it is put in place; Ctrl+C leaves nothing under --out."""
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.model_store.export import export_model

    try:
        result = export_model(ModelStore(), model_id, out, export_format=export_format, dtype=dtype,
                              progress=ProgressPrinter())
    except KeyboardInterrupt:
        fail("Export interrupted; nothing was written to " + str(out) + ".")
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    check = result.check
    click.echo(f"Exported {model_id} to {result.folder} ({dtype}, {format_bytes(result.bytes)}, "
               f"{result.seconds:.1f} s):")
    for name, size in result.files.items():
        click.echo(f"  {name:28} {format_bytes(size):>8}")
    click.echo(f"Check: loaded with transformers, next-token choices agree with the ONNX model "
               f"({check.get('onnx_precision')}) at {check.get('next_token_agreement', 0):.1%} of "
               f"{check.get('prompt_tokens')} positions, largest logit difference {check.get('max_logit_diff')}: OK")
    click.echo(f"Serve it: vllm serve {result.folder} --served-model-name {model_id}   (docs/serving.md)")


@models.command("remove")
@click.argument("model_id")
def models_remove(model_id: str) -> None:
    """Delete an installed model (not the active one)."""
    from adcopy_desktop.core.model_store import ModelStore

    ModelStore().remove(model_id)
    click.echo(f"Removed {model_id}")


def format_bytes(count: int | None) -> str:
    """1234567 -> '1.2 MB' (decimal units, as the MB column)."""
    if count is None:
        return "?"
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@models.command("prune")
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Trained versions to keep per model and style, the newest (default: the setting "
                   "keep_model_versions, 3).")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed and the space it would free.")
@click.option("--yes", is_flag=True, help="Remove without asking.")
@click.option("--include-bases", is_flag=True,
              help="Also remove unused base models built from the catalog (adcopy models build makes them "
                   "again). Imported base models are never pruned.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def models_prune(keep: int | None, dry_run: bool, yes: bool, include_bases: bool, output_format: str) -> None:
    """Remove old trained versions: all but the newest --keep per model and style. Never the active
    model (of any style), the version it was trained from, or the base an adapter version runs on."""
    from adcopy_desktop.core.model_store import ModelStore

    store = ModelStore()
    plan = store.prune(keep, dry_run=True, include_bases=include_bases)
    keep = plan.keep
    if plan.removed and not dry_run and not yes:
        names = ", ".join(f"{r['id']} ({format_bytes(r['disk_bytes'])})" for r in plan.removed)
        click.echo(f"Would remove {names}: {format_bytes(plan.freed_bytes)} in all.", err=True)
        if not click.confirm("Remove them?", default=False, err=True):
            fail("Nothing was removed (give --yes to remove without asking, --dry-run to only look).")
    report = plan if dry_run or not plan.removed else store.prune(keep, include_bases=include_bases)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    for removed in report.removed:
        click.echo(f"{verb} {removed['id']:32} {format_bytes(removed['disk_bytes']):>8}")
    for kept in report.kept:
        click.echo(f"kept    {kept['id']:32} {format_bytes(kept['disk_bytes']):>8}  {kept['reason']}")
    if not report.removed:
        click.echo(f"Nothing to remove (keeping the {keep} newest versions per model and style).")
    else:
        click.echo(f"{len(report.removed)} version(s), {format_bytes(report.freed_bytes)} "
                   + ("would be freed (dry run: nothing was removed)" if dry_run else "freed"))


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
    rouge = (evaluation.get("intervals") or {}).get("rouge_l") if isinstance(evaluation.get("intervals"), dict) else None
    if decision and isinstance(rouge, dict):
        from adcopy_desktop.core.training.gate import format_interval

        decision = f"{decision} ({format_interval(rouge)})"
    return text + (f"; gate {decision}" if decision else "")


def version_line(info) -> str:
    """The second line under a trained version in ``adcopy models list``."""
    style = f", style {info.style}" if info.style else ""
    return f"    version {info.version} of {info.base}, parent {info.parent}{style}; {held_out_summary(info)}"


@models.command("rollback")
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
