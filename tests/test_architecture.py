"""Rules the layout depends on: a Qt-free core, a torch-free generation path, a CLI without import cycles."""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import adcopy_desktop.cli
import adcopy_desktop.core

CORE = Path(adcopy_desktop.core.__file__).parent
CLI = Path(adcopy_desktop.cli.__file__).parent
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
    loaded = modules_loaded_after_importing(core_modules() + ["adcopy_desktop.cli", "adcopy_desktop.cli.app"])
    forbidden = {"PySide6", "torch", "transformers", "optimum", "peft"}
    assert not {name.split(".")[0] for name in loaded} & forbidden


def test_no_core_source_file_mentions_qt():
    offenders = [
        str(path.relative_to(CORE))
        for path in CORE.rglob("*.py")
        if any(line.lstrip().startswith(("import PySide6", "from PySide6")) for line in path.read_text().splitlines())
    ]
    assert offenders == []


def cli_imports() -> dict[str, set[str]]:
    """For each module of adcopy_desktop/cli/, the other cli modules it imports (anywhere in it)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(CLI.glob("*.py")):
        name = path.stem
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                if module == "adcopy_desktop.cli":
                    found |= {alias.name for alias in node.names}
                elif module.startswith("adcopy_desktop.cli."):
                    found.add(module.rsplit(".", 1)[1])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("adcopy_desktop.cli.")}
        graph[name] = found - {name}
    return graph


def test_cli_command_modules_import_only_the_shared_module():
    graph = cli_imports()
    assert {"app", "common", "generate", "models", "catalog", "export", "scoring", "train", "plugins"} <= set(graph)
    assert graph["common"] == set()
    for name, imports in graph.items():
        if name in ("app", "__init__"):
            continue
        assert imports <= {"common"}, f"cli/{name}.py imports {sorted(imports - {'common'})}: only common.py is shared"
    assert graph["__init__"] == {"app"}  # the lazy compatibility export of cli and main
    assert set(graph) - {"__init__", "app", "common"} <= graph["app"], "every command module is added by app.py"
