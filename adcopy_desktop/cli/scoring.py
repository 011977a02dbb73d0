"""``adcopy score``, ``adcopy eval`` and ``adcopy quality``: thin wrappers over core/scoring.py,
core/evaluation.py and core/quality_model.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from adcopy_desktop.cli.common import ProgressPrinter, fail, scorer_options


def print_scores(candidate, *, indent: str = "  ") -> None:
    """Scores as aligned lines with their highlighted spans."""
    for entry in candidate.scores:
        mark = "·" if entry.get("abstained") else ("✗" if entry.get("hard_fail") else " ")
        value = "  -  " if entry.get("abstained") else f"{entry['value']:.2f}"
        color = "red" if entry.get("hard_fail") else ("bright_black" if entry.get("abstained") else None)
        click.echo(click.style(f"{indent}{mark} {entry['scorer']:18} {value}  {entry['label']}", fg=color))
        if entry.get("explanation"):
            click.echo(f"{indent}    {entry['explanation']}")
        for span in entry.get("spans", []):
            if span.get("severity") == "info":
                continue
            found = candidate.text[span["start"]:span["end"]]
            click.echo(click.style(f"{indent}    ! [{span['start']}:{span['end']}] '{found}' {span['message']}",
                                   fg="red" if span.get("severity") == "error" else "yellow"))


@click.command("score")
@click.option("--product", "product_text", help="Product facts: 类型#上衣*材质#牛仔布, 'key: value' lines, or JSON.")
@click.option("--product-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", default="description", show_default=True,
              help="title, description, selling_points, promo or slogan.")
@click.option("--text", help="The copy to score.")
@click.option("--text-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the copy from a file instead (UTF-8).")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language the copy should be in (default: the product's).")
@click.option("--style", "style_name", help="Brand style: its rules, keywords, channels, word list and weights.")
@click.option("--channel", help="Sales channel(s) to check, e.g. taobao or amazon,shopify.")
@click.option("--keywords", help="SEO keywords, comma-separated.")
@click.option("--scorer", "scorer_names", multiple=True, help="Only this scorer (repeatable).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def score(product_text, product_file, kind, text, text_file, lang, style_name, channel, keywords, scorer_names,
          output_format):
    """Score one piece of copy with every active scorer: value, label, explanation and spans."""
    from adcopy_desktop.core.candidates import Candidate
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyRequest, parse_copy_kind, resolve_language
    from adcopy_desktop.core.scoring import rank, score_candidate

    if bool(product_text) == bool(product_file):
        fail("Give the product with exactly one of --product or --product-file.")
    if bool(text) == bool(text_file):
        fail("Give the copy with exactly one of --text or --text-file.")
    product_text = product_text or product_file.read_text(encoding="utf-8-sig")
    text = text if text is not None else text_file.read_text(encoding="utf-8-sig").strip()
    try:
        copy_kind = parse_copy_kind(kind)
    except ValueError as error:
        fail(str(error))
    plugins = get_plugin_manager()
    style = plugins.style(style_name) if style_name else None
    request = CopyRequest(product=parse_product(product_text), kind=copy_kind, language=lang)
    if style is not None:
        request = style.apply(request)
    language = resolve_language(request)
    candidate = Candidate(text=text, kind=copy_kind.value, model="", language=language,
                          style=style.name if style else None)
    if style is not None:
        candidate.flags = style.check(text, language, copy_kind.value)
    candidate.scores = score_candidate(candidate, plugins=plugins, request=request, style=style,
                                       scorers=list(scorer_names) or None, options=scorer_options(channel, keywords))
    rank([candidate], style=style)
    if output_format == "json":
        data = {"text": text, "kind": candidate.kind, "language": language, "style": candidate.style,
                "flags": candidate.flags, "scores": candidate.scores, "ranking": candidate.ranking}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{candidate.kind}, {language}" + (f", style {style.name}" if style else "") + f": {text}")
    print_scores(candidate)
    ranking = candidate.ranking or {}
    click.echo(f"total {ranking.get('total', 0):.2f} (weighted mean of the scores that did not abstain)")
    for reason in ranking.get("reasons", []):
        click.echo(click.style(f"hard failure: {reason}", fg="red"))


@click.command("eval")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON lines: AdvertiseGen {content, summary} or {prompt, completion}.")
@click.option("--model", "model_id", help="Model id (default: the active model).")
@click.option("--kind", default="description", show_default=True, help="Copy kind to generate (a line's \"kind\" wins).")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language (default: each product's).")
@click.option("--limit", type=click.IntRange(1), help="Only the first N examples.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Per-example results (JSON lines); default: <data>/evaluations/NAME-MODEL-TIME.jsonl.")
@click.option("--zh-tokens", type=click.Choice(["jieba", "char"]), help="Chinese tokens (default: jieba if installed).")
@click.option("--max-new-tokens", type=click.IntRange(1, 4096), help="Default: set by kind and length.")
@click.option("--temperature", default=0.0, show_default=True, type=float, help="0: greedy (reproducible).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--style", "style_name", help="Brand style to generate with.")
@click.option("--backend", "backend_name", help="Generation backend (default: onnx).")
@click.option("--provider", type=click.Choice(["auto", "cpu", "cuda", "directml"]))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def eval_command(data_path, model_id, kind, lang, limit, out_path, zh_tokens, max_new_tokens, temperature, seed,
                 style_name, backend_name, provider, output_format):
    """Generate for every line of a dataset and report BLEU-4, ROUGE, distinct-n, faithfulness and compliance."""
    from adcopy_desktop.core.evaluation import evaluate_model, format_report, read_dataset
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.prompts import parse_copy_kind
    from adcopy_desktop.core.settings import load_settings

    try:
        parse_copy_kind(kind)
    except ValueError as error:
        fail(str(error))
    if temperature < 0:
        fail("--temperature must be 0 (greedy) or more.")
    plugins = get_plugin_manager()
    style = plugins.style(style_name) if style_name else None
    store = ModelStore()
    uses_store = plugins.backend(backend_name or "onnx").uses_model_store
    read_dataset(data_path, limit=limit)  # a malformed line is reported before minutes of model building
    if uses_store and model_id is None and store.active_id() is None:
        click.echo("No model is installed yet: building the default model once (about a minute).", err=True)
        store.ensure_default_model(progress=ProgressPrinter())
    user_settings = load_settings()
    report = evaluate_model(
        data_path, model_id=model_id, store=store, plugins=plugins, kind=kind, language=lang, limit=limit,
        per_example_path=out_path, zh_tokens=zh_tokens, max_new_tokens=max_new_tokens, temperature=temperature,
        seed=seed, style=style, backend=backend_name, provider=provider or user_settings.execution_provider,
        threads=user_settings.threads, progress=ProgressPrinter(),
    )
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report))


@click.group("quality")
def quality() -> None:
    """The learned quality scorer: train it on your decisions (or click data) and see how good it is."""


def _print_report(report: dict | None, output_format: str, extra: dict | None = None) -> None:
    if output_format == "json":
        click.echo(json.dumps({"report": report, **(extra or {})}, ensure_ascii=False, indent=2))
        return
    if report is None:
        click.echo("Not trained yet: adcopy quality train (after some accepted and rejected copy), or "
                   "adcopy quality train --ctr FILE.csv")
    else:
        auc = "-" if report["auc"] is None else f"{report['auc']:.3f}"
        lower = "" if report["auc_lower"] is None else f" (95% lower bound {report['auc_lower']:.3f})"
        click.echo(f"target:        {report['target']}")
        click.echo(f"examples:      {report['examples']} ({report['positives']:g} positive, {report['negatives']:g} negative)")
        click.echo(f"held-out AUC:  {auc}{lower}, {report['folds']}-fold cross-validation")
        click.echo(f"used for ranking: {'yes' if report['usable'] else 'no'} — {report['reason']}")
        click.echo(f"features:      {report['features']}")
        click.echo(f"trained:       {time.strftime('%Y-%m-%d %H:%M', time.localtime(report['trained_at']))}")
    for key, value in (extra or {}).items():
        click.echo(f"{key.replace('_', ' ')}: {value}")


@quality.command("status")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def quality_status_command(output_format):
    """Show the stored quality model: held-out ROC-AUC, whether ranking uses it, decisions since."""
    from adcopy_desktop.core.library import Library, default_library_path
    from adcopy_desktop.core.quality_model import quality_status

    library = Library() if default_library_path().is_file() else None
    try:
        status = quality_status(library)
    finally:
        if library is not None:
            library.close()
    extra = {key: status[key] for key in ("decisions", "new_decisions") if key in status}
    _print_report(status["report"], output_format, extra)


@quality.command("train")
@click.option("--ctr", "ctr_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Train on click data instead: a CSV with text, clicks, impressions (optional kind, language).")
@click.option("--features", type=click.Choice(["auto", "ngrams", "embeddings"]), default="auto", show_default=True,
              help="auto: hashed n-grams plus the model's token embeddings when readable.")
@click.option("--model", "model_id", help="Model whose token embeddings to use (default: the active one).")
@click.option("--margin", default=0.1, show_default=True, type=click.FloatRange(0, 0.5),
              help="Used for ranking only when held-out AUC is at least 0.5 + margin.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def quality_train(ctr_path, features, model_id, margin, output_format):
    """Train the quality model on your accepted/rejected copy (or --ctr click data) and report held-out AUC."""
    from adcopy_desktop.core.library import Library, default_library_path
    from adcopy_desktop.core.quality_model import train_from_ctr_csv, train_from_library

    if ctr_path is not None:
        model = train_from_ctr_csv(ctr_path, features=features, model_id=model_id, margin=margin,
                                   progress=ProgressPrinter())
    else:
        if not default_library_path().is_file():
            fail("There are no decisions yet: accept or reject candidates in the app first, or train on click "
                 "data with --ctr FILE.csv")
        with Library() as library:
            model = train_from_library(library, features=features, model_id=model_id, margin=margin,
                                       progress=ProgressPrinter())
    _print_report(model.report.to_dict(), output_format)
