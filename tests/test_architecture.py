"""Rules the layout depends on: a Qt-free core and a torch-free generation path."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import adcopy_desktop.core

CORE = Path(adcopy_desktop.core.__file__).parent
# Modules that deliberately run torch/Optimum, always in a child process of their own.
HEAVY_CHILD_PROCESS_MODULES = {"adcopy_desktop.core.model_store.builder"}


def core_modules() -> list[str]:
    names = ["adcopy_desktop.core"]
    for module in pkgutil.walk_packages([str(CORE)], prefix="adcopy_desktop.core."):
        names.append(module.name)
    return sorted(set(names) - HEAVY_CHILD_PROCESS_MODULES)


def modules_loaded_after_importing(names: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_core_has_modules_to_check():
    names = core_modules()
    assert "adcopy_desktop.core.generation" in names
    assert "adcopy_desktop.core.runtime.decoder" in names


def test_core_imports_no_qt_and_no_training_stack():
    loaded = modules_loaded_after_importing(core_modules() + ["adcopy_desktop.cli"])
    forbidden = {"PySide6", "torch", "transformers", "optimum", "peft"}
    assert not {name.split(".")[0] for name in loaded} & forbidden


def test_no_core_source_file_mentions_qt():
    offenders = [
        str(path.relative_to(CORE))
        for path in CORE.rglob("*.py")
        if any(line.lstrip().startswith(("import PySide6", "from PySide6")) for line in path.read_text().splitlines())
    ]
    assert offenders == []
