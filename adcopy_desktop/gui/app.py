"""Starting the desktop app: Qt application, first-run model build, main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QProgressDialog

from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.gui.worker import BackgroundJob


def build_default_model_with_dialog(app: QApplication, store: ModelStore) -> None:
    """First start: build the default model with a progress dialog instead of failing."""
    dialog = QProgressDialog("Preparing the default model (first start only)…", "Cancel", 0, 100)
    dialog.setWindowTitle("AdCopy Desktop")
    dialog.setMinimumDuration(0)
    job = BackgroundJob("Building the default model", lambda report, cancel: store.ensure_default_model(report, cancel))

    def on_progress(event) -> None:
        dialog.setLabelText(event.message)
        if event.fraction is not None:
            dialog.setValue(int(event.fraction * 100))

    job.signals.progress.connect(on_progress)
    job.signals.failed.connect(lambda message: dialog.setLabelText(message))
    job.signals.finished.connect(dialog.close)
    dialog.canceled.connect(job.cancel)
    job.start()
    dialog.exec()


def run_app(argv: list[str] | None = None) -> int:
    from adcopy_desktop.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("AdCopy Desktop")
    store = ModelStore()
    if store.active_id() is None:
        build_default_model_with_dialog(app, store)
    window = MainWindow(store)
    window.show()
    return app.exec()
