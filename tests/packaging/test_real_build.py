"""One real PyInstaller build of the lite bundle (about a minute of PyInstaller plus start-up
checks on 2 cores), run only with ADCOPY_PACKAGING_TESTS=1: the bundle is <= 350 MB unpacked,
holds no torch/transformers/peft/optimum, and the frozen ``adcopy`` prints help, generates
headless on a tiny model, answers ``adcopy train`` with "install the full edition" and opens its
window (offscreen platform).

``check_lite_bundle`` also runs on a bundle built before (``packaging/build.sh``):
``ADCOPY_PACKAGING_TESTS=1 ADCOPY_BUNDLE=dist/lite/adcopy pytest tests/packaging/test_real_build.py``
skips the build and checks that one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.skipif(os.environ.get("ADCOPY_PACKAGING_TESTS") != "1",
                       reason="a real PyInstaller build takes minutes: set ADCOPY_PACKAGING_TESTS=1"),
]


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def check_lite_bundle(bundle: Path) -> None:
    exe = bundle / ("adcopy.exe" if sys.platform == "win32" else "adcopy")
    assert _size_mb(bundle) <= 350
    internal = {p.name for p in (bundle / "_internal").iterdir()}
    assert not internal & {"torch", "transformers", "peft", "optimum", "accelerate"}
    assert (bundle / "_internal" / "adcopy_desktop" / "edition.txt").read_text().strip() == "lite"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "PYTHONPATH")}
    help_text = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert help_text.returncode == 0 and "generate" in help_text.stdout
    out = subprocess.run([str(exe), "generate", "--product", "Type: denim jacket", "--kind", "title", "-n", "2",
                          "--max-new-tokens", "8", "--seed", "1"], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "candidate 2" in out.stdout and "CPUExecutionProvider" in out.stdout + out.stderr
    train = subprocess.run([str(exe), "train"], capture_output=True, text=True, env=env, timeout=120)
    assert train.returncode != 0 and "full edition" in train.stderr
    window = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120,
                            env={**env, "QT_QPA_PLATFORM": "offscreen", "ADCOPY_QUIT_AFTER_MS": "2000"})
    assert window.returncode == 0 and "window shown" in window.stderr, window.stderr[-3000:]


def test_the_lite_bundle_builds_small_and_generates(tmp_path, tiny_store):
    given = os.environ.get("ADCOPY_BUNDLE")
    if given:
        check_lite_bundle(Path(given).resolve())
        return
    pytest.importorskip("PyInstaller")
    dist, work = tmp_path / "dist", tmp_path / "work"
    subprocess.run([sys.executable, "-m", "PyInstaller", str(ROOT / "packaging" / "adcopy.spec"), "--noconfirm",
                    "--distpath", str(dist), "--workpath", str(work)], check=True, cwd=ROOT, timeout=1800,
                   env={**os.environ, "ADCOPY_EDITION": "lite"}, capture_output=True)
    check_lite_bundle(dist / "adcopy")
    shutil.rmtree(work, ignore_errors=True)
