"""The AppImage runtime of packaging/linux/appimage (runtime.c) on a tiny AppDir: built with cc,
assembled with make_appimage.sh (runtime + mksquashfs image), then run in every mode it has.

Needs cc, mksquashfs and the static libsquashfuse (libsquashfuse-dev); skips when any is missing.
Everything takes a few seconds.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPIMAGE_DIR = ROOT / "packaging" / "linux" / "appimage"


def _missing() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the AppImage runtime is Linux only"
    if not shutil.which("cc"):
        return "no C compiler (cc)"
    if not shutil.which("mksquashfs"):
        return "no mksquashfs (apt-get install squashfs-tools)"
    libdirs = [Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib64"), Path("/usr/lib"),
               Path("/usr/local/lib")]
    if not any((d / "libsquashfuse.a").exists() for d in libdirs) or not any(
            (Path(p) / "squashfuse" / "traverse.h").exists() for p in ("/usr/include", "/usr/local/include")):
        return "no static libsquashfuse with its headers (apt-get install libsquashfuse-dev)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))

APPRUN = """#!/bin/sh
for a in "$@"; do echo "arg=$a"; done
echo "APPDIR=$APPDIR"
echo "APPIMAGE=$APPIMAGE"
echo "OWD=$OWD"
echo "ARGV0=$ARGV0"
echo "data=$(cat "$APPDIR/share/data/hello.txt")"
echo "tool=$("$APPDIR/bin/tool")"
exit "${TEST_EXIT:-0}"
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("appimage")
    runtime = base / "runtime"
    subprocess.run(["bash", str(APPIMAGE_DIR / "build_runtime.sh"), str(runtime)], check=True,
                   capture_output=True, text=True, timeout=120)
    appdir = base / "Tiny.AppDir"
    (appdir / "share" / "data").mkdir(parents=True)
    (appdir / "bin").mkdir()
    (appdir / "AppRun").write_text(APPRUN)
    (appdir / "AppRun").chmod(0o755)
    (appdir / "share" / "data" / "hello.txt").write_text("hello from the image\n")
    (appdir / "share" / "data" / "hello.txt").chmod(0o644)
    (appdir / "share" / "data" / "readonly.txt").write_text("read only\n")
    (appdir / "share" / "data" / "readonly.txt").chmod(0o444)
    (appdir / "bin" / "tool").write_text("#!/bin/sh\necho tool ran\n")
    (appdir / "bin" / "tool").chmod(0o750)
    # several blocks plus a fragment, incompressible and compressible parts
    (appdir / "share" / "big.bin").write_bytes(os.urandom(300_000) + b"ab" * 200_000)
    (appdir / "share" / "big.bin").chmod(0o600)
    (appdir / "hello.txt").symlink_to("share/data/hello.txt")
    (appdir / "share" / "dangling").symlink_to("../nowhere")
    (appdir / "share" / "data").chmod(0o750)
    image = base / "Tiny-x86_64.AppImage"
    subprocess.run(["bash", str(APPIMAGE_DIR / "make_appimage.sh"), str(appdir), str(image), str(runtime)],
                   check=True, capture_output=True, text=True, timeout=120)
    return {"runtime": runtime, "appdir": appdir, "image": image, "base": base}


def _run(image: Path, *args: str, cwd: Path, env: dict | None = None, timeout: float = 60):
    full = {k: v for k, v in os.environ.items() if k not in ("APPIMAGE_EXTRACT_AND_RUN", "NO_CLEANUP")}
    full.update(env or {})
    return subprocess.run([str(image), *args], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=timeout)


def _tree(root: Path) -> dict:
    """relative path -> (kind, permission bits, content or link target)"""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = path.relative_to(root).as_posix()
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ("link", None, os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir", stat.S_IMODE(st.st_mode), None)
        else:
            out[rel] = ("file", stat.S_IMODE(st.st_mode), path.read_bytes())
    return out


def _fields(stdout: str) -> dict:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line and not line.startswith("arg="))


def test_magic_bytes_and_offset(built):
    data = built["image"].read_bytes()
    assert data[:4] == b"\x7fELF"
    assert data[8:11] == b"AI\x02"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    offset = shoff + shentsize * shnum
    assert offset == built["runtime"].stat().st_size
    assert data[offset:offset + 4] == b"hsqs"  # the squashfs superblock starts right there
    result = _run(built["image"], "--appimage-offset", cwd=built["base"])
    assert result.returncode == 0
    assert result.stdout.strip() == str(offset)
    # the runtime is static: it starts on any x86_64 Linux whatever its libraries
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    types = [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    assert 3 not in types  # no PT_INTERP: no dynamic loader, no shared libraries


def test_help_version_and_unknown_option(built):
    assert "--appimage-extract-and-run" in _run(built["image"], "--appimage-help", cwd=built["base"]).stdout
    version = _run(built["image"], "--appimage-version", cwd=built["base"])
    assert version.returncode == 0 and "AdCopy AppImage runtime" in version.stdout
    bad = _run(built["image"], "--appimage-mount", cwd=built["base"])
    assert bad.returncode != 0 and "unknown option --appimage-mount" in bad.stderr


def test_extract_gives_identical_tree(built, tmp_path):
    result = _run(built["image"], "--appimage-extract", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    extracted = _tree(tmp_path / "squashfs-root")
    original = _tree(built["appdir"])
    assert extracted == original
    assert extracted["bin/tool"][1] == 0o750 and extracted["share/data/readonly.txt"][1] == 0o444
    assert extracted["hello.txt"] == ("link", None, "share/data/hello.txt")
    # a second extraction over the first (read-only files included) works too
    again = _run(built["image"], "--appimage-extract", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert _tree(tmp_path / "squashfs-root") == original


def test_extract_pattern(built, tmp_path):
    result = _run(built["image"], "--appimage-extract", "share/data/*", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "squashfs-root"
    assert (root / "share" / "data" / "hello.txt").read_text() == "hello from the image\n"
    assert not (root / "AppRun").exists() and not (root / "share" / "big.bin").exists()


@pytest.mark.parametrize("how", ["option", "env"])
def test_extract_and_run(built, tmp_path, how):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    owd = tmp_path / "work"
    owd.mkdir()
    env = {"TMPDIR": str(tmpdir), "TEST_EXIT": "7"}
    if how == "option":
        args = ["--appimage-extract-and-run", "one arg", "--two"]
    else:
        env["APPIMAGE_EXTRACT_AND_RUN"] = "1"
        args = ["one arg", "--two"]
    result = _run(built["image"], *args, cwd=owd, env=env)
    assert result.returncode == 7, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("arg=")] == ["arg=one arg", "arg=--two"]
    fields = _fields(result.stdout)
    assert fields["APPDIR"].startswith(str(tmpdir / "appimage_extracted_"))
    assert fields["APPIMAGE"] == str(built["image"])
    assert fields["OWD"] == str(owd)
    assert fields["data"] == "hello from the image"
    assert fields["tool"] == "tool ran"
    assert list(tmpdir.iterdir()) == []  # removed afterwards


def test_extract_and_run_no_cleanup(built, tmp_path):
    result = _run(built["image"], "--appimage-extract-and-run", cwd=tmp_path,
                  env={"TMPDIR": str(tmp_path), "NO_CLEANUP": "1"})
    assert result.returncode == 0, result.stderr
    kept = Path(_fields(result.stdout)["APPDIR"])
    assert kept.parent == tmp_path and (kept / "AppRun").exists()


def test_plain_start_extracts_once_into_the_cache(built, tmp_path):
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache), "TEST_EXIT": "3"}
    first = _run(built["image"], "x", cwd=tmp_path, env=env)
    assert first.returncode == 3, first.stderr
    appdir = Path(_fields(first.stdout)["APPDIR"])
    assert appdir.parent == cache / "adcopy-appimage"
    assert _fields(first.stdout)["data"] == "hello from the image"
    assert _tree(appdir) == _tree(built["appdir"])
    inode = (appdir / "AppRun").stat().st_ino
    (appdir / "marker").write_text("left by the test")
    second = _run(built["image"], "y", cwd=tmp_path, env=env)
    assert second.returncode == 3, second.stderr
    assert Path(_fields(second.stdout)["APPDIR"]) == appdir
    assert "arg=y" in second.stdout
    # reused, not extracted again
    assert (appdir / "AppRun").stat().st_ino == inode
    assert (appdir / "marker").exists()
    assert "unpacking" not in second.stderr
    assert sorted(p.name for p in appdir.parent.iterdir()) == [appdir.name]


def test_leftover_from_a_killed_start_does_not_break_it(built, tmp_path):
    # what a start killed mid-extraction leaves: a partial sibling named after a process that is gone
    dead = subprocess.Popen(["true"])
    dead.wait()
    offset = _run(built["image"], "--appimage-offset", cwd=tmp_path)
    assert offset.returncode == 0
    first = _run(built["image"], cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "probe")})
    image_id = Path(_fields(first.stdout)["APPDIR"]).name
    base = tmp_path / "cache" / "adcopy-appimage"
    partial = base / f".{image_id}.partial-{dead.pid}"
    (partial / "usr").mkdir(parents=True)
    (partial / "AppRun").write_text("#!/bin/sh\necho half\n")
    result = _run(built["image"], cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    appdir = Path(_fields(result.stdout)["APPDIR"])
    assert appdir == base / image_id
    assert "half" not in result.stdout and _fields(result.stdout)["data"] == "hello from the image"
    assert not partial.exists()  # the dead start's leftover was cleaned up
    assert _tree(appdir) == _tree(built["appdir"])


def test_unwritable_cache_fails_clearly(built, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = _run(built["image"], cwd=tmp_path, env={"XDG_CACHE_HOME": str(blocker)})
    assert result.returncode != 0
    assert "cannot write the cache folder" in result.stderr
    assert "arg=" not in result.stdout and "APPDIR" not in result.stdout


def test_truncated_image_fails_clearly(built, tmp_path):
    data = built["image"].read_bytes()
    broken = tmp_path / "Truncated.AppImage"
    offset = built["runtime"].stat().st_size
    broken.write_bytes(data[: offset + (len(data) - offset) // 2])
    broken.chmod(0o755)
    for args in ([], ["--appimage-extract"], ["--appimage-extract-and-run"]):
        result = _run(broken, *args, cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache"),
                                                      "TMPDIR": str(tmp_path)})
        assert result.returncode != 0
        assert "is damaged: truncated" in result.stderr
        assert "APPDIR=" not in result.stdout
    assert not (tmp_path / "cache").exists() and not (tmp_path / "squashfs-root").exists()


def test_corrupted_superblock_and_missing_image_fail_clearly(built, tmp_path):
    data = bytearray(built["image"].read_bytes())
    offset = built["runtime"].stat().st_size
    data[offset:offset + 4] = b"XXXX"
    broken = tmp_path / "Corrupt.AppImage"
    broken.write_bytes(bytes(data))
    broken.chmod(0o755)
    result = _run(broken, cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode != 0
    assert "is damaged: no valid squashfs image at offset" in result.stderr
    # the runtime alone (nothing appended)
    bare = _run(built["runtime"], cwd=tmp_path)
    assert bare.returncode != 0 and "no squashfs image after the runtime" in bare.stderr
    # an ELF without the AppImage magic
    plain = tmp_path / "plain"
    raw = bytearray(built["image"].read_bytes())
    raw[8:11] = b"\0\0\0"
    plain.write_bytes(bytes(raw))
    plain.chmod(0o755)
    result = _run(plain, cwd=tmp_path)
    assert result.returncode != 0 and "is not an AppImage" in result.stderr


def test_corrupted_directory_tables_fail_clearly(built, tmp_path):
    # the inode and directory tables sit near the end of the image: overwrite them
    data = bytearray(built["image"].read_bytes())
    offset = built["runtime"].stat().st_size
    inode_table, directory_table = struct.unpack_from("<QQ", data, offset + 64)
    start = offset + inode_table
    data[start:offset + directory_table + 64] = os.urandom(offset + directory_table + 64 - start)
    broken = tmp_path / "Tables.AppImage"
    broken.write_bytes(bytes(data))
    broken.chmod(0o755)
    result = _run(broken, "--appimage-extract", cwd=tmp_path)
    assert result.returncode != 0
    assert "is damaged" in result.stderr
