"""Screenshots of the main window with generated candidates, in both interface languages, taken on a
real X server (Xvfb, started here) with the xcb platform — what a merchant sees, CJK fonts included.

The app runs in its own process (tests/gui/app_driver.py). Set ADCOPY_SCREENSHOTS=DIR to keep the
PNGs; docs/gui.md says how the README image is made with the default model.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parents[2]
PRODUCTS = {
    "en": "Type: denim jacket\nColor: white\nMaterial: cotton denim\nStyle: casual",
    "zh_CN": "类型#上衣*材质#牛仔布*颜色#白色*风格#简约*图案#刺绣",
}


@pytest.fixture
def xvfb_display():
    """A private X display from Xvfb (-displayfd picks a free number)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; .ci/run installs it)")
    read, write = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as stream:
            number = stream.readline().strip()
        if not number:
            pytest.fail(f"Xvfb did not start (exit code {server.poll()})")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def distinct_colours(image: QImage, step: int = 7) -> int:
    seen = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            seen.add(image.pixel(x, y))
    return len(seen)


def test_screenshots_of_the_window_with_candidates_in_both_languages(tiny_store, xvfb_display, tmp_path):
    keep = os.environ.get("ADCOPY_SCREENSHOTS")
    shots = {}
    for language in ("en", "zh_CN"):
        png = tmp_path / f"adcopy-{language}.png"
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": xvfb_display, "PYTHONPATH": str(REPO)}
        env.pop("WAYLAND_DISPLAY", None)
        result = subprocess.run(
            [sys.executable, "-m", "tests.gui.app_driver", "--lang", language, "--product", PRODUCTS[language],
             "--n", "3", "--kind", "description", "--screenshot", str(png)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary["outcome"] == "succeeded" and summary["saved"] is True
        image = QImage(str(png))
        assert image.width() >= 1360 and image.height() >= 860
        assert png.stat().st_size > 20_000
        assert distinct_colours(image) > 30  # a real window, not a blank or uniform frame
        shots[language] = png
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(png, Path(keep) / png.name)
    assert shots["en"].read_bytes() != shots["zh_CN"].read_bytes()
