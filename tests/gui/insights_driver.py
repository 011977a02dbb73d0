"""Drive the real app's Insights tab in its own process: used by the screenshot test and to refresh the
images in docs/images. Run from the repository root, with ``ADCOPY_HOME`` a folder of its own::

    python -m tests.gui.insights_driver --out DIR [--lang zh_CN] [--style qingshan] [--bucket week]

It seeds the library and the model manifests of ``ADCOPY_HOME`` with ``tests/insights_seed.py``
(unless the library already has products), opens the window the way ``adcopy`` does
(``AppController``), shows the Insights tab for the chosen brand style and period, and saves the
whole window (``insights-window-<lang>.png``) and each chart tab (``insights-<chart>-<lang>.png``:
the tab with its controls, chart and note), then prints a JSON summary and exits.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

# the chart tabs of InsightsPage.charts, in order, by the file names' part
CHARTS = ("decisions", "scores", "sinking", "generation", "training", "models", "exports")


def wait_until(app: QApplication, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not finish in time")
        app.processEvents()
        time.sleep(0.005)


def settle(app: QApplication, rounds: int = 15) -> None:
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.02)


def seed_home() -> bool:
    """Seed this ADCOPY_HOME's library and model store; False when the library already has products."""
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.paths import user_folders
    from tests.insights_seed import seed_library, seed_store

    library = Library()
    try:
        if library._db.execute("SELECT COUNT(*) FROM products").fetchone()[0]:
            return False
        seed_library(library)
    finally:
        library.close()
    seed_store(user_folders().models)
    return True


def pick_generation(page) -> int | None:
    """The first generation in the list whose chart shows most: a chosen candidate that was not sunk
    beside one that was (else any with a chosen candidate)."""
    from adcopy_desktop.core import insights

    box = page.generation_box
    fallback = None
    for index in range(box.count()):
        records = insights.score_distribution(page.context.library, int(box.itemData(index))).records()
        chosen = [r for r in records if r["chosen"]]
        if chosen and not chosen[0]["sunk"] and any(r["sunk"] for r in records):
            return index
        if chosen and fallback is None:
            fallback = index
    return fallback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, help="folder for the PNGs")
    parser.add_argument("--lang", default="en", help="interface language (en / zh_CN)")
    parser.add_argument("--style", default=None, help="brand style to show (default: the seed's)")
    parser.add_argument("--bucket", default="week", choices=("week", "day"))
    parser.add_argument("--size", default="1360x860")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)

    from adcopy_desktop.core.settings import load_settings, save_settings
    from adcopy_desktop.gui.app import AppController
    from tests.insights_seed import STYLE

    seeded = seed_home()
    settings = load_settings()
    settings.interface_language = args.lang
    save_settings(settings)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("AdCopy Desktop")
    controller = AppController()
    window = controller.start(build_missing_model=False)
    width, height = (int(part) for part in args.size.split("x"))
    window.resize(width, height)
    page = window.insights_page
    window.tabs.setCurrentWidget(page)
    settle(app)
    wait_until(app, lambda: page.job is not None and page.job.delivered, args.timeout)

    style = args.style or STYLE
    page.style_box.setCurrentIndex(max(0, page.style_box.findData(style)))
    page.bucket_box.setCurrentIndex(page.bucket_box.findData(args.bucket))
    job = page.refresh()
    wait_until(app, lambda: job.delivered, args.timeout)
    chosen = pick_generation(page)
    if chosen is not None:
        page.generation_box.setCurrentIndex(chosen)
        job = page.draw_generation()  # read in a background job
        wait_until(app, lambda: job is None or job.delivered, args.timeout)

    panels = {"decisions": [page.decisions], "scores": [page.scores], "sinking": [page.sinking],
              "generation": [page.generation], "training": [page.training, page.gate],
              "models": [page.models], "exports": [page.exports]}
    summary: dict = {
        "language": args.lang, "seeded": seeded, "style": page.style, "bucket": page.bucket,
        "status": page.status.text(), "page_tab": window.tabs.tabText(window.tabs.currentIndex()),
        "tabs": [page.charts.tabText(i) for i in range(page.charts.count())],
        "titles": {name: [panel.title for panel in panels[name]] for name in CHARTS},
        "series": {name: [list(panel.plotted.series) if panel.plotted else [] for panel in panels[name]]
                   for name in CHARTS},
        "files": {}, "saved": True,
    }
    suffix = args.lang.split("_")[0]
    page.charts.setCurrentIndex(0)
    settle(app)
    path = out / f"insights-window-{suffix}.png"
    summary["saved"] &= window.grab().save(str(path), "PNG")
    summary["files"]["window"] = str(path)
    for index, name in enumerate(CHARTS):
        page.charts.setCurrentIndex(index)
        settle(app)
        for panel in panels[name]:
            panel.plot.autoRange()
        settle(app, 5)
        path = out / f"insights-{name}-{suffix}.png"
        summary["saved"] &= page.charts.widget(index).grab().save(str(path), "PNG")
        summary["files"][name] = str(path)
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    QTimer.singleShot(0, window.close)
    app.processEvents()
    controller.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
