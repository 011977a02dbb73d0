"""Screenshots of the main window with generated candidates, and of each Insights view on a seeded
library, in both interface languages, taken on a real X server (Xvfb, started here) with the xcb
platform — what a merchant sees, CJK fonts included.

The app runs in its own process (tests/gui/app_driver.py, tests/gui/insights_driver.py). Set
ADCOPY_SCREENSHOTS=DIR to keep the PNGs; docs/gui.md says how the images in docs/images are made.
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


def test_screenshots_of_each_insights_view_in_both_languages(xvfb_display, tmp_path):
    from tests.gui.insights_driver import CHARTS

    keep = os.environ.get("ADCOPY_SCREENSHOTS")
    summaries = {}
    for language in ("en", "zh_CN"):
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": xvfb_display, "PYTHONPATH": str(REPO),
               "ADCOPY_HOME": str(tmp_path / f"home-{language}"), "ADCOPY_PLUGINS": ""}
        env.pop("WAYLAND_DISPLAY", None)
        result = subprocess.run(
            [sys.executable, "-m", "tests.gui.insights_driver", "--lang", language, "--out", str(tmp_path / "shots")],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary["seeded"] is True and summary["saved"] is True
        assert summary["style"] == "qingshan" and summary["status"] != ""
        assert set(summary["files"]) == {"window", *CHARTS}
        for name, path in summary["files"].items():
            png = Path(path)
            image = QImage(str(png))
            if name == "window":
                assert image.width() >= 1360 and image.height() >= 860
            else:
                assert image.width() >= 1000 and image.height() >= 500, (name, image.size())
            assert 10_000 < png.stat().st_size < 300_000, (name, png.stat().st_size)  # a picture, small for docs
            assert distinct_colours(image) > 30, name  # axes, text and series, not a blank plot
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(png, Path(keep) / png.name)
        summaries[language] = summary
    en, zh = summaries["en"], summaries["zh_CN"]
    assert en["page_tab"] == "Insights" and zh["page_tab"] == "洞察"
    assert en["tabs"][0] == "Decisions" and len(set(en["tabs"])) == len(CHARTS)
    for number, name in enumerate(CHARTS):
        assert en["tabs"][number] != zh["tabs"][number]
        for english, chinese in zip(en["titles"][name], zh["titles"][name]):
            assert english != chinese and english.isascii() and not chinese.isascii(), (name, english, chinese)
    assert set(en["series"]["decisions"][0]) == {"Accepted", "Rejected", "Edited"}
    assert set(zh["series"]["decisions"][0]) == {"接受", "拒绝", "编辑"}
    for name in ("window", *CHARTS):
        assert Path(en["files"][name]).read_bytes() != Path(zh["files"][name]).read_bytes(), name
