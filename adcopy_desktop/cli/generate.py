"""``adcopy generate``: copy candidates for one product, as text, JSON or streamed JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import click

from adcopy_desktop.cli.common import (
    FORMAT_CHOICES, PROVIDER_CHOICES, ProgressPrinter, fail, length_value, scorer_options,
)
from adcopy_desktop.core.candidates import GenerationSettings

_DEFAULTS = GenerationSettings()


@click.command("generate")
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
@click.option("--backend", "backend_name",
              help="Generation backend (default: onnx): a server from 'adcopy backends list', openai-compatible, "
                   "pool, or a plugin's backend.")
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
    request = CopyRequest(product=product, kind=copy_kind, language=lang, length=length_value(length), tone=tone)

    if top is not None and top > n:
        fail(f"--top {top} keeps more candidates than -n {n} generates; raise -n (best-of-N).")
    options = scorer_options(channel, keywords)
    plugins = get_plugin_manager()
    style = plugins.style(style_name) if style_name else None  # unknown: an error listing the styles
    if export_path is not None:
        plugins.exporter_for(export_path, exporter_name)  # fail before generating, not after
    store = ModelStore()
    user_settings = load_settings()
    from adcopy_desktop.core.endpoints import resolve_backend_choice

    backend_name, backend_options = resolve_backend_choice(backend_name)
    generator = CopyGenerator(
        store, model_id=model_id, provider=provider or user_settings.execution_provider,
        threads=user_settings.threads, backend=backend_name, plugins=plugins, backend_options=backend_options,
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


def _resolved_language(request) -> str:
    from adcopy_desktop.core.prompts import resolve_language

    return resolve_language(request)
