"""Which AdCopy this is: ``source`` (a checkout or pip install), or a frozen installer bundle,
``lite`` (generation only) or ``full`` (+ torch, transformers, peft, Optimum).

The bundles carry ``adcopy_desktop/edition.txt`` (written by packaging/adcopy.spec). Whether
training and model building can run is decided by what is importable, not by the name: a lite
bundle has no torch, so those features explain how to get the full edition instead of failing.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

LITE, FULL, SOURCE = "lite", "full", "source"
# what building models and training import (in their child processes)
TRAINING_MODULES = ("torch", "transformers", "peft", "optimum.exporters.onnx")

FULL_EDITION_MESSAGE = (
    "{what} needs the full edition of AdCopy Desktop (this is the lite edition: writing copy only, "
    "without torch). Install the full edition (AdCopy-Full installer or adcopy-full .deb/AppImage) over "
    "this one: your library, settings and models stay where they are."
)


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def edition() -> str:
    marker = Path(__file__).resolve().parent / "edition.txt"
    try:
        name = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return SOURCE
    return name if name in (LITE, FULL) else SOURCE


def missing_modules(names=TRAINING_MODULES) -> list[str]:
    missing = []
    for name in names:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ModuleNotFoundError, ValueError):
            missing.append(name)
    return missing


def needs_full_edition(missing: list[str]) -> bool:
    """True when the fix for ``missing`` modules is the full edition, not a pip install."""
    return bool(missing) and (frozen() or edition() == LITE)


@functools.lru_cache(maxsize=1)
def training_needs_full_edition() -> bool:
    """True in an installer bundle without the training stack (checked once; a source install
    answers False at once, without looking for torch, so the window never pays for the check)."""
    if not (frozen() or edition() == LITE):
        return False
    return bool(missing_modules(("torch", "transformers", "peft")))


def full_edition_message(what: str) -> str:
    return FULL_EDITION_MESSAGE.format(what=what)
