"""Help > Open log folder and Help > Copy diagnostics…: the folder opened is the log folder, the
zip is written in the background, holds no planted secret and is put on the clipboard."""

from __future__ import annotations

import json
import zipfile

from PySide6.QtGui import QDesktopServices, QGuiApplication

from adcopy_desktop.core.logs import log_file
from adcopy_desktop.paths import user_folders
from tests.gui.conftest import wait_for_job

TOKEN = "pl4ntedGuiToken7a41c9e0d2"


def help_actions(window) -> dict[str, object]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return {action.text(): action for action in menu.actions() if action.text()}


def test_open_log_folder(qtbot, open_window, monkeypatch):
    window = open_window()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    help_actions(window)["Open log folder"].trigger()
    assert [url.toLocalFile() for url in opened] == [str(log_file().parent)]
    assert log_file().parent == user_folders().logs


def test_copy_diagnostics_writes_a_redacted_zip_and_puts_it_on_the_clipboard(qtbot, open_window, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("SHOP_ACCESS_TOKEN", TOKEN)
    user_folders().ensure().settings_file.write_text(json.dumps(
        {"shops": [{"target": "shopify", "shop_url": f"https://me:{TOKEN}@shop.example.com"}]}), encoding="utf-8")
    window = open_window()
    assert "Copy diagnostics…" in help_actions(window)
    out = tmp_path / "diagnostics.zip"
    job = window.copy_diagnostics(out)
    wait_for_job(qtbot, job, timeout=60_000)
    assert out.is_file()
    with zipfile.ZipFile(out) as archive:
        texts = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert "plugins.json" in texts and "models.json" in texts
    assert all(TOKEN not in text for text in texts.values())
    data = QGuiApplication.clipboard().mimeData()
    assert [url.toLocalFile() for url in data.urls()] == [str(out)]
    assert any("Diagnostics saved to" in text for text in window.message_bar.texts())
