"""Evaluating a model on a dataset of products and reference copy (``adcopy eval``).

Dataset files are JSON lines in either layout (blank lines are skipped; a file may mix them):

* AdvertiseGen: ``{"content": "类型#上衣*材质#牛仔布*...", "summary": "reference copy"}``
* prompt/completion: ``{"prompt": "<product in any form parse_product reads>", "completion": "..."}``

Optional per line: ``"kind"`` (copy kind, default: the command's ``--kind``), ``"language"``, and
``"references"`` (more reference texts). Malformed lines are reported with their line numbers.

For every example the generator writes one candidate (greedy decoding by default, so runs are
reproducible) and the report gives BLEU-4 (corpus, and the mean of smoothed sentence BLEU),
ROUGE-1/2/L F1, distinct-1/2 of the outputs, the faithfulness rate (non-empty outputs without
claims the facts do not support) and mean attribute coverage, the compliance rate (non-empty outputs
without advertising-law violations), the language-match rate, the share of empty outputs, and speed. Token rules are in ``core/metrics.py`` (Chinese:
jieba words or characters; English: words). A per-example JSON-lines file holds every output with
its metrics and findings.

Chinese examples also get ChatGLM-6B's AdvertiseGen figures (``chatglm_*``: sentence BLEU-4 on
characters with NLTK smoothing method3, ROUGE F on jieba words, 0-100, against the first reference;
None without jieba), so results compare with its published ones; every example gets ``degenerate``
(the output repeats itself, ``metrics.degeneration_reason``), averaged into ``degenerate_rate``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from adcopy_desktop.core.compliance import load_terms
from adcopy_desktop.core.errors import AdCopyError, ProductParseError
from adcopy_desktop.core.faithfulness import check_faithfulness
from adcopy_desktop.core.languages import detect_language
from adcopy_desktop.core.metrics import (
    bleu_stats,
    bleu_from_stats,
    chatglm_metrics,
    distinct_n,
    is_degenerate,
    jieba_available,
    rouge_l,
    rouge_n,
    tokenize,
    zh_tokenization,
)
from adcopy_desktop.core.product import Product, parse_product
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress

MAX_ERRORS_SHOWN = 10
LAYOUT_ADVERTISEGEN = "advertisegen"
LAYOUT_PROMPT = "prompt_completion"


class DatasetError(AdCopyError):
    """A dataset file that cannot be read; the message lists the lines at fault."""


@dataclass
class EvalExample:
    line: int
    product: Product
    references: list[str]
    layout: str
    kind: str | None = None
    language: str | None = None
    source: str = ""  # the content / prompt as written


def read_dataset(path: Path, *, limit: int | None = None) -> list[EvalExample]:
    """Examples from a JSON-lines file; DatasetError names every malformed line (up to ten)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path.name} is not UTF-8 text ({error}).") from None
    except OSError as error:
        raise DatasetError(f"Cannot read {path}: {error}") from None
    examples: list[EvalExample] = []
    errors: list[str] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            examples.append(parse_line(raw, number))
        except DatasetError as error:
            errors.append(str(error))
        if limit is not None and len(examples) >= limit:
            break
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise DatasetError(f"{path.name} has {len(errors)} malformed line(s):\n  {shown}{more}")
    if not examples:
        raise DatasetError(f"{path.name} holds no examples.")
    return examples


def parse_line(raw: str, number: int) -> EvalExample:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise DatasetError(f"line {number}: not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"line {number}: expected a JSON object, got {type(data).__name__}")
    if "content" in data or "summary" in data:
        layout, source_key, reference_key = LAYOUT_ADVERTISEGEN, "content", "summary"
    elif "prompt" in data or "completion" in data:
        layout, source_key, reference_key = LAYOUT_PROMPT, "prompt", "completion"
    else:
        keys = ", ".join(sorted(map(str, data))) or "none"
        raise DatasetError(
            f'line {number}: expected {{"content", "summary"}} (AdvertiseGen) or {{"prompt", "completion"}}; '
            f"found keys: {keys}"
        )
    source, reference = data.get(source_key), data.get(reference_key)
    for key, value in ((source_key, source), (reference_key, reference)):
        if not isinstance(value, str) or not value.strip():
            raise DatasetError(f'line {number}: "{key}" must be non-empty text')
    references = [reference.strip()]
    extra = data.get("references", [])
    if not isinstance(extra, list) or not all(isinstance(r, str) for r in extra):
        raise DatasetError(f'line {number}: "references" must be a list of texts')
    references += [r.strip() for r in extra if r.strip()]
    try:
        product = parse_product(source)
    except ProductParseError as error:
        raise DatasetError(f'line {number}: the "{source_key}" is not a product: {error}') from None
    kind = data.get("kind")
    language = data.get("language", data.get("lang"))
    for key, value in (("kind", kind), ("language", language)):
        if value is not None and not isinstance(value, str):
            raise DatasetError(f'line {number}: "{key}" must be text')
    return EvalExample(number, product, references, layout, kind, language, source)


# -- the report ------------------------------------------------------------------------------------


@dataclass
class ExampleResult:
    line: int
    kind: str
    language: str
    source: str
    references: list[str]
    output: str
    metrics: dict[str, float]
    unsupported: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = ""
    seconds: float = 0.0
    new_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvalReport:
    dataset: str
    model: str
    kind: str
    examples: int
    metrics: dict[str, float | None]
    tokenization: dict[str, str]
    settings: dict[str, Any]
    per_example_file: str | None = None
    seconds: float = 0.0
    cancelled: bool = False
    by_language: dict[str, dict[str, float | None]] = field(default_factory=dict)
    term_list_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


METRIC_LABELS = {
    "bleu4": "BLEU-4 (corpus)",
    "bleu4_sentence": "BLEU-4 (mean sentence, smoothed)",
    "rouge1": "ROUGE-1 F1",
    "rouge2": "ROUGE-2 F1",
    "rougeL": "ROUGE-L F1",
    "distinct1": "distinct-1",
    "distinct2": "distinct-2",
    "faithfulness_rate": "faithful (non-empty, nothing invented)",
    "attribute_coverage": "attribute coverage",
    "compliance_rate": "compliant (non-empty, no violation)",
    "language_match_rate": "language match",
    "empty_rate": "empty outputs",
    "mean_output_tokens": "output tokens (mean)",
    "tokens_per_s": "tokens/s (mean)",
    "chatglm_bleu4": "BLEU-4 (ChatGLM-6B, zh, 0-100)",
    "chatglm_rouge1": "ROUGE-1 (ChatGLM-6B, zh, 0-100)",
    "chatglm_rouge2": "ROUGE-2 (ChatGLM-6B, zh, 0-100)",
    "chatglm_rougeL": "ROUGE-L (ChatGLM-6B, zh, 0-100)",
    "degenerate_rate": "degenerate (repeats itself)",
}
CHATGLM_FIGURES = {"chatglm_bleu4": "bleu-4", "chatglm_rouge1": "rouge-1", "chatglm_rouge2": "rouge-2",
                   "chatglm_rougeL": "rouge-l"}


# -- running ---------------------------------------------------------------------------------------

Generate = Callable[[EvalExample, str, str], tuple[str, dict[str, Any]]]
"""(example, kind, language) -> (output text, details: finish_reason, new_tokens, seconds)"""


def generator_function(generator: Any, settings: Any = None, *, style: Any = None,
                       cancel: CancelToken | None = None, budget_from_request: bool | None = None) -> Generate:
    """Adapt a ``CopyGenerator``: one candidate per example, greedy unless ``settings`` say otherwise.
    ``budget_from_request`` (default: when no settings are given) lets the kind and length set
    max_new_tokens, as ``adcopy generate`` does."""
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.prompts import CopyRequest

    fixed_budget = not (settings is None if budget_from_request is None else budget_from_request)
    settings = settings or GenerationSettings(n=1, temperature=0.0, seed=0)

    def run(example: EvalExample, kind: str, language: str) -> tuple[str, dict[str, Any]]:
        request = CopyRequest(product=example.product, kind=kind, language=language)
        started = time.perf_counter()
        [candidate, *_] = generator.generate(request, settings, cancel=cancel, style=style, score=False,
                                             max_new_tokens_from_request=not fixed_budget)
        return candidate.text, {
            "finish_reason": candidate.finish_reason,
            "new_tokens": candidate.timings.new_tokens,
            "seconds": round(time.perf_counter() - started, 4),
        }

    return run


def evaluate(
    dataset: Sequence[EvalExample] | Path,
    generator: Any,
    kind: str = "description",
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    *,
    language: str | None = None,
    zh_tokens: str | None = None,
    per_example_path: Path | None = None,
    model: str = "",
    limit: int | None = None,
    settings: dict[str, Any] | None = None,
) -> EvalReport:
    """Generate for every example and compute the metrics (see the module docstring).

    ``generator``: a ``CopyGenerator``, or a function ``(example, kind, language) -> (text, details)``.
    ``per_example_path``: where to write one JSON line per example (written as it goes, so a long
    run that is cancelled keeps what it did). On cancel the report covers the examples done and
    says ``cancelled``."""
    from adcopy_desktop.core.prompts import CopyRequest, parse_copy_kind, resolve_language

    started = time.perf_counter()
    examples = read_dataset(dataset, limit=limit) if isinstance(dataset, (str, Path)) else list(dataset)[:limit]
    dataset_name = str(dataset) if isinstance(dataset, (str, Path)) else "examples"
    kind = parse_copy_kind(kind).value
    run = generator if callable(generator) and not hasattr(generator, "generate") else generator_function(
        generator, cancel=cancel)
    if not model and hasattr(generator, "model_id"):
        model = generator.model_id
    if hasattr(generator, "check_language"):  # fail before the first example, not halfway through
        check_languages(generator, examples, kind, language)
    tokenization = zh_tokenization(zh_tokens)
    terms = load_terms()
    results: list[ExampleResult] = []
    cancelled = False
    stream = None
    if per_example_path is not None:
        per_example_path = Path(per_example_path)
        per_example_path.parent.mkdir(parents=True, exist_ok=True)
        stream = per_example_path.open("w", encoding="utf-8")
    try:
        for position, example in enumerate(examples):
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            example_kind = parse_copy_kind(example.kind).value if example.kind else kind
            example_language = example.language or language or resolve_language(
                CopyRequest(product=example.product, kind=example_kind))
            progress(ProgressEvent("eval", f"example {position + 1} of {len(examples)} (line {example.line})",
                                   position / len(examples)))
            try:
                output, details = run(example, example_kind, example_language)
            except AdCopyError as error:
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                    break
                raise AdCopyError(f"line {example.line}: {error}") from error
            if details.get("finish_reason") == "cancelled":
                cancelled = True
                break
            result = score_example(example, example_kind, example_language, output, details, tokenization, terms)
            results.append(result)
            if stream is not None:
                stream.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                stream.flush()
    finally:
        if stream is not None:
            stream.close()
    metrics = aggregate(results, tokenization)
    by_language = {
        code: aggregate([r for r in results if r.language == code], tokenization)
        for code in sorted({r.language for r in results})
    } if len({r.language for r in results}) > 1 else {}
    report = EvalReport(
        dataset=dataset_name, model=model, kind=kind, examples=len(results), metrics=metrics,
        tokenization={"zh": tokenization, "en": "words"}, settings=dict(settings or {}),
        per_example_file=str(per_example_path) if per_example_path is not None else None,
        seconds=round(time.perf_counter() - started, 3), cancelled=cancelled, by_language=by_language,
        term_list_version=terms.version,
    )
    progress(ProgressEvent("done", f"{len(results)} example(s) evaluated" + (" (cancelled)" if cancelled else ""), 1.0))
    return report


def check_languages(generator: Any, examples: Sequence[EvalExample], kind: str, language: str | None) -> None:
    """UnsupportedLanguageError now, not halfway through, when the model cannot write a language
    the dataset needs."""
    from adcopy_desktop.core.prompts import CopyRequest, parse_copy_kind, resolve_language

    needed = {e.language or language or resolve_language(CopyRequest(product=e.product, kind=parse_copy_kind(e.kind or kind)))
              for e in examples}
    for code in sorted(needed):
        generator.check_language(code)


def default_per_example_path(dataset: Path, model: str) -> Path:
    """``<data>/evaluations/<dataset>-<model>-<time>.jsonl``."""
    import re

    from adcopy_desktop.paths import user_folders

    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe_model = re.sub(r"[^A-Za-z0-9._-]+", "_", model or "model")
    return user_folders().data / "evaluations" / f"{Path(dataset).stem}-{safe_model}-{stamp}.jsonl"


def evaluate_model(
    data: Path,
    *,
    model_id: str | None = None,
    store: Any = None,
    plugins: Any = None,
    kind: str = "description",
    language: str | None = None,
    limit: int | None = None,
    per_example_path: Path | None = None,
    zh_tokens: str | None = None,
    max_new_tokens: int | None = None,
    temperature: float = 0.0,
    seed: int = 0,
    style: Any = None,
    backend: str | None = None,
    provider: str = "auto",
    threads: int | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> EvalReport:
    """Evaluate a model of the store (default: the active one) on a dataset file: what
    ``adcopy eval``, the training gate and the benchmarks call. The per-example file defaults to
    ``default_per_example_path``."""
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.generation import CopyGenerator

    examples = read_dataset(Path(data), limit=limit)
    generator = CopyGenerator(store, model_id=model_id, provider=provider, threads=threads, backend=backend,
                              plugins=plugins)
    brand = generator.resolve_style(style)
    settings = GenerationSettings(n=1, temperature=temperature, seed=seed, max_new_tokens=max_new_tokens or 128)
    run = generator_function(generator, settings, style=brand, cancel=cancel,
                             budget_from_request=max_new_tokens is None)
    check_languages(generator, examples, kind, language)
    model = generator.model_id
    report = evaluate(
        examples, run, kind, progress, cancel, language=language, zh_tokens=zh_tokens,
        per_example_path=per_example_path or default_per_example_path(Path(data), model), model=model,
        settings={"temperature": temperature, "seed": seed, "max_new_tokens": max_new_tokens,
                  "style": brand.name if brand is not None else None, "backend": generator.backend_name},
    )
    report.dataset = str(data)
    return report


def score_example(example: EvalExample, kind: str, language: str, output: str, details: dict[str, Any],
                  tokenization: str, terms: Any = None) -> ExampleResult:
    terms = terms or load_terms()
    hyp = tokenize(output, language, tokenization)
    refs = [tokenize(reference, language, tokenization) for reference in example.references]
    stats = bleu_stats(refs, hyp)
    faithful = check_faithfulness(output, language, example.product.attributes)
    hits = terms.find(output, language)
    metrics = {
        "bleu4": round(bleu_from_stats(stats, "floor"), 4),
        "rouge1": round(rouge_n(refs, hyp, 1), 4),
        "rouge2": round(rouge_n(refs, hyp, 2), 4),
        "rougeL": round(rouge_l(refs, hyp), 4),
        "distinct1": round(distinct_n([hyp], 1), 4),
        "distinct2": round(distinct_n([hyp], 2), 4),
        "attribute_coverage": None if faithful.coverage is None else round(faithful.coverage, 4),
        # an empty output is neither: a model that writes nothing must not look faithful
        "faithful": float(bool(output.strip()) and not faithful.unsupported),
        "compliant": float(bool(output.strip()) and not any(h.severity == "error" for h in hits)),
        "empty": float(not output.strip()),
        "language_match": float(bool(output.strip()) and detect_language(output) == language),
        "output_tokens": len(hyp),
    }
    chatglm = chatglm_metrics(example.references[0], output) \
        if language == "zh" and example.references and jieba_available() else None
    for name, figure in CHATGLM_FIGURES.items():
        metrics[name] = None if chatglm is None else chatglm[figure]
    metrics["degenerate"] = float(is_degenerate(output, language))
    return ExampleResult(
        line=example.line, kind=kind, language=language, source=example.source, references=example.references,
        output=output, metrics=metrics, unsupported=[c.to_dict() for c in faithful.unsupported],
        violations=[h.to_dict() for h in hits if h.severity == "error"],
        warnings=[h.to_dict() for h in hits if h.severity != "error"],
        finish_reason=str(details.get("finish_reason", "")), seconds=float(details.get("seconds", 0.0)),
        new_tokens=int(details.get("new_tokens", 0) or 0),
    )


def aggregate(results: Sequence[ExampleResult], tokenization: str) -> dict[str, float | None]:
    if not results:
        return {name: None for name in METRIC_LABELS}
    refs, hyps = [], []
    total_stats = None
    for result in results:
        hyp = tokenize(result.output, result.language, tokenization)
        ref = [tokenize(reference, result.language, tokenization) for reference in result.references]
        hyps.append(hyp)
        refs.append(ref)
        stats = bleu_stats(ref, hyp)
        total_stats = stats if total_stats is None else total_stats + stats

    def mean(values: Iterable[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return round(sum(present) / len(present), 4) if present else None

    speeds = [r.new_tokens / r.seconds for r in results if r.seconds > 0 and r.new_tokens]
    return {
        "bleu4": round(bleu_from_stats(total_stats, "floor"), 4),
        "bleu4_sentence": mean(r.metrics["bleu4"] for r in results),
        "rouge1": mean(r.metrics["rouge1"] for r in results),
        "rouge2": mean(r.metrics["rouge2"] for r in results),
        "rougeL": mean(r.metrics["rougeL"] for r in results),
        "distinct1": round(distinct_n(hyps, 1), 4),
        "distinct2": round(distinct_n(hyps, 2), 4),
        "faithfulness_rate": mean(r.metrics["faithful"] for r in results),
        "attribute_coverage": mean(r.metrics["attribute_coverage"] for r in results),
        "compliance_rate": mean(r.metrics["compliant"] for r in results),
        "language_match_rate": mean(r.metrics["language_match"] for r in results),
        "empty_rate": mean(r.metrics["empty"] for r in results),
        "mean_output_tokens": mean(r.metrics["output_tokens"] for r in results),
        "tokens_per_s": round(sum(speeds) / len(speeds), 2) if speeds else None,
        **{name: mean(r.metrics.get(name) for r in results) for name in CHATGLM_FIGURES},
        "degenerate_rate": mean(r.metrics.get("degenerate") for r in results),
    }


def reference_report(dataset: Sequence[EvalExample] | Path, *, kind: str = "description",
                     zh_tokens: str | None = None) -> EvalReport:
    """The metrics of the references against themselves (an upper bound, and a check of the
    faithfulness and compliance scorers on human-written copy)."""

    def echo(example: EvalExample, kind: str, language: str) -> tuple[str, dict[str, Any]]:
        return example.references[0], {"finish_reason": "reference"}

    return evaluate(dataset, echo, kind, zh_tokens=zh_tokens, model="references")


def format_report(report: EvalReport) -> str:
    """The report as aligned text lines."""
    lines = [f"{report.examples} example(s) from {report.dataset}, model {report.model or '?'}, kind {report.kind}"
             + (" (cancelled)" if report.cancelled else "")]
    for name, label in METRIC_LABELS.items():
        value = report.metrics.get(name)
        shown = "-" if value is None else (f"{value:.4f}" if isinstance(value, float) and not math.isnan(value) else str(value))
        lines.append(f"  {label:34} {shown}")
    for code, metrics in report.by_language.items():
        parts = ", ".join(f"{n} {metrics[n]:.4f}" for n in ("bleu4", "rougeL", "faithfulness_rate", "compliance_rate")
                          if metrics.get(n) is not None)
        lines.append(f"  [{code}] {parts}")
    lines.append(f"  tokens: Chinese {report.tokenization['zh']}, English words; "
                 f"word list {report.term_list_version}; {report.seconds:.1f} s")
    if report.per_example_file:
        lines.append(f"  per-example results: {report.per_example_file}")
    return "\n".join(lines)
