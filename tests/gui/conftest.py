"""GUI tests drive the real window under QT_QPA_PLATFORM=offscreen on a tiny random-weight model.

Each test has its own ADCOPY_HOME (library, settings, window layout) from tests/conftest.py.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random  # noqa: E402

import pytest  # noqa: E402

GENERATION_TIMEOUT_MS = 120_000


@pytest.fixture(autouse=True)
def english_interface(qapp):
    """Tests start in English whatever the machine's locale; a test may switch."""
    from adcopy_desktop.gui.i18n import ENGLISH, install_interface_language

    install_interface_language(ENGLISH)
    yield
    install_interface_language(ENGLISH)


@pytest.fixture
def open_window(qtbot, tiny_store):
    """open_window() -> a MainWindow on the tiny model and this test's library (closed at the end)."""
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.gui.main_window import MainWindow

    opened = []

    def open_(store=None, plugins=None, library_path=None):
        library = Library(library_path) if library_path else Library()
        window = MainWindow(store or tiny_store, library, plugins)
        window.writer.seeds = random.Random(20240601 + len(opened))  # the same candidates on every run
        qtbot.addWidget(window)
        window._test_library = library
        opened.append(window)
        return window

    yield open_
    for window in opened:
        close_window(window)


def close_window(window) -> None:
    if not window._closed:
        window.close()
    window.context.close()
    window._test_library.close()


def add_product(qtbot, window, text: str) -> int:
    """Paste a product into the editor of a new product and save it; returns its id."""
    window.new_product()
    editor = window.writer.editor
    editor.paste_edit.setPlainText(text)
    assert editor.apply_paste(), editor.error_label.text()
    product_id = editor.save()
    assert product_id is not None, editor.error_label.text()
    return product_id


def wait_for_job(qtbot, job, timeout: int = GENERATION_TIMEOUT_MS) -> None:
    """Wait until the job's ``finished`` signal has been handled on the UI thread."""
    qtbot.waitUntil(lambda: job.delivered, timeout=timeout)


def generate(qtbot, window, n: int = 2, kind=None, length=None):
    """Press Generate with ``n`` candidates and wait until the cards are filled."""
    panel = window.writer.panel
    panel.count_spin.setValue(n)
    if kind is not None:
        panel.kind_box.setCurrentIndex(panel.kind_box.findData(kind))
    if length is not None:
        panel.length_box.setCurrentIndex(panel.length_box.findData(length))
    job = window.generate()
    assert job is not None, window.message_bar.texts()
    wait_for_job(qtbot, job)
    return job
