"""Fine-tune the default model on 200 accepted copies: wall time, peak memory, held-out metrics.

    .venv/bin/python benchmarks/train_default_model.py                 # LoRA defaults, this machine
    .venv/bin/python benchmarks/train_default_model.py --copies 200 --format json --out result.json

In a fresh ADCOPY_HOME (a temporary folder) it builds a library of ``--copies`` products, each with
one generated candidate that the user edited into the brand's house copy and accepted. The house
copy follows a fixed pattern and ends with the sign-off " -- Qingshan Studio", so "did it learn the
brand" is measurable: the share of held-out outputs that end with the sign-off. The default model
comes from the test cache (``.adcopy-test-cache/models``, built by the slow tests or ``adcopy models
build``), hard-linked into the temporary models folder, so the run never writes into the cache.
It then runs ``run_training`` with the default TrainingConfig and reports wall time, the training
child's peak RSS, this process's peak RSS (the gate loads both ONNX models), the old and new held-out
metrics and the gate's decision.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIGN_OFF = " -- Qingshan Studio"
MODEL_ID = "qwen2.5-coder-0.5b-instruct"  # the default (catalog.DEFAULT_MODEL_ID); --model picks another
TYPES = ["denim jacket", "t-shirt", "hoodie", "linen shirt", "wool scarf", "canvas tote", "rain jacket", "knit sweater",
         "chino trousers", "leather belt"]
COLORS = ["white", "navy", "black", "olive", "grey", "sand", "burgundy", "sky blue", "forest green", "charcoal"]
MATERIALS = ["organic cotton", "recycled polyester", "merino wool", "linen", "cotton twill"]
FITS = ["relaxed", "slim", "regular", "oversized"]


def products(count: int):
    seen = 0
    for index in range(10_000):
        kind = TYPES[index % len(TYPES)]
        color = COLORS[(index // len(TYPES)) % len(COLORS)]
        material = MATERIALS[(index // 7) % len(MATERIALS)]
        fit = FITS[(index // 3) % len(FITS)]
        yield kind, color, material, fit
        seen += 1
        if seen >= count:
            return


def house_copy(kind: str, color: str, material: str, fit: str) -> str:
    return (f"Meet the {color} {kind}: {material}, a {fit} fit, made to be worn every day and kept for years."
            f"{SIGN_OFF}")


def fill_library(library, count: int, model_id: str = MODEL_ID) -> None:
    from adcopy_desktop.core.candidates import Candidate, GenerationSettings
    from adcopy_desktop.core.product import Product

    for kind, color, material, fit in products(count):
        product = Product.from_attributes([("Type", kind), ("Color", color), ("Material", material), ("Fit", fit)])
        product.name = f"{color} {kind}"
        product_id = library.add_product(product)
        generated = f"This {color} {kind} is made of {material}. It has a {fit} fit."
        [candidate_id] = library.record_generation(product_id, [Candidate(
            text=generated, kind="description", model=model_id, language="en", index=0,
            finish_reason="eos", settings=GenerationSettings(n=1),
        )], length="short")
        library.edit(candidate_id, house_copy(kind, color, material, fit))
        library.decide(candidate_id, "accepted")


def link_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, copy_function=os.link)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--cache", type=Path, default=REPO / ".adcopy-test-cache" / "models")
    parser.add_argument("--model", default=MODEL_ID, help="model id in the cache (default: the default model)")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    parser.add_argument("--max-steps", type=int, help="stop training after this many steps (a shorter run)")
    parser.add_argument("--gate-examples", type=int, help="held-out products the gate generates for (default: the config's)")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="adcopy-train-bench-"))
    os.environ["ADCOPY_HOME"] = str(home)
    os.environ.setdefault("ADCOPY_PLUGINS", "")
    sys.path.insert(0, str(REPO))
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.training.config import TrainingConfig
    from adcopy_desktop.core.training.pipeline import run_training
    from adcopy_desktop.paths import user_folders

    models = user_folders().models
    models.mkdir(parents=True)
    default = args.cache / args.model
    if not (default / "manifest.json").is_file():
        print(f"No model {args.model} in {args.cache}; build it with: adcopy models build --model {args.model}",
              file=sys.stderr)
        return 2
    link_tree(default, models / default.name)
    store = ModelStore(models)
    store.set_active(default.name)
    library = Library()
    fill_library(library, args.copies, args.model)
    config = TrainingConfig(max_steps=args.max_steps)
    if args.gate_examples:
        config.gate_max_examples = args.gate_examples
    events: list[str] = []

    def progress(event) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {event.stage}: {event.message}"
        events.append(line)
        print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        outcome = run_training(config, store=store, library=library, progress=progress)
    finally:
        library.close()
    wall = time.monotonic() - started
    samples = outcome.samples
    sign = SIGN_OFF.strip()
    result = {
        "copies": args.copies,
        "machine": {"cpus": os.cpu_count(), "platform": sys.platform},
        "config": config.to_dict(),
        "wall_seconds": round(wall, 1),
        "train_seconds": outcome.training.get("train_seconds"),
        "export_seconds": outcome.training.get("export_seconds"),
        "child_seconds": outcome.training.get("seconds"),
        "steps": (outcome.training.get("supervised") or {}).get("steps"),
        "seconds_per_step": round(outcome.training["train_seconds"] / max(1, (outcome.training.get("supervised") or {}).get("steps") or 1), 2),
        "planned_steps_without_max_steps": -(-outcome.examples // config.batch_size) * config.epochs,
        "device": outcome.training.get("device"),
        "trainable_parameters": outcome.training.get("trainable_parameters"),
        "child_peak_rss_mb": outcome.training.get("peak_rss_mb"),
        "parent_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "examples": outcome.examples, "held_out": outcome.held_out,
        "old": outcome.old_metrics, "new": outcome.new_metrics,
        "sign_off_rate_old": round(sum(s["old"].endswith(sign) for s in samples) / max(1, len(samples)), 3),
        "sign_off_rate_new": round(sum(s["new"].endswith(sign) for s in samples) / max(1, len(samples)), 3),
        "decision": outcome.gate.get("decision"), "reasons": outcome.gate.get("reasons"),
        "sample": samples[:2],
    }
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.format == "json":
        print(text)
    else:
        print(f"wall {result['wall_seconds']} s (training {result['train_seconds']} s, {result['steps']} steps, export "
              f"{result['export_seconds']} s); child peak RSS {result['child_peak_rss_mb']} MB")
        for name in ("heldout_loss", "rouge_l", "bleu", "compliance_rate", "empty_rate"):
            print(f"{name:16} {result['old'].get(name)!s:>10} -> {result['new'].get(name)!s:>10}")
        print(f"sign-off rate    {result['sign_off_rate_old']} -> {result['sign_off_rate_new']}; gate {result['decision']}")
    shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
