"""Inspecting model sources before building: cheap checks that run without torch.

Everything here reads only small files (config.json, GGUF headers through the ``gguf`` package when
present) so a bad source is refused in a second with a message that says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from adcopy_desktop.core.errors import ModelError

# Decoder architectures that Optimum exports with a KV cache and that the runtime's decoding loop
# drives (separate key/value tensors per layer, standard position ids).
SUPPORTED_ARCHITECTURES = {
    "llama": "Llama (SmolLM2, Llama 2/3, TinyLlama, ...)",
    "mistral": "Mistral",
    "qwen2": "Qwen2 / Qwen2.5",
    "qwen3": "Qwen3",
    "gemma": "Gemma",
    "granite": "Granite",
    "phi3": "Phi-3",
    "olmo": "OLMo",
    "smollm3": "SmolLM3",
}

PICKLE_WEIGHT_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "default", "gguf" or "hf"
    path: Path  # a folder for "hf", the .gguf file for "gguf" and "default"
    architecture: str | None = None
    display_name: str = ""


def supported_architectures_text() -> str:
    return ", ".join(f"{key} ({label})" for key, label in SUPPORTED_ARCHITECTURES.items())


def check_architecture(architecture: str | None, where: str) -> str:
    if not architecture:
        raise ModelError(f"{where} does not say which architecture it is (no model_type).")
    if architecture not in SUPPORTED_ARCHITECTURES:
        raise ModelError(
            f"{where} is a '{architecture}' model, which AdCopy cannot run yet. "
            f"Supported architectures: {supported_architectures_text()}."
        )
    return architecture


def inspect_source(path: Path) -> ModelSource:
    """Classify and check a user-given model path; raise ModelError explaining any refusal."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"{path} does not exist. Give a Hugging Face model folder or a .gguf file.")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            if path.suffix.lower() in PICKLE_WEIGHT_SUFFIXES:
                raise ModelError(_pickle_refusal(path))
            raise ModelError(
                f"{path.name} is not a model AdCopy can import: give a Hugging Face model folder "
                "(config.json + *.safetensors) or a single .gguf file."
            )
        return ModelSource("gguf", path, gguf_architecture(path), path.stem)
    config_path = path / "config.json"
    if not config_path.is_file():
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return inspect_source(ggufs[0])
        raise ModelError(
            f"{path} has no config.json: it is not a Hugging Face model folder. "
            "Give the folder that holds config.json and the *.safetensors weights, or a .gguf file."
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{config_path} cannot be read as JSON ({exc}).") from None
    if not any(path.glob("*.safetensors")):
        if any(p.suffix.lower() in PICKLE_WEIGHT_SUFFIXES for p in path.iterdir()):
            raise ModelError(_pickle_refusal(path))
        raise ModelError(f"{path} has no *.safetensors weights.")
    if not (path / "tokenizer.json").is_file():
        raise ModelError(
            f"{path} has no tokenizer.json (a fast tokenizer). Save the tokenizer with a recent "
            "transformers (tokenizer.save_pretrained) into the same folder and import again."
        )
    architecture = check_architecture(config.get("model_type"), f"The model in {path}")
    return ModelSource("hf", path, architecture, path.name)


def gguf_architecture(path: Path) -> str:
    try:
        from gguf import GGUFReader
    except ImportError:
        return ""  # the builder checks again once the build extras are present
    try:
        reader = GGUFReader(str(path))
        field = reader.fields["general.architecture"]
        value = bytes(field.parts[field.data[0]]).decode("utf-8")
    except Exception as exc:  # any parse failure means the file is not a usable GGUF
        raise ModelError(f"{path} is not a readable GGUF file ({exc}).") from None
    return check_architecture(value, f"The GGUF file {path.name}")


def _pickle_refusal(path: Path) -> str:
    return (
        f"{path} holds only pickle weights (.bin/.pt/.ckpt). Pickle files can run arbitrary code "
        "when loaded, so AdCopy refuses them. Convert the model to safetensors first (for example "
        "with transformers: model.save_pretrained(folder, safe_serialization=True)) and import "
        "that folder."
    )
