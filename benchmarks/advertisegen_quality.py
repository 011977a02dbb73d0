"""Copy quality on AdvertiseGen: BLEU-4 / ROUGE on ChatGLM-6B's scale, invented facts, coverage,
compliance and degenerate outputs, for one or more generation set-ups side by side in one run.

    .venv/bin/python benchmarks/advertisegen_quality.py --data advertisegen_dev.jsonl \\
        --split test --setup plain --setup product --setup product-best4 --out result.json
    .venv/bin/python benchmarks/advertisegen_quality.py --data ... --write-train train.jsonl
                                         # the training lines, for adcopy train --data

AdvertiseGen (Shao et al. 2019) is research data: it is read from the path given, never shipped.
Lines are ``{"content": "类型#上衣*颜色#白色...", "summary": "..."}``. Splits are fixed by position
so that tuning, training and testing never share a line: ``test`` is the last 100 lines, ``train``
the ones before them, ``tune`` the first 40 of ``train`` (where the prompt, examples and decoding
settings were chosen).

Set-ups (``--setup``, repeatable):
- ``plain``: a one-line prompt ("根据以下商品属性写一段广告文案") and greedy decoding: the anchor
  that the published 0.5B zero-shot figures use.
- ``product``: what ``adcopy generate --kind description -n 1`` writes: the product's prompt
  templates and the model's default decoding settings.
- ``product-greedy``: the product's prompt, greedy.
- ``product-bestN``: N candidates with the product's prompt and settings, ranked by the scorers as
  ``adcopy generate --top 1`` does (faithfulness first among them), the best one kept.

Figures (per set-up, means over the examples):
- ``bleu-4``, ``rouge-1/2/l``: ChatGLM-6B's evaluation (sentence BLEU-4 on characters with NLTK
  smoothing method3, ROUGE F on jieba words), 0-100.
- ``invented``: share of outputs that state a colour, material, number or certification the
  product does not have (the faithfulness checker's unsupported claims of those kinds).
- ``coverage``: share of the product's attribute values the output reflects.
- ``compliant``: share without advertising-law violations; ``degenerate``: share that repeats
  itself; ``tokens_per_s`` and ``seconds`` per example.

It uses the model store of ``ADCOPY_HOME`` (or the test cache with ``--cache``) and the model given
by ``--model`` (default: the active one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TEST_LINES = 100
TUNE_LINES = 40
INVENTED_KINDS = ("colour", "material", "number", "certification")
PLAIN_PROMPT = "根据以下商品属性写一段广告文案：\n{content}"
PLAIN_PROMPT_EN = "Write an advertisement for a product with these attributes:\n{content}"


def read_lines(path: Path) -> list[dict]:
    rows = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip():
            row = json.loads(raw)
            if "prompt" in row:  # the English samples' prompt/completion form
                row = {"content": row["prompt"], "summary": row["completion"]}
            row["line"] = number
            rows.append(row)
    return rows


def split(rows: list[dict], name: str) -> list[dict]:
    if len(rows) <= TEST_LINES and name == "all":
        return rows
    train = rows[:-TEST_LINES]
    return {"test": rows[-TEST_LINES:], "train": train, "tune": train[:TUNE_LINES], "all": rows}[name]


def make_generator(model_id: str | None, threads: int | None):
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.model_store import ModelStore

    return CopyGenerator(ModelStore(), model_id=model_id, threads=threads)


def run_setup(generator, setup: str, row: dict, language: str, seed: int):
    """(output text, new tokens, seconds) for one example."""
    from dataclasses import replace

    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyRequest

    product = parse_product(row["content"])
    request = CopyRequest(product=product, kind="description", language=language)
    started = time.perf_counter()
    if setup == "plain":
        prompt = (PLAIN_PROMPT if language == "zh" else PLAIN_PROMPT_EN).format(content=row["content"])
        settings = GenerationSettings(n=1, temperature=0.0, repetition_penalty=1.0, max_new_tokens=256, seed=seed)
        [completion] = generator.plugins.run_backend(
            generator.backend_name, generator.backend, [{"role": "user", "content": prompt}], settings)
        text, tokens = completion.text.strip(), len(completion.token_ids or ())
        return text, tokens, time.perf_counter() - started
    defaults = generator.default_settings() if hasattr(generator, "default_settings") else GenerationSettings()
    if setup == "product":
        settings = replace(defaults, n=1, seed=seed)
        candidates = generator.generate(request, settings, score=False, max_new_tokens_from_request=True)
    elif setup == "product-greedy":
        settings = replace(defaults, n=1, temperature=0.0, seed=seed)
        candidates = generator.generate(request, settings, score=False, max_new_tokens_from_request=True)
    elif setup.startswith("product-best"):
        n = int(setup.removeprefix("product-best"))
        settings = replace(defaults, n=n, seed=seed)
        candidates = generator.generate(request, settings, top=1, max_new_tokens_from_request=True)
    else:
        raise SystemExit(f"unknown set-up {setup!r}")
    best = candidates[0]
    tokens = sum(c.timings.new_tokens for c in candidates) if setup.startswith("product-best") else best.timings.new_tokens
    return best.text, tokens, time.perf_counter() - started


def score(row: dict, output: str, language: str) -> dict:
    from adcopy_desktop.core.compliance import load_terms
    from adcopy_desktop.core.faithfulness import check_faithfulness
    from adcopy_desktop.core.metrics import chatglm_metrics, is_degenerate
    from adcopy_desktop.core.product import parse_product

    product = parse_product(row["content"])
    report = check_faithfulness(output, language, product.attributes)
    invented = [c for c in report.unsupported if c.kind in INVENTED_KINDS]
    hits = load_terms().find(output, language)
    figures = chatglm_metrics(row["summary"], output)
    return {
        **figures,
        "invented": float(bool(invented) or not output.strip()),
        "coverage": report.coverage,
        "compliant": float(bool(output.strip()) and not any(h.severity == "error" for h in hits)),
        "degenerate": float(is_degenerate(output)),
        "invented_claims": [f"{c.kind}:{c.text}" for c in invented],
    }


def summarise(results: list[dict]) -> dict:
    def mean(key):
        values = [r[key] for r in results if r.get(key) is not None]
        return round(statistics.fmean(values), 4) if values else None

    tokens = sum(r["tokens"] for r in results)
    seconds = sum(r["seconds"] for r in results)
    return {
        "examples": len(results),
        **{key: mean(key) for key in ("bleu-4", "rouge-1", "rouge-2", "rouge-l", "invented", "coverage",
                                      "compliant", "degenerate")},
        "tokens_per_s": round(tokens / seconds, 2) if seconds else None,
        "seconds_per_example": round(seconds / max(1, len(results)), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="AdvertiseGen jsonl (content/summary lines)")
    parser.add_argument("--split", choices=["tune", "test", "train", "all"], default="test")
    parser.add_argument("--limit", type=int, help="only the first N lines of the split")
    parser.add_argument("--setup", action="append", help="plain, product, product-greedy, product-bestN")
    parser.add_argument("--model", help="model id in the store (default: the active model)")
    parser.add_argument("--language", default="zh", choices=["zh", "en"])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", action="store_true", help="use the test cache's models (.adcopy-test-cache)")
    parser.add_argument("--out", type=Path, help="write summary + per-example outputs as JSON")
    parser.add_argument("--write-train", type=Path, help="write the train split as a jsonl file and stop")
    parser.add_argument("--rescore", type=Path, help="score the outputs of an earlier --out file again")
    args = parser.parse_args(argv)

    rows = read_lines(args.data)
    if args.rescore:
        report = json.loads(args.rescore.read_text(encoding="utf-8"))
        by_line = {r["line"]: r for r in rows}
        for setup, results in report["outputs"].items():
            for result in results:
                result.update(score(by_line[result["line"]], result["output"], args.language))
            report["setups"][setup] = summarise(results)
        print_table(report, args.split, len(report["lines"]))
        if args.out:
            args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        return 0
    if args.write_train:
        args.write_train.write_text(
            "".join(json.dumps({"content": r["content"], "summary": r["summary"]}, ensure_ascii=False) + "\n"
                    for r in split(rows, "train")), encoding="utf-8")
        print(f"wrote {len(split(rows, 'train'))} training lines to {args.write_train}")
        return 0
    if args.cache:
        os.environ.setdefault("ADCOPY_HOME", str(REPO / ".adcopy-test-cache" / "bench-home"))
        from adcopy_desktop.paths import user_folders

        models = user_folders().models
        if not models.exists():
            models.parent.mkdir(parents=True, exist_ok=True)
            models.symlink_to(REPO / ".adcopy-test-cache" / "models", target_is_directory=True)
    examples = split(rows, args.split)[: args.limit]
    generator = make_generator(args.model, args.threads)
    setups = args.setup or ["plain", "product"]
    report = {"model": generator.model_id, "split": args.split, "lines": [r["line"] for r in examples],
              "setups": {}, "outputs": {}}
    for setup in setups:
        results = []
        for position, row in enumerate(examples):
            text, tokens, seconds = run_setup(generator, setup, row, args.language, args.seed + position)
            figures = score(row, text, args.language)
            results.append({"line": row["line"], "output": text, "tokens": tokens, "seconds": seconds, **figures})
            print(f"[{setup}] {position + 1}/{len(examples)} line {row['line']}: bleu {figures['bleu-4']:.1f} "
                  f"rouge-l {figures['rouge-l']:.1f} invented {figures['invented_claims']} "
                  f"degenerate {bool(figures['degenerate'])}", file=sys.stderr, flush=True)
        report["setups"][setup] = summarise(results)
        report["outputs"][setup] = results
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print_table(report, args.split, len(examples))
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def print_table(report: dict, split_name: str, count: int) -> None:
    header = ["setup", "bleu-4", "rouge-1", "rouge-2", "rouge-l", "invented", "coverage", "compliant",
              "degenerate", "tokens_per_s", "seconds_per_example"]
    print(f"model {report['model']}, split {split_name}, {count} lines, peak RSS {report.get('peak_rss_mb')} MB")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for setup, figures in report["setups"].items():
        print("| " + " | ".join([setup] + [str(figures.get(key)) for key in header[1:]]) + " |")


if __name__ == "__main__":
    sys.exit(main())
