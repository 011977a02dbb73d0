"""Throwaway plugins for tests: modules on disk behind entry points, plugin-folder installs and
hand-made wheels. Every module name is unique per call, so nothing cached by one test leaks into
another."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import textwrap
import uuid
import zipfile
from pathlib import Path


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def write_module(folder: Path, code: str, prefix: str = "adcopy_test_plugin") -> str:
    """Write ``code`` as a new top-level module in ``folder`` (which must be on sys.path)."""
    name = unique(prefix)
    (folder / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return name


def entry_point(name: str, module: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=module, group="adcopy")


def style_plugin_code(style_name: str, extra: str = "") -> str:
    return f'''
from adcopy_desktop.core.plugins import hookimpl, BrandStyle

@hookimpl
def register_styles(register):
    register(BrandStyle(name="{style_name}", voice={{"all": "Calm and {style_name}."}}))
{textwrap.dedent(extra)}
'''


def folder_plugin(plugins_dir: Path, dist_name: str, code: str, version: str = "1.0") -> tuple[Path, str]:
    """A plugin unpacked in the plugin folder the way ``adcopy plugins install`` leaves it."""
    module = unique("adcopy_folder_plugin")
    folder = plugins_dir / dist_name
    folder.mkdir(parents=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    dist_info = folder / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    (dist_info / "entry_points.txt").write_text(f"[adcopy]\nmain = {module}\n")
    return folder, module


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(
    out: Path,
    dist_name: str = "adcopy-style-throwaway",
    version: str = "1.0",
    *,
    files: dict[str, str] | None = None,
    entry_points: str | None = "default",
    tag: str = "py3-none-any",
    metadata_name: str | None = None,
    purelib: bool = True,
    corrupt: str | None = None,
    filename: str | None = None,
) -> tuple[Path, str]:
    """Zip a wheel by hand (no network, no build backend). Returns (path, package name).

    ``files`` maps archive paths to text; by default one package with a style plugin module.
    ``corrupt`` names a file whose RECORD hash is made wrong."""
    escaped = dist_name.replace("-", "_")
    package = unique("adcopy_wheel_pkg")
    if files is None:
        files = {
            f"{package}/__init__.py": "",
            f"{package}/plugin.py": style_plugin_code("wheelstyle"),
        }
    if entry_points == "default":
        entry_points = f"[adcopy]\nwheelstyle = {package}.plugin\n"
    dist_info = f"{escaped}-{version}.dist-info"
    members = dict(files)
    members[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {metadata_name or dist_name}\nVersion: {version}\nSummary: test\n"
    )
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: {'true' if purelib else 'false'}\nTag: {tag}\n"
    )
    if entry_points is not None:
        members[f"{dist_info}/entry_points.txt"] = entry_points
    record_lines = []
    for name, text in members.items():
        data = text.encode("utf-8")
        digest = _digest(data if name != corrupt else data + b"tampered")
        record_lines.append(f"{name},{digest},{len(data)}")
    record_lines.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = "\n".join(record_lines) + "\n"
    path = out / (filename or f"{escaped}-{version}-{tag}.whl")
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path, package


def wheel_from_source(out: Path, dist_name: str, modules: dict[str, str], version: str = "1.0") -> Path:
    """A real wheel: a source tree (pyproject.toml, src/<package>/) written under ``out`` and built
    by pip with setuptools, offline. ``modules`` maps module names inside the package to code; the
    entry point is the package's ``plugin`` module."""
    import subprocess
    import sys

    package = unique(dist_name.replace("-", "_"))
    tree = out / f"{dist_name}-src"
    (tree / "src" / package).mkdir(parents=True)
    (tree / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist_name}"
        version = "{version}"
        dependencies = []

        [project.entry-points.adcopy]
        main = "{package}.plugin"
        """), encoding="utf-8")
    (tree / "src" / package / "__init__.py").write_text("", encoding="utf-8")
    for module, code in modules.items():
        (tree / "src" / package / f"{module}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    dist = out / f"{dist_name}-dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(dist), str(tree)], check=True, capture_output=True)
    [wheel] = dist.glob("*.whl")
    return wheel
