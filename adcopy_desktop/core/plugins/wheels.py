"""Installing plugins without pip: a checked wheel unpacked into the plugin folder.

A packaged install of AdCopy (no pip, no compiler) can still take plugins: ``adcopy plugins install
FILE.whl`` checks the wheel and unpacks it into ``<data>/plugins/<name>/``; the plugin manager adds
that folder to ``sys.path`` and loads the ``adcopy`` entry points of its ``.dist-info``.

Checks, each refusal saying what is wrong and what to do:

- the file name is a valid wheel name for a pure-Python wheel (``py3-none-any``);
- it is a zip whose member names stay inside the target folder (no absolute paths, ``..``, links);
- exactly one ``<name>-<version>.dist-info`` with METADATA (Name and Version matching the file
  name), WHEEL (``Root-Is-Purelib: true``) and RECORD, and every file's sha256 matches RECORD;
- an ``entry_points.txt`` with at least one entry in the ``adcopy`` group;
- no compiled extensions, no ``.data`` folder (scripts, headers, data files);
- its top-level modules do not clash with modules AdCopy or another plugin already provides.

Unpacking goes to a temporary folder next to the target, which is renamed into place only when
complete; an older version of the same plugin is replaced in the same way.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import importlib.util
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from adcopy_desktop.core.errors import PluginError
from adcopy_desktop.core.plugins.manager import ENTRY_POINT_GROUP, canonical_name
from adcopy_desktop.core.plugins.provenance import record_install, wheel_sha256

MAX_FILES = 10_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
COMPILED_SUFFIXES = (".so", ".pyd", ".dll", ".dylib")
_WHEEL_NAME = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?)-(?P<version>[^-]+)"
    r"(?:-(?P<build>\d[^-]*))?-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)
_STALE_SECONDS = 3600


@dataclass(frozen=True)
class WheelInfo:
    """What a checked wheel holds."""

    path: Path
    name: str  # canonical distribution name, also the folder name
    project_name: str  # as METADATA spells it
    version: str
    entry_points: tuple[str, ...]  # "name = module:attr" in the adcopy group
    top_level: tuple[str, ...]  # importable names it adds
    dist_info: str
    files: dict[str, tuple[str, int | None]] = field(default_factory=dict, repr=False)  # path -> (sha256, size)


@dataclass(frozen=True)
class InstalledPlugin:
    name: str
    version: str
    folder: Path
    replaced_version: str | None = None
    sha256: str = ""  # of the wheel file, recorded with where it came from (provenance.py)
    signer: str | None = None  # the trusted key that verified its signature (signing.py), if one did


def plugin_folder() -> Path:
    from adcopy_desktop.paths import user_folders

    return user_folders().plugins


def inspect_wheel(path: Path, plugins_dir: Path | None = None) -> WheelInfo:
    """Check a plugin wheel without unpacking it; PluginError says what is wrong."""
    path = Path(path)
    label = path.name
    if not path.is_file():
        raise PluginError(f"{path} does not exist or is not a file.")
    match = _WHEEL_NAME.match(path.name)
    if not match:
        raise PluginError(
            f"{label} is not a wheel file name (expected NAME-VERSION-py3-none-any.whl). Build the plugin "
            "with: python -m build --wheel"
        )
    pythons = match["python"].split(".")
    if "py3" not in pythons or match["abi"] != "none" or match["platform"] != "any":
        raise PluginError(
            f"{label} is built for {match['python']}-{match['abi']}-{match['platform']}; only pure-Python "
            "wheels (py3-none-any) can be installed into the plugin folder. Ask the plugin's author for a "
            "pure-Python wheel, or install it with pip into the app's environment."
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise PluginError(f"{label} is not a valid wheel (zip) file: {error}") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        _check_members(members, label)
        names = {info.filename for info in members}
        dist_infos = sorted({name.split("/")[0] for name in names if name.split("/")[0].endswith(".dist-info")})
        if len(dist_infos) != 1:
            raise PluginError(f"{label} must hold exactly one .dist-info folder (found {len(dist_infos)}).")
        dist_info = dist_infos[0]

        def read(name: str, required: bool = True) -> str | None:
            member = f"{dist_info}/{name}"
            if member not in names:
                if required:
                    raise PluginError(f"{label} has no {member}; it is not a complete wheel.")
                return None
            try:
                return archive.read(member).decode("utf-8")
            except UnicodeDecodeError:
                raise PluginError(f"{label}: {member} is not UTF-8 text.") from None

        metadata = HeaderParser().parsestr(read("METADATA") or "")
        project_name, version = (metadata.get("Name") or "").strip(), (metadata.get("Version") or "").strip()
        if not project_name or not version:
            raise PluginError(f"{label}: {dist_info}/METADATA must give Name and Version.")
        if canonical_name(project_name) != canonical_name(match["name"]):
            raise PluginError(f"{label}: the file name says '{match['name']}' but METADATA says '{project_name}'.")
        if _wheel_version(version) != match["version"]:
            raise PluginError(f"{label}: the file name says version {match['version']} but METADATA says {version}.")
        expected_dist_info = f"{_wheel_escape(project_name)}-{_wheel_version(version)}.dist-info"
        if dist_info.lower() != expected_dist_info.lower():
            raise PluginError(f"{label}: the metadata folder is {dist_info}, expected {expected_dist_info}.")
        wheel = HeaderParser().parsestr(read("WHEEL") or "")
        if (wheel.get("Root-Is-Purelib") or "").strip().lower() != "true":
            raise PluginError(f"{label}: {dist_info}/WHEEL must say Root-Is-Purelib: true (a pure-Python wheel).")
        if not (wheel.get("Wheel-Version") or "1.0").strip().startswith("1."):
            raise PluginError(f"{label}: unsupported Wheel-Version {wheel.get('Wheel-Version')}.")
        entry_points = _adcopy_entry_points(read("entry_points.txt", required=False), label)
        records = _read_record(read("RECORD") or "", label, dist_info)
        for member in members:
            name = member.filename
            if name == f"{dist_info}/RECORD" or name.startswith(f"{dist_info}/RECORD."):
                continue
            if name not in records:
                raise PluginError(f"{label}: {name} is not listed in RECORD; the wheel may have been altered.")
            digest, size = records[name]
            if not digest:
                raise PluginError(f"{label}: RECORD gives no sha256 for {name}.")
            actual = _sha256(archive.read(member))
            if actual != digest or (size is not None and size != member.file_size):
                raise PluginError(f"{label}: {name} does not match its RECORD checksum; the wheel is damaged.")
        missing = sorted(set(records) - names - {f"{dist_info}/RECORD"})
        if missing:
            raise PluginError(f"{label}: RECORD lists {missing[0]}, which the wheel does not contain.")
        top_level = sorted({
            PurePosixPath(name).parts[0].removesuffix(".py")
            for name in names
            if not name.startswith(dist_info + "/")
        })
        top_level = [module for module in top_level if module.isidentifier()]
    info = WheelInfo(path=path, name=canonical_name(project_name), project_name=project_name, version=version,
                     entry_points=entry_points, top_level=tuple(top_level), dist_info=dist_info, files=records)
    _check_clashes(info, plugins_dir or plugin_folder())
    return info


def install_wheel(path: Path, plugins_dir: Path | None = None) -> InstalledPlugin:
    """Check ``path`` and unpack it into ``plugins_dir/<name>/`` (replacing an older version)."""
    from adcopy_desktop.core.plugins.signing import check_signature

    plugins_dir = Path(plugins_dir or plugin_folder())
    signature = check_signature(path)  # a signature that does not verify: refused before anything
    info = inspect_wheel(path, plugins_dir)
    plugins_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale(plugins_dir)
    target = plugins_dir / info.name
    staging = Path(tempfile.mkdtemp(prefix=f".install-{info.name}-", dir=plugins_dir))
    try:
        with zipfile.ZipFile(info.path) as archive:
            for member in archive.infolist():
                if member.is_dir():
                    continue
                destination = staging.joinpath(*PurePosixPath(member.filename).parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                data = archive.read(member)
                expected = info.files.get(member.filename, ("", None))[0]
                if expected and _sha256(data) != expected:
                    raise PluginError(f"{info.path.name}: {member.filename} changed while installing.")
                destination.write_bytes(data)
        (staging / info.dist_info / "INSTALLER").write_text("adcopy\n", encoding="utf-8")
        sha256 = wheel_sha256(info.path)
        if signature.signed and signature.sha256 != sha256:
            raise PluginError(f"{info.path.name} changed while installing.")
        record_install(staging, info.path, sha256, signature)
        replaced = _installed_version(target)
        old = None
        if target.exists():
            old = plugins_dir / f".old-{info.name}-{os.getpid()}-{time.time_ns()}"
            os.replace(target, old)
        try:
            os.replace(staging, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return InstalledPlugin(name=info.name, version=info.version, folder=target, replaced_version=replaced,
                           sha256=sha256, signer=signature.signer if signature.signed else None)


def remove_plugin(name: str, plugins_dir: Path | None = None) -> Path:
    """Remove a plugin installed into the plugin folder; returns the folder that was removed."""
    plugins_dir = Path(plugins_dir or plugin_folder())
    wanted = canonical_name(name)
    target = plugins_dir / wanted
    if not target.is_dir() or wanted.startswith("."):
        installed = ", ".join(installed_plugins(plugins_dir)) or "none"
        pip_hint = ""
        if _installed_with_pip(wanted):
            pip_hint = f" '{name}' is installed with pip; remove it with: pip uninstall {name}."
        raise PluginError(f"No plugin '{name}' in the plugin folder {plugins_dir} (installed there: {installed}).{pip_hint}")
    _clean_stale(plugins_dir)
    doomed = plugins_dir / f".removing-{wanted}-{os.getpid()}-{time.time_ns()}"
    os.replace(target, doomed)
    shutil.rmtree(doomed, ignore_errors=True)
    return target


def installed_plugins(plugins_dir: Path | None = None) -> list[str]:
    plugins_dir = Path(plugins_dir or plugin_folder())
    if not plugins_dir.is_dir():
        return []
    return sorted(p.name for p in plugins_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


# -- helpers ---------------------------------------------------------------------------------------


def _check_members(members: list[zipfile.ZipInfo], label: str) -> None:
    if len(members) > MAX_FILES:
        raise PluginError(f"{label} holds {len(members)} files; a plugin may have at most {MAX_FILES}.")
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise PluginError(f"{label} unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB.")
    for member in members:
        name = member.filename
        parts = PurePosixPath(name).parts
        if (
            not name or name.startswith(("/", "\\")) or "\\" in name or re.match(r"^[A-Za-z]:", name)
            or any(part in ("..", ".") for part in parts) or "\x00" in name
        ):
            raise PluginError(f"{label} contains an unsafe path '{name}'; refusing to unpack it.")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise PluginError(f"{label} contains a symbolic link '{name}'; refusing to unpack it.")
        if parts[0].endswith(".data"):
            raise PluginError(
                f"{label} has {parts[0]}/ (scripts, headers or data files installed outside the package). "
                "A plugin must keep its data files inside its package and read them with importlib.resources."
            )
        if name.lower().endswith(COMPILED_SUFFIXES):
            raise PluginError(f"{label} contains compiled code ({name}); only pure-Python plugins can be installed.")


def _adcopy_entry_points(text: str | None, label: str) -> tuple[str, ...]:
    hint = (
        f"it declares no entry point in the '{ENTRY_POINT_GROUP}' group, so AdCopy would never load it. "
        f"Add to its pyproject.toml:\n  [project.entry-points.{ENTRY_POINT_GROUP}]\n  myplugin = \"my_package.plugin\""
    )
    if not text:
        raise PluginError(f"{label}: {hint}")
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as error:
        raise PluginError(f"{label}: entry_points.txt is malformed: {error}") from None
    if not parser.has_section(ENTRY_POINT_GROUP) or not parser.items(ENTRY_POINT_GROUP):
        raise PluginError(f"{label}: {hint}")
    entries = []
    for key, value in parser.items(ENTRY_POINT_GROUP):
        if not re.fullmatch(r"[A-Za-z_][\w.]*(\s*:\s*[A-Za-z_][\w.]*)?", value.strip()):
            raise PluginError(f"{label}: entry point '{key} = {value}' is not 'module' or 'module:attribute'.")
        entries.append(f"{key} = {value.strip()}")
    return tuple(entries)


def _read_record(text: str, label: str, dist_info: str) -> dict[str, tuple[str, int | None]]:
    import csv

    records: dict[str, tuple[str, int | None]] = {}
    for row in csv.reader(text.splitlines()):
        if not row:
            continue
        name = row[0]
        digest = row[1] if len(row) > 1 else ""
        size = row[2] if len(row) > 2 else ""
        if digest and not digest.startswith("sha256="):
            raise PluginError(f"{label}: RECORD uses {digest.split('=')[0]} for {name}; only sha256 is accepted.")
        records[name] = (digest.removeprefix("sha256="), int(size) if size.isdigit() else None)
    if not records:
        raise PluginError(f"{label}: {dist_info}/RECORD is empty.")
    return records


def _sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _wheel_escape(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def _wheel_version(version: str) -> str:
    return version.replace("-", "_")


def _check_clashes(info: WheelInfo, plugins_dir: Path) -> None:
    own_folder = plugins_dir / info.name
    for other in installed_plugins(plugins_dir):
        if other == info.name:
            continue
        for module in info.top_level:
            if (plugins_dir / other / module).exists() or (plugins_dir / other / f"{module}.py").exists():
                raise PluginError(
                    f"{info.path.name} provides the module '{module}', which the installed plugin '{other}' "
                    f"already provides. Remove it first: adcopy plugins remove {other}"
                )
    for module in info.top_level:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        locations = [spec.origin] if spec.origin and spec.origin not in ("built-in", "frozen") else []
        locations += list(spec.submodule_search_locations or [])
        if not locations or not all(_inside(Path(location), own_folder) for location in locations):
            where = locations[0] if locations else "Python itself"
            if _installed_with_pip(info.name):
                raise PluginError(
                    f"{info.project_name} is already installed in AdCopy's Python environment (its module "
                    f"'{module}' is at {where}), and AdCopy loads that copy. To use the wheel instead, "
                    f"first run: pip uninstall {info.project_name}"
                )
            raise PluginError(
                f"{info.path.name} provides the module '{module}', which already exists ({where}); installing it "
                "would shadow or be shadowed by that module. Rename the plugin's package."
            )


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def _installed_version(folder: Path) -> str | None:
    if not folder.is_dir():
        return None
    for dist_info in folder.glob("*.dist-info"):
        metadata = dist_info / "METADATA"
        if metadata.is_file():
            return HeaderParser().parsestr(metadata.read_text(encoding="utf-8", errors="replace")).get("Version")
    return None


def _installed_with_pip(name: str) -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def _clean_stale(plugins_dir: Path) -> None:
    """Remove leftovers of interrupted installs/removals (older than an hour, so never a running one)."""
    now = time.time()
    for leftover in plugins_dir.glob(".*"):
        if leftover.name.startswith((".install-", ".old-", ".removing-")) and leftover.is_dir():
            try:
                if now - leftover.stat().st_mtime > _STALE_SECONDS:
                    shutil.rmtree(leftover, ignore_errors=True)
            except OSError:
                pass
