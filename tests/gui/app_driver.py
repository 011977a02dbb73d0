"""Drive the real app in its own process: used by the screenshot and kill tests (and to refresh the
README image). Run from the repository root::

    python -m tests.gui.app_driver --product "Type: denim jacket" --n 3 --screenshot out.png [--lang zh_CN]

It opens the window the way ``adcopy`` does (``AppController``), adds the product, generates,
accepts the first candidate, then saves a screenshot, prints a JSON summary and exits — or, with
``--kill``, kills itself with SIGKILL right after the accept (nothing gets a chance to clean up).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def wait_until(app: QApplication, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not finish in time")
        app.processEvents()
        time.sleep(0.005)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--product", required=True)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--kind", default="title")
    parser.add_argument("--language", default=None, help="language of the copy (zh/en)")
    parser.add_argument("--lang", default=None, help="interface language (en / zh_CN)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--screenshot")
    parser.add_argument("--size", default="1360x860")
    parser.add_argument("--kill", action="store_true")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)

    from adcopy_desktop.core.prompts import parse_copy_kind
    from adcopy_desktop.core.settings import load_settings, save_settings
    from adcopy_desktop.gui.app import AppController

    if args.lang:
        settings = load_settings()
        settings.interface_language = args.lang
        save_settings(settings)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("AdCopy Desktop")
    controller = AppController()
    window = controller.start(build_missing_model=False)
    width, height = (int(part) for part in args.size.split("x"))
    window.resize(width, height)
    writer = window.writer
    writer.seeds = random.Random(args.seed)
    window.new_product()
    writer.editor.paste_edit.setPlainText(args.product)
    if not writer.editor.apply_paste():
        print(json.dumps({"error": writer.editor.error_label.text()}))
        return 2
    panel = writer.panel
    panel.kind_box.setCurrentIndex(panel.kind_box.findData(parse_copy_kind(args.kind)))
    panel.language_box.setCurrentIndex(panel.language_box.findData(args.language))
    panel.count_spin.setValue(args.n)
    job = window.generate()
    if job is None:
        print(json.dumps({"error": window.message_bar.texts()}))
        return 2
    wait_until(app, lambda: job.delivered, args.timeout)
    wait_until(app, lambda: all(card.scores is not None or card.candidate_id is None for card in writer.cards), 30)
    writer.decide(writer.cards[0], "accepted")
    summary = {
        "outcome": job.outcome,
        "product_id": writer.editor.product_id,
        "accepted": writer.cards[0].candidate_id,
        "texts": [card.text for card in writer.cards],
        "library": str(window.context.library.path),
        "messages": window.message_bar.texts(),
    }
    if args.kill:
        print(json.dumps(summary, ensure_ascii=False), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    writer.set_current_card(writer.cards[0])
    window.show()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    if args.screenshot:
        summary["saved"] = window.grab().save(args.screenshot)
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    QTimer.singleShot(0, window.close)
    app.processEvents()
    controller.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
