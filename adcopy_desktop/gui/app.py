"""Starting the desktop app: Qt application, interface language, first-run model build, main window.

``run_app`` is what ``adcopy`` (no command) and ``python -m adcopy_desktop`` call. The
``AppController`` owns the shared ``AppContext`` for the whole session, so switching the interface
language rebuilds the window without losing the library, the loaded model or running work.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.plugins import PluginManager
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.core.settings import load_settings
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.i18n import install_interface_language, resolve_interface_language
from adcopy_desktop.gui.worker import BackgroundJob

log = logging.getLogger("adcopy.gui")


class FirstStart(QObject):
    """Texts of the first-start dialog (a QObject so that they are translated in context)."""

    def title(self) -> str:
        return self.tr("AdCopy Desktop: first start")

    def preparing(self) -> str:
        from adcopy_desktop.core.model_store import catalog_model

        from adcopy_desktop.core.model_store.store import bundled_copy

        model = catalog_model(None)
        if bundled_copy(model.id) is not None:  # an installer's prebuilt copy (the lite edition)
            return self.tr("No model is installed yet. Installing the default model {name} ({licence} licence, by "
                           "{publisher}) from this installer's copy, only this once…").format(
                name=model.name, licence=model.licence.name, publisher=model.licence.publisher)
        return self.tr("No model is installed yet. Building the default model {name} ({size:.1f} GB of weights, "
                       "{licence} licence, by {publisher}) — about two minutes, only this once…").format(
            name=model.name, size=model.download_bytes / 1e9, licence=model.licence.name,
            publisher=model.licence.publisher)

    def cancel(self) -> str:
        return self.tr("Cancel")

    def failed(self, message: str) -> str:
        return self.tr("The default model could not be built:\n\n{message}\n\nAdCopy opens anyway; import a model "
                       "in the Models tab or build the default one there.").format(message=message)

    def cancelled(self) -> str:
        return self.tr("Building the default model was cancelled. AdCopy opens anyway; build it or import a "
                       "model in the Models tab.")


def build_default_model_with_dialog(store: ModelStore, parent=None) -> tuple[bool, str | None]:
    """First start: build the default model with a progress dialog instead of failing.

    Returns (built, problem): problem is the message shown when the build failed or was cancelled."""
    texts = FirstStart()
    dialog = QProgressDialog(texts.preparing(), texts.cancel(), 0, 100, parent)
    dialog.setWindowTitle(texts.title())
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumWidth(480)
    outcome: dict[str, object] = {"built": False, "problem": None}
    job = BackgroundJob(texts.title(), lambda report, cancel: store.ensure_default_model(report, cancel),
                        kind="model")

    def on_progress(event) -> None:
        if isinstance(event, ProgressEvent):
            dialog.setLabelText(f"{texts.preparing()}\n\n{event.message}")
            if event.fraction is not None:
                dialog.setValue(int(event.fraction * 100))

    def on_failed(message: str) -> None:
        outcome["problem"] = texts.failed(message)

    def on_cancelled() -> None:
        outcome["problem"] = texts.cancelled()

    job.signals.progress.connect(on_progress)
    job.signals.succeeded.connect(lambda info: outcome.update(built=True))
    job.signals.failed.connect(on_failed)
    job.signals.cancelled.connect(on_cancelled)
    job.signals.finished.connect(dialog.accept)
    dialog.canceled.connect(job.cancel)
    job.start()
    dialog.exec()
    if job.running:  # the dialog was closed some other way: stop the build and wait for it
        job.cancel()
        job.wait(60)
    problem = outcome["problem"]
    if problem:
        log.warning("first start: %s", problem)
        QMessageBox.warning(parent, texts.title(), str(problem))
    return bool(outcome["built"]), problem if isinstance(problem, str) else None


class AppController(QObject):
    """One session of the app: the shared context and the (re)built main window."""

    def __init__(self, store: ModelStore | None = None, library: Library | None = None,
                 plugins: PluginManager | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._owns_library = library is None
        self.context = AppContext(store, library, plugins, load_settings(), parent=self)
        self.window = None

    def start(self, *, build_missing_model: bool = True):
        from adcopy_desktop.gui.plugin_manager import offer_safe_mode_after_crash

        install_interface_language(resolve_interface_language(self.context.settings.interface_language))
        offer_safe_mode_after_crash()  # before any plugin loads: the last run died in plugin work
        if build_missing_model and self.context.store.active_id() is None:
            install_interface_language(resolve_interface_language(self.context.settings.interface_language))
            build_default_model_with_dialog(self.context.store)
        return self.open_window()

    def open_window(self):
        from adcopy_desktop.gui.main_window import MainWindow

        install_interface_language(resolve_interface_language(self.context.settings.interface_language))
        window = MainWindow(context=self.context)
        window.language_change_requested.connect(self.switch_language)
        window.language_switch_supported = True
        self.window = window
        window.show()
        return window

    def switch_language(self, language: str):
        """Rebuild the window in the new language; the library, model and plugins stay loaded."""
        old = self.window
        if old is not None:
            old.save_layout()
            old._closed = True  # its closeEvent must not stop the session's work
        window = self.open_window()
        if old is not None:
            window.restoreGeometry(old.saveGeometry())
            old.hide()
            old.deleteLater()
        return window

    def shutdown(self) -> None:
        self.context.close()
        if self._owns_library:
            self.context.library.close()


def run_app(argv: list[str] | None = None) -> int:
    from adcopy_desktop.core.logs import ensure_logging

    ensure_logging()  # started without the CLI (an installer's shortcut): the same rotating log
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("AdCopy Desktop")
    app.setOrganizationName("AdCopy")
    try:
        controller = AppController()
    except AdCopyError as exc:  # e.g. a library from a newer AdCopy
        install_interface_language(resolve_interface_language(load_settings().interface_language))
        QMessageBox.critical(None, "AdCopy Desktop", str(exc))
        return 1
    controller.start()
    app.aboutToQuit.connect(controller.shutdown)
    _smoke_test_hooks(app, controller)
    return app.exec()


def _smoke_test_hooks(app, controller) -> None:
    """For installer smoke tests (packaging/, .github/workflows/release.yml): with
    ADCOPY_QUIT_AFTER_MS the app reports when its window was first shown (seconds since the process
    started, on stderr), optionally saves a screenshot to ADCOPY_SCREENSHOT, and quits after that
    many milliseconds."""
    quit_after = os.environ.get("ADCOPY_QUIT_AFTER_MS")
    if not quit_after:
        return
    import psutil
    from PySide6.QtCore import QTimer

    def report() -> None:
        started = psutil.Process().create_time()
        sys.stderr.write(f"adcopy: window shown {time.time() - started:.2f} s after start\n")
        sys.stderr.flush()
        shot = os.environ.get("ADCOPY_SCREENSHOT")
        if shot and controller.window is not None:
            controller.window.grab().save(shot)

    QTimer.singleShot(0, report)
    QTimer.singleShot(int(quit_after), app.quit)
