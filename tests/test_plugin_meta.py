"""Meta-tests for the plugin system: every hook is typed, documented in docs/plugins.md with an
example, and has a test of its own; and hooks are only ever called through the manager."""

import inspect
import re
from pathlib import Path

import pytest

from adcopy_desktop.core.plugins import hook_names, hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
HOOKS = hook_names()


def doc_sections() -> dict[str, str]:
    """'### `hook_name`' sections of docs/plugins.md -> their text."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^### `?([a-z_]+)`?\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_there_are_hooks_for_everything_the_issue_asks_for():
    assert {
        "register_styles", "register_scorers", "register_importers", "register_exporters", "register_backends",
        "adjust_prompt", "process_candidate", "candidate_accepted", "candidate_rejected", "candidate_edited",
        "export_finished",
    } <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_typed_and_says_what_it_receives_returns_and_when(hook):
    spec = getattr(hookspecs, hook)
    signature = inspect.signature(spec)
    assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values()), hook
    assert signature.return_annotation is not inspect.Signature.empty, hook
    doc = inspect.getdoc(spec) or ""
    for word in ("Receives", "Return", "Called"):
        assert word in doc, f"{hook}'s docstring should say what it {word.lower()}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_documented_section_with_an_example(hook):
    sections = doc_sections()
    assert hook in sections, f"docs/plugins.md has no '### `{hook}`' section"
    section = sections[hook]
    examples = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert any("@hookimpl" in code and f"def {hook}(" in code for code in examples), (
        f"the {hook} section needs a python example implementing it"
    )
    for example in examples:
        compile(example, f"docs/plugins.md ({hook})", "exec")


def test_the_docs_describe_no_hook_that_does_not_exist():
    stale = [name for name in doc_sections() if name.startswith(("register_", "candidate_")) and name not in HOOKS]
    assert stale == []


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_of_its_own(hook):
    here = Path(__file__).resolve()
    owners = [
        path.relative_to(ROOT)
        for path in (ROOT / "tests").rglob("test_*.py")
        if path.resolve() != here and re.search(rf"^\s*def test_\w*{hook}\w*\(", path.read_text(encoding="utf-8"), re.M)
    ]
    assert owners, f"no test function under tests/ is named after the hook {hook}"


def test_hooks_are_only_called_through_the_plugin_manager():
    manager = ROOT / "adcopy_desktop" / "core" / "plugins" / "manager.py"
    offenders = []
    for folder in (ROOT / "adcopy_desktop", ROOT / "plugins"):
        for path in folder.rglob("*.py"):
            if path == manager or ".egg-info" in str(path):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if re.search(r"\.hook\.[a-z_]+", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == [], "call hooks through PluginManager's typed methods"


def test_the_example_plugin_is_a_complete_package():
    import tomllib

    folder = ROOT / "plugins" / "adcopy-style-example"
    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["adcopy"] == {"qingshan": "adcopy_style_qingshan.plugin"}
    assert (folder / "src" / "adcopy_style_qingshan" / "qingshan.toml").is_file()
    assert list((folder / "tests").glob("test_*.py")) and (folder / "README.md").is_file()
