"""The AppImage runtime of packaging/linux/appimage (runtime.c) on a tiny AppDir: built with cc,
assembled with make_appimage.sh (runtime + mksquashfs image), then run in every mode it has.

Needs cc, mksquashfs and the static libsquashfuse (libsquashfuse-dev); skips when any is missing.
Everything takes a few seconds.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
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
[ -n "$TEST_SLEEP" ] && sleep "$TEST_SLEEP"
exit "${TEST_EXIT:-0}"
"""
MARKER = ".adcopy-appimage-complete"  # the runtime's completion marker and lock file


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


def _make_image(runtime: Path, where: Path, name: str, files: dict[str, bytes]) -> Path:
    """A small AppImage: the test AppRun, its two helper files and the given files."""
    appdir = where / f"{name}.AppDir"
    (appdir / "share" / "data").mkdir(parents=True)
    (appdir / "bin").mkdir()
    (appdir / "AppRun").write_text(APPRUN)
    (appdir / "AppRun").chmod(0o755)
    (appdir / "share" / "data" / "hello.txt").write_text(f"hello from {name}\n")
    (appdir / "bin" / "tool").write_text("#!/bin/sh\necho tool ran\n")
    (appdir / "bin" / "tool").chmod(0o755)
    for rel, data in files.items():
        (appdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (appdir / rel).write_bytes(data)
    image = where / f"{name}-x86_64.AppImage"
    subprocess.run(["bash", str(APPIMAGE_DIR / "make_appimage.sh"), str(appdir), str(image), str(runtime)],
                   check=True, capture_output=True, text=True, timeout=120)
    return image


@pytest.fixture(scope="module")
def second(built):
    """Another version of the tiny image: same files plus one, so another id."""
    where = built["base"] / "second"
    where.mkdir()
    return _make_image(built["runtime"], where, "Second", {"share/version.txt": b"2\n"})


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


def _unpacked_tree(appdir: Path) -> dict:
    """The tree of a cache folder without its completion marker (checked here)."""
    tree = _tree(appdir)
    kind, _, content = tree.pop(MARKER)
    assert kind == "file" and content == f"adcopy-appimage complete {appdir.name}\n".encode()
    return tree


def _image_id(image: Path, tmp_path: Path) -> str:
    probe = _run(image, "--appimage-extract-and-run", cwd=tmp_path, env={"TMPDIR": str(tmp_path)})
    assert probe.returncode == 0, probe.stderr
    return Path(_fields(probe.stdout)["APPDIR"]).name.removeprefix("appimage_extracted_")


def _start_held(image: Path, cwd: Path, env: dict) -> subprocess.Popen:
    """A plain start whose program keeps running (TEST_SLEEP) until _stop; returns once AppRun runs."""
    full = {k: v for k, v in os.environ.items() if k not in ("APPIMAGE_EXTRACT_AND_RUN", "NO_CLEANUP")}
    full.update(env, TEST_SLEEP="120")
    proc = subprocess.Popen([str(image)], cwd=cwd, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    for line in proc.stdout:
        if line.startswith("tool="):
            return proc
    raise AssertionError(f"the held start ended early: {proc.stderr.read()}")


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 9)  # AppRun and its sleep: both hold the lock descriptor
    proc.wait(timeout=10)
    for f in (proc.stdout, proc.stderr):
        f.close()


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _wait_for(check, timeout: float = 15) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


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
    assert _unpacked_tree(appdir) == _tree(built["appdir"])
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
    assert _unpacked_tree(appdir) == _tree(built["appdir"])


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


# ---- old cache folders -----------------------------------------------------------------------


def test_the_running_program_holds_a_shared_lock_on_the_marker(built, tmp_path):
    cache = tmp_path / "cache"
    proc = _start_held(built["image"], tmp_path, {"XDG_CACHE_HOME": str(cache)})
    try:
        (folder,) = [p for p in (cache / "adcopy-appimage").iterdir()]
        with open(folder / MARKER, "rb") as marker:
            # the runtime exec'd AppRun: the lock it took lives on in the program
            with pytest.raises(BlockingIOError):
                fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(marker, fcntl.LOCK_SH | fcntl.LOCK_NB)  # other starts may share it
    finally:
        _stop(proc)
    with open(folder / MARKER, "rb") as marker:
        fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the program ended


def test_a_new_image_removes_the_old_images_folder(built, second, tmp_path):
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    first = _run(built["image"], cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    old = Path(_fields(first.stdout)["APPDIR"])
    # what deleting must not follow: a link out of the folder, and a read-only folder inside it
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the cache's")
    (old / "link-out").symlink_to(outside)
    (old / "share" / "ro").mkdir()
    (old / "share" / "ro" / "f").write_text("x")
    (old / "share" / "ro").chmod(0o555)
    new = _run(second, cwd=tmp_path, env=env)
    assert new.returncode == 0, new.stderr
    fresh = Path(_fields(new.stdout)["APPDIR"])
    assert fresh != old and fresh.parent == old.parent
    assert _fields(new.stdout)["data"] == "hello from Second"
    assert _names(cache / "adcopy-appimage") == [fresh.name]  # the old folder is gone, no leftovers
    assert (outside / "keep.txt").read_text() == "not the cache's"
    assert _unpacked_tree(fresh)["share/version.txt"][2] == b"2\n"


def test_a_folder_in_use_is_kept_until_its_program_ends(built, second, tmp_path):
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    base = cache / "adcopy-appimage"
    held = _start_held(built["image"], tmp_path, env)
    try:
        (old,) = _names(base)
        new = _run(second, cwd=tmp_path, env=env)
        assert new.returncode == 0, new.stderr
        fresh = Path(_fields(new.stdout)["APPDIR"]).name
        assert _names(base) == sorted([old, fresh])  # the running one stays
        assert (base / old / "AppRun").exists() and (base / old / MARKER).exists()
        again = _run(second, cwd=tmp_path, env=env)  # a later start while it still runs
        assert again.returncode == 0, again.stderr
        assert _names(base) == sorted([old, fresh])
    finally:
        _stop(held)
    # the next start, once the program has ended, removes it (behind the program's back)
    later = _run(second, cwd=tmp_path, env=env)
    assert later.returncode == 0, later.stderr
    assert "unpacking" not in later.stderr
    assert old not in _names(base)  # renamed away before AppRun ran
    assert _wait_for(lambda: _names(base) == [fresh]), _names(base)


def test_foreign_entries_in_the_cache_folder_are_kept(built, second, tmp_path):
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    base = cache / "adcopy-appimage"
    base.mkdir(parents=True)
    (base / "notes").mkdir()
    (base / "notes" / "a.txt").write_text("mine")
    (base / "readme.txt").write_text("mine")
    (base / "fedcba9876543210").write_text("a file with an id's name")
    legacy = base / "0123456789abcdef"  # an id's name, no marker: e.g. unpacked by runtime 1.0
    (legacy / "usr").mkdir(parents=True)
    copied = base / "bbbbbbbbbbbbbbbb"  # a marker naming another id: copied or renamed by hand
    copied.mkdir()
    (copied / MARKER).write_text("adcopy-appimage complete cccccccccccccccc\n")
    upper = base / "ABCDEF0123456789"  # not an id (upper case) although its marker says so
    upper.mkdir()
    (upper / MARKER).write_text("adcopy-appimage complete ABCDEF0123456789\n")
    elsewhere = tmp_path / "elsewhere"  # a link with an id's name to a complete-looking folder
    elsewhere.mkdir()
    (elsewhere / MARKER).write_text("adcopy-appimage complete aaaaaaaaaaaaaaaa\n")
    (elsewhere / "data.txt").write_text("keep")
    (base / "aaaaaaaaaaaaaaaa").symlink_to(elsewhere)
    before = _names(base)
    result = _run(second, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    fresh = Path(_fields(result.stdout)["APPDIR"]).name
    assert _names(base) == sorted(before + [fresh])
    again = _run(second, cwd=tmp_path, env=env)  # the background pass of a later start too
    assert again.returncode == 0, again.stderr
    time.sleep(0.5)
    assert _names(base) == sorted(before + [fresh])
    assert (base / "notes" / "a.txt").read_text() == "mine"
    assert (legacy / "usr").is_dir() and (copied / MARKER).exists() and (upper / MARKER).exists()
    assert (base / "aaaaaaaaaaaaaaaa").is_symlink() and (elsewhere / "data.txt").read_text() == "keep"


def test_keep_old_keeps_other_images_folders(built, second, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "ADCOPY_APPIMAGE_KEEP_OLD": "1"}
    first = _run(built["image"], cwd=tmp_path, env=env)
    new = _run(second, cwd=tmp_path, env=env)
    assert first.returncode == 0 and new.returncode == 0, new.stderr
    assert len(_names(tmp_path / "cache" / "adcopy-appimage")) == 2


def test_a_folder_without_the_marker_is_unpacked_again(built, tmp_path):
    image_id = _image_id(built["image"], tmp_path)
    base = tmp_path / "cache" / "adcopy-appimage"
    (base / image_id).mkdir(parents=True)
    (base / image_id / "AppRun").write_text("#!/bin/sh\necho half\n")
    (base / image_id / "AppRun").chmod(0o755)
    result = _run(built["image"], cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    assert "not a complete unpacked image" in result.stderr
    assert "half" not in result.stdout and _fields(result.stdout)["data"] == "hello from the image"
    assert _unpacked_tree(base / image_id) == _tree(built["appdir"])
    assert _names(base) == [image_id]


# ---- a full disk ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs root and permission to mount)."""
    if os.geteuid() != 0:
        pytest.skip("a full disk is tested on a small tmpfs, which only root can mount")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _disk_entries(disk: Path) -> list[str]:
    return sorted(p.relative_to(disk).as_posix() for p in disk.rglob("*"))


def test_too_big_for_the_disk_says_so_before_writing(built, small_disk, tmp_path):
    big = _make_image(built["runtime"], tmp_path, "Big", {"share/big.bin": b"ab" * 1_500_000})
    result = _run(big, cwd=tmp_path, env={"XDG_CACHE_HOME": str(small_disk)})
    assert result.returncode != 0
    assert "APPDIR=" not in result.stdout
    err = result.stderr
    assert f"not enough disk space to unpack the image into {small_disk}/adcopy-appimage" in err
    assert "it needs about 3 MB, 2 MB free there" in err
    assert "XDG_CACHE_HOME" in err and "--appimage-extract-and-run" in err
    assert "unpacking into" not in err  # refused before writing anything
    assert _disk_entries(small_disk) == ["adcopy-appimage"]
    # the same for an extract-and-run into a small TMPDIR, and an extraction into a small folder
    result = _run(big, "--appimage-extract-and-run", cwd=tmp_path, env={"TMPDIR": str(small_disk)})
    assert result.returncode != 0 and "APPDIR=" not in result.stdout
    assert f"not enough disk space to unpack the image into {small_disk}:" in result.stderr
    assert "set TMPDIR to a folder on a disk with more room" in result.stderr
    result = _run(big, "--appimage-extract", cwd=small_disk)
    assert result.returncode != 0 and "not enough disk space" in result.stderr
    assert _disk_entries(small_disk) == ["adcopy-appimage"]


def test_disk_full_while_unpacking_leaves_nothing_half_done(built, small_disk, tmp_path):
    # 700 small files: 70 KB of data, but every file takes a 4 KB page on tmpfs (2.8 MB): the
    # check before writing lets it start, the disk fills up on the way
    files = {f"share/many/{i:04d}.txt": b"x" * 100 for i in range(700)}
    many = _make_image(built["runtime"], tmp_path, "Many", files)
    env = {"XDG_CACHE_HOME": str(small_disk)}
    result = _run(many, cwd=tmp_path, env=env)
    assert result.returncode != 0
    assert "APPDIR=" not in result.stdout
    err = result.stderr
    assert "no space left on the disk (disk full)" in err
    assert f"unpacking the image into {small_disk}/adcopy-appimage stopped because the disk is full" in err
    assert "Unpacked, the image takes about 3 MB (2 MB free there now)" in err
    assert "nothing half-unpacked is left behind" in err
    assert "XDG_CACHE_HOME" in err and "--appimage-extract-and-run" in err
    assert _disk_entries(small_disk) == ["adcopy-appimage"]
    # with room, the next start unpacks it in full and runs it
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    result = _run(many, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    appdir = Path(_fields(result.stdout)["APPDIR"])
    assert len(list((appdir / "share" / "many").iterdir())) == 700
    assert (appdir / MARKER).exists()


def test_the_old_images_folder_makes_room_for_the_new_one(built, small_disk, tmp_path):
    # each unpacks to 1.2 MB: both do not fit into 2 MB, so the old one must go first
    one = _make_image(built["runtime"], tmp_path, "One", {"share/blob": os.urandom(1_200_000)})
    two = _make_image(built["runtime"], tmp_path, "Two", {"share/blob": os.urandom(1_200_000)})
    env = {"XDG_CACHE_HOME": str(small_disk)}
    assert _run(one, cwd=tmp_path, env=env).returncode == 0
    result = _run(two, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert _fields(result.stdout)["data"] == "hello from Two"
    assert _names(small_disk / "adcopy-appimage") == [Path(_fields(result.stdout)["APPDIR"]).name]


def test_simultaneous_first_starts_of_two_images(built, second, tmp_path):
    # four first starts at once, two of each image: every one runs, each image ends with one folder
    # (a start never removes a folder another start has just unpacked: it is locked before it is named)
    env = {**{k: v for k, v in os.environ.items() if k not in ("APPIMAGE_EXTRACT_AND_RUN", "NO_CLEANUP")},
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "TEST_SLEEP": "3"}
    procs = [subprocess.Popen([str(image)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for image in (built["image"], second, built["image"], second)]
    outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err), name in zip(procs, outs, ("the image", "Second") * 2):
        assert p.returncode == 0, err
        assert _fields(out)["data"] == f"hello from {name}" and _fields(out)["tool"] == "tool ran"
    base = tmp_path / "cache" / "adcopy-appimage"
    assert _wait_for(lambda: not [n for n in _names(base) if n.startswith(".")]), _names(base)
    # both were in use while the other image unpacked: both stay (until a later start)
    assert len(_names(base)) == 2
