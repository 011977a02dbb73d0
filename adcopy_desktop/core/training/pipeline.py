"""One training run, end to end: data -> training child -> evaluation gate -> new version or none.

The torch work runs in a child process (``core/training/trainer.py``), so a crash or running out
of memory there cannot take the app down, and generation keeps using the current model meanwhile.
The gate runs here: the old and the new ONNX model each write greedy copy for the held-out prompts
through the project's runtime, each in a child process of its own (``core/training/heldout.py``), so
the app never parses their tokenizers or holds both models; ROUGE-L/BLEU against the accepted copy, compliance and forbidden-word
rates come from the existing evaluation code, per example, so the gate (``core/training/gate.py``)
compares the two models pair by pair. Only a new model the gate accepts is committed as a version
(and made active); when it refuses, or there is not enough held-out copy to tell, the staging
folder is discarded.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from adcopy_desktop.core.activity import activity_folder
from adcopy_desktop.core.child_events import pump_lines
from adcopy_desktop.core.errors import Cancelled
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from adcopy_desktop.core.training.config import TrainingConfig, TrainingError
from adcopy_desktop.core.training.data import (
    Example,
    TrainingData,
    file_data,
    generator_prompt_builder,
    library_data,
    require_enough,
)
from adcopy_desktop.core.training.gate import GateDecision, decide
from adcopy_desktop.core.training.manners import claim, low_priority, sweep_stale_work
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.training")

HELDOUT_MODULE = "adcopy_desktop.core.training.heldout"
TRAINER_MODULE = "adcopy_desktop.core.training.trainer"
TRAINING_EXTRAS = ("torch", "transformers", "peft", "optimum.exporters.onnx")
CHECKPOINT_MAX_AGE_S = 7 * 24 * 3600.0
CANCEL_GRACE_S = 30.0  # a step (or the ONNX export) in flight may finish; then the child is killed
# where the child's own fractions land in the whole run
TRAIN_SPAN = (0.02, 0.80)


@dataclass(frozen=True)
class TrainingProgress(ProgressEvent):
    """A "train" progress event with its figures, for a GUI that draws them."""

    step: int = 0
    total: int = 0
    loss: float | None = None
    heldout_loss: float | None = None
    eta_s: float | None = None
    phase: str = "supervised"  # supervised | preference


@dataclass
class TrainingOutcome:
    accepted: bool
    reason: str
    version: Any  # ModelInfo of the new version when accepted
    old_metrics: dict[str, Any]
    new_metrics: dict[str, Any]
    examples: int
    held_out: int
    pairs: int
    seconds: float
    parent: str = ""
    style: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)  # held-out prompt, reference, old, new
    warnings: list[str] = field(default_factory=list)
    decision: str = ""  # the gate's answer: accepted | refused | not_enough
    needed_examples: int | None = None  # not_enough: held-out examples the gate would need in all
    more_copies: int | None = None  # not_enough: about how many more accepted copies that takes

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = self.version.to_dict() if hasattr(self.version, "to_dict") else None
        return data


def run_training(
    config: TrainingConfig,
    *,
    store: Any,
    library: Any = None,
    data_file: Path | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    plugins: Any = None,
    threads: int | None = None,
) -> TrainingOutcome:
    """Train the active model (that style's, with ``config.style``) on the library's accepted copy
    or on ``data_file``; commit the result as a new active version only if the gate accepts it."""
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.runtime.tokenizer import ChatTokenizer

    config.validate()
    started = time.monotonic()
    cancel = cancel or CancelToken()
    if library is None and data_file is None:
        raise TrainingError("Nothing to train on: give the library or a dataset file (--data).")
    require_training_extras()
    parent = _active_model(store, config.style)
    if parent.problem:
        raise TrainingError(f"The active model {parent.id} cannot be trained: {parent.problem}")
    # an adapter version trains on its base's weights with its own adapter added
    weights_folder = parent.runtime_folder.parent if parent.adapter else parent.folder
    weights_catalog = _catalog_weights(weights_folder)
    if not (weights_folder / "hf").is_dir() and weights_catalog is None:
        raise TrainingError(
            f"The model {parent.id} has no hf/ weights folder to fine-tune. Rebuild or re-import it "
            "(adcopy models build / adcopy models import), then train again."
        )

    progress(ProgressEvent("data", "Collecting training examples", 0.0))
    special = ChatTokenizer.from_folder(parent.runtime_folder).special_token_strings
    generator = CopyGenerator(store, model_id=parent.id, plugins=plugins)
    builder = generator_prompt_builder(generator, special)
    if data_file is not None:
        data = file_data(Path(data_file), holdout_share=config.holdout_share, style=config.style,
                         prompt_builder=builder)
    else:
        data = library_data(library, style=config.style, holdout_share=config.holdout_share,
                            prompt_builder=builder)
    require_enough(data)
    progress(ProgressEvent(
        "data", f"{len(data.train)} examples to train on, {len(data.heldout)} held out, {len(data.pairs)} "
        f"preference pairs ({data.source})", TRAIN_SPAN[0],
    ))

    staging = _new_staging(store, parent.id)
    sweep_stale_work(_work_root(), prefix="training-")
    work = Path(tempfile.mkdtemp(prefix="training-", dir=_work_root()))
    claim(work)
    fingerprint = run_fingerprint(config, data, parent.id)
    checkpoints = _checkpoint_folder(fingerprint)
    committed, keep_checkpoint = False, True
    try:
        data_path = work / "data.json"
        weights_gguf = None
        if not (weights_folder / "hf").is_dir():
            # a catalog base keeps no float copy on disk: its packages give the weights again
            from adcopy_desktop.core.model_store.catalog import assemble

            progress(ProgressEvent("data", f"Checking the weights of {weights_catalog.name} from its packages",
                                   TRAIN_SPAN[0]))
            weights_gguf = str(assemble(weights_catalog, work / "weights"))
        data_path.write_text(json.dumps(
            {"config": config.to_dict(), "precision": _precision(parent), "base_id": parent.lineage,
             "base_onnx": str(parent.runtime_folder),
             "parent_adapter": str(parent.adapter_folder) if parent.adapter_folder else None,
             "weights_gguf": weights_gguf, "fingerprint": fingerprint,
             **data.for_child()}, ensure_ascii=False
        ), encoding="utf-8")
        result = run_trainer(weights_folder, data_path, staging, work / "cancel", progress, cancel, store.root,
                             parent.id, checkpoints)
        keep_checkpoint = False  # the run finished: a later one starts afresh
        new_runtime, new_adapter = (staging / "onnx", None)
        if (staging / "adapter").is_dir() and not (staging / "onnx").exists():
            new_runtime, new_adapter = parent.runtime_folder, staging / "adapter"
        if cancel.cancelled:
            raise Cancelled("Training was cancelled; the active model is unchanged.")

        progress(ProgressEvent("gate", f"Comparing the old and new model on {min(len(data.heldout), config.gate_max_examples)} "
                               "held-out products", 0.8))
        old_metrics, new_metrics, samples = gate_metrics(
            data.heldout[: config.gate_max_examples], parent.runtime_folder, new_runtime,
            result.get("heldout_loss_old"), result.get("heldout_loss_new"), config, plugins=generator.plugins,
            progress=progress, cancel=cancel, threads=threads, old_adapter=parent.adapter_folder,
            new_adapter=new_adapter,
        )
        if cancel.cancelled:
            raise Cancelled("Training was cancelled; the active model is unchanged.")
        decision = decide(old_metrics, new_metrics, config.gate_margin, confidence=config.gate_confidence,
                          resamples=config.gate_resamples, seed=config.seed, holdout_share=config.holdout_share,
                          available=len(data.heldout), max_examples=config.gate_max_examples)
        gate = {"old": old_metrics, "new": new_metrics, "margin": config.gate_margin,
                "decision": decision.decision, "reasons": decision.reasons, "comparisons": decision.comparisons,
                "intervals": decision.intervals, "confidence": decision.confidence,
                "needed_examples": decision.needed_examples, "more_copies": decision.more_copies,
                "held_out_examples": len(samples)}
        training = {**result.get("training", {}), "data": data.counts(), "data_source": data.source,
                    "export_check": result.get("export_check", {})}
        version = None
        if decision.accepted:
            progress(ProgressEvent("swap", "The new model is better: making it the active version", 0.97))
            version = _commit(store, staging, parent, training, gate, config.style)
            committed = True
            reason = "accepted: " + decision.summary()
        elif decision.decision == "not_enough":
            reason = "not enough held-out copy to tell, the current model stays: " + decision.summary()
        else:
            reason = "refused, the current model stays: " + decision.summary()
        if library is not None and data_file is None:
            from adcopy_desktop.core.training.auto import record_training_point

            record_training_point(library)
        outcome = TrainingOutcome(
            accepted=decision.accepted, reason=reason, version=version, old_metrics=old_metrics,
            new_metrics=new_metrics, examples=len(data.train), held_out=len(data.heldout), pairs=len(data.pairs),
            seconds=round(time.monotonic() - started, 1), parent=parent.id, style=config.style,
            training=training, gate=gate, samples=samples, warnings=data.warnings, decision=decision.decision,
            needed_examples=decision.needed_examples, more_copies=decision.more_copies,
        )
        progress(ProgressEvent("done", reason, 1.0))
        return outcome
    except Cancelled:
        keep_checkpoint = False  # the user stopped it: nothing to resume
        raise
    finally:
        if not committed:
            _discard(store, staging)
        shutil.rmtree(work, ignore_errors=True)
        if not keep_checkpoint:
            shutil.rmtree(checkpoints, ignore_errors=True)


# -- the child process ------------------------------------------------------------------------------


def run_trainer(
    base: Path,
    data_path: Path,
    staging: Path,
    cancel_file: Path,
    progress: ProgressCallback,
    cancel: CancelToken,
    models_root: Path,
    model_id: str,
    checkpoint_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the training child, relay its progress, and return its metadata (like ``run_builder``).
    The child runs at low priority, waits while the user generates, and checkpoints into
    ``checkpoint_dir`` so that a run killed with the app resumes there next time."""
    (staging / ".owner").write_text(str(os.getpid()))
    log_folder = Path(models_root).parent / "logs"
    log_folder.mkdir(parents=True, exist_ok=True)
    log_path = log_folder / f"train-{model_id}.log"
    command = [
        sys.executable, "-m", TRAINER_MODULE, "--base", str(base), "--data", str(data_path),
        "--out", str(staging), "--cancel-file", str(cancel_file), "--activity-dir", str(activity_folder()),
    ] + (["--checkpoint-dir", str(checkpoint_dir)] if checkpoint_dir is not None else [])
    low, high = TRAIN_SPAN
    with log_path.open("w", encoding="utf-8") as log_file:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL, text=True,
            encoding="utf-8", env={**os.environ, "PYTHONUNBUFFERED": "1"}, **low_priority(),
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=pump_lines, args=(child.stdout, lines), daemon=True).start()
        result: dict[str, Any] | None = None
        error: str | None = None
        cancel_sent: float | None = None
        try:
            while True:
                if cancel.cancelled and cancel_sent is None:
                    cancel_file.touch()
                    cancel_sent = time.monotonic()
                    progress(ProgressEvent("train", "Cancelling after the current step", None))
                if cancel_sent is not None and time.monotonic() - cancel_sent > CANCEL_GRACE_S:
                    child.kill()
                    break
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    continue
                if line is None:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    continue  # a library printing to stdout; the log has it
                event = message.get("event")
                if event == "progress":
                    fraction = message.get("fraction")
                    overall = None if fraction is None else low + (high - low) * float(fraction)
                    stage = message.get("stage", "train")
                    if stage in ("train", "preference") and "step" in message:
                        progress(TrainingProgress(
                            "train", message["message"], overall, step=int(message["step"]),
                            total=int(message["total"]), loss=message.get("loss"),
                            heldout_loss=message.get("heldout_loss"), eta_s=message.get("eta_s"),
                            phase="preference" if stage == "preference" else "supervised",
                        ))
                    else:
                        progress(ProgressEvent("train" if stage in ("load", "preference") else stage,
                                               message["message"], overall))
                elif event == "error":
                    error = message["message"]
                elif event == "done":
                    result = message["metadata"]
        finally:
            if child.poll() is None and (cancel.cancelled or result is None):
                try:
                    child.wait(timeout=CANCEL_GRACE_S if cancel.cancelled else 5)
                except subprocess.TimeoutExpired:
                    child.kill()
            code = child.wait()
    if cancel.cancelled:
        raise Cancelled("Training was cancelled; the active model is unchanged.")
    if result is None or code != 0:
        if error is None and code is not None and code < 0:
            error = (f"the training process was killed (signal {-code}); it may have run out of memory. "
                     "Lower the batch size or max_length")
        detail = error or f"the training process exited with code {code}"
        raise TrainingError(f"Training did not finish: {detail}. The active model is unchanged. "
                            f"Details are in {log_path}.")
    return result



# -- the gate's figures ------------------------------------------------------------------------------


def gate_metrics(
    heldout: list[Example],
    old_folder: Path,
    new_folder: Path,
    old_loss: float | None,
    new_loss: float | None,
    config: TrainingConfig,
    *,
    plugins: Any = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    threads: int | None = None,
    old_adapter: Path | None = None,
    new_adapter: Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Both models' metrics on the held-out examples, and the examples with both outputs."""
    old_outputs = generate_outputs(old_folder, heldout, config, cancel=cancel, threads=threads, parent=True,
                                   adapter=old_adapter,
                                   report=lambda i: progress(ProgressEvent(
                                       "gate", f"Old model: held-out product {i}/{len(heldout)}",
                                       0.8 + 0.08 * i / max(1, len(heldout)))))
    new_outputs = generate_outputs(new_folder, heldout, config, cancel=cancel, threads=threads, adapter=new_adapter,
                                   report=lambda i: progress(ProgressEvent(
                                       "gate", f"New model: held-out product {i}/{len(heldout)}",
                                       0.88 + 0.08 * i / max(1, len(heldout)))))
    old = copy_metrics(heldout, old_outputs, plugins=plugins)
    new = copy_metrics(heldout, new_outputs, plugins=plugins)
    old["heldout_loss"], new["heldout_loss"] = old_loss, new_loss
    samples = [
        {"origin": example.origin, "kind": example.kind, "language": example.language, "style": example.style,
         "reference": example.completion, "old": before, "new": after}
        for example, before, after in zip(heldout, old_outputs, new_outputs)
    ]
    return old, new, samples


def generate_outputs(
    folder: Path,
    examples: list[Example],
    config: TrainingConfig,
    *,
    cancel: CancelToken | None = None,
    threads: int | None = None,
    report: Callable[[int], None] = lambda i: None,
    parent: bool = False,
    adapter: Path | None = None,
) -> list[str]:
    """Greedy copy for each example's prompt from the ONNX model in ``folder``, written by a child
    process (``core/training/heldout.py``) so the app never loads the gate's models itself.
    ``parent``: the model trained from, which reads its own prompt (``Example.parent_messages``)."""
    with tempfile.TemporaryDirectory(prefix="heldout-", dir=_work_root()) as work:
        data_path = Path(work) / "examples.json"
        data_path.write_text(json.dumps({
            "examples": [{"messages": (e.parent_messages or e.messages) if parent else e.messages,
                          "completion": e.completion, "kind": e.kind} for e in examples],
            "max_new_tokens": config.gate_max_new_tokens, "threads": threads,
        }, ensure_ascii=False), encoding="utf-8")
        log_path = Path(work) / "stderr.log"
        with log_path.open("w+", encoding="utf-8") as log_file:
            command = [sys.executable, "-m", HELDOUT_MODULE, "--folder", str(folder), "--data", str(data_path)]
            if adapter is not None:
                command += ["--adapter", str(adapter)]
            child = subprocess.Popen(
                command, **low_priority(),
                stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL, text=True, encoding="utf-8",
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=pump_lines, args=(child.stdout, lines), daemon=True).start()
            outputs: list[str] | None = None
            error: str | None = None
            while True:
                if cancel is not None and cancel.cancelled:
                    child.kill()
                    child.wait()
                    return []
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    continue
                if line is None:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if message.get("event") == "progress":
                    report(int(message["done"]))
                elif message.get("event") == "error":
                    error = message.get("message")
                elif message.get("event") == "done":
                    outputs = list(message["outputs"])
            code = child.wait()
            if outputs is None or code != 0:
                log_file.seek(0)
                tail = log_file.read()[-1500:]
                detail = error or f"exit code {code}"
                raise TrainingError(f"The held-out comparison could not run the model in {folder}: {detail}. "
                                    f"The active model is unchanged.\n{tail}".rstrip())
    return outputs


def copy_metrics(examples: list[Example], outputs: list[str], *, plugins: Any = None) -> dict[str, Any]:
    """ROUGE-L, BLEU, compliance, faithfulness and empty rates (``core/evaluation``), and the share
    of outputs with a word their brand style forbids. ``per_example`` keeps each example's ROUGE-L
    and (smoothed sentence) BLEU-4, in the examples' order, for the gate's paired comparison."""
    from adcopy_desktop.core.compliance import load_terms
    from adcopy_desktop.core.evaluation import EvalExample, aggregate, score_example
    from adcopy_desktop.core.metrics import zh_tokenization
    from adcopy_desktop.core.product import Product

    tokenization = zh_tokenization()
    terms = load_terms()
    results = []
    forbidden: list[float] = []
    styles: dict[str, Any] = {}
    for number, (example, output) in enumerate(zip(examples, outputs), start=1):
        product = Product.from_dict(example.product) if example.product else Product.from_attributes([])
        evaluated = EvalExample(number, product, [example.completion], "training", example.kind, example.language)
        results.append(score_example(evaluated, example.kind, example.language, output, {}, tokenization, terms))
        if example.style:
            brand = styles.get(example.style) or _style(example.style, plugins)
            styles[example.style] = brand
            if brand is not None:
                forbidden.append(float(bool(brand.forbidden_hits(output, example.language))))
    summary = aggregate(results, tokenization)
    return {
        "rouge_l": summary.get("rougeL"),
        "bleu": summary.get("bleu4"),
        "compliance_rate": summary.get("compliance_rate"),
        "forbidden_rate": round(sum(forbidden) / len(forbidden), 4) if forbidden else None,
        "faithfulness_rate": summary.get("faithfulness_rate"),
        "empty_rate": summary.get("empty_rate"),
        "examples": len(results),
        "tokenization": tokenization,
        "per_example": {
            "rouge_l": [r.metrics["rougeL"] for r in results],
            "bleu": [r.metrics["bleu4"] for r in results],
        },
    }


def _style(name: str, plugins: Any):
    from adcopy_desktop.core.errors import AdCopyError
    from adcopy_desktop.core.plugins import get_plugin_manager

    try:
        return (plugins or get_plugin_manager()).style(name)
    except AdCopyError:
        return None


# -- the model store's side (core/model_store owns versions) -----------------------------------------


def _active_model(store: Any, style: str | None):
    if style is not None:
        try:
            return store.active_model(style=style)
        except TypeError:  # a store without per-style pointers
            pass
    return store.active_model()


def _catalog_weights(folder: Path):
    """The catalog model whose packages hold this built model's weights, if it is one."""
    from adcopy_desktop.core.model_store.catalog import catalog_model
    from adcopy_desktop.core.model_store.manifest import read_manifest

    try:
        entry = read_manifest(folder).get("catalog") or {}
        return catalog_model(entry["id"]) if isinstance(entry, dict) and entry.get("id") else None
    except Exception:  # not a catalog model (or no manifest): it needs its own hf/ folder
        return None


def _precision(parent: Any) -> str:
    from adcopy_desktop.core.model_store.manifest import read_manifest

    try:
        return str(read_manifest(parent.folder).get("precision") or "fp32")
    except Exception:  # a manifest problem shows up when the parent is loaded, not here
        return "fp32"


def _new_staging(store: Any, parent_id: str) -> Path:
    if hasattr(store, "new_version_staging"):
        staging = Path(store.new_version_staging(parent_id))
    else:
        store.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".build-{parent_id}-train-", dir=store.root))
    (staging / ".owner").write_text(str(os.getpid()))
    return staging


def _discard(store: Any, staging: Path) -> None:
    if hasattr(store, "discard_staging"):
        try:
            store.discard_staging(staging)
            return
        except Exception as exc:  # never let clean-up hide the real outcome
            log.warning("could not discard %s: %s", staging, exc)
    shutil.rmtree(staging, ignore_errors=True)


def _commit(store: Any, staging: Path, parent: Any, training: dict[str, Any], gate: dict[str, Any],
            style: str | None):
    # the staging folder keeps this process's owner file: commit_version takes it over as it is
    return store.commit_version(
        staging, parent_id=parent.id, metadata={"training": training, "evaluation": gate}, style=style,
        activate=True,
    )


def run_fingerprint(config: TrainingConfig, data: TrainingData, parent_id: str) -> str:
    """Names a run by what it trains on and how: the same run after a crash finds its checkpoint."""
    import hashlib

    payload = json.dumps({"config": config.to_dict(), "parent": parent_id, **data.for_child()},
                         ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def _checkpoint_folder(fingerprint: str) -> Path:
    root = _work_root() / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - CHECKPOINT_MAX_AGE_S
    for old in root.iterdir():  # runs that were never resumed
        try:
            if old.name != fingerprint and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return root / fingerprint


def _work_root() -> Path:
    root = user_folders().cache / "training"
    root.mkdir(parents=True, exist_ok=True)
    return root


def require_training_extras() -> None:
    import importlib.util

    def present(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            return False

    missing = [name for name in TRAINING_EXTRAS if not present(name)]
    from adcopy_desktop.edition import full_edition_message, needs_full_edition

    if needs_full_edition(missing):  # a lite installer bundle: no pip to run
        raise TrainingError(full_edition_message("Training"))
    if missing:
        raise TrainingError(
            "Training needs the build extras (" + ", ".join(missing) + " missing). Install them with the "
            "set-up script (scripts/run.sh) or: pip install -c requirements/constraints.txt 'adcopy-desktop[build]'"
        )


__all__ = ["GateDecision", "TrainingData", "TrainingOutcome", "TrainingProgress", "run_training"]
