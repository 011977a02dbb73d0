"""The AdCopy window: writer, library, plugins, models and training in tabs; menus with the shortcuts.

The window composes the panels and owns nothing but layout: the shared state (model store,
library, plugins, settings, running jobs) is the ``AppContext``. Errors from any job or plugin show
in the message bar at the top; nothing blocks the user's work.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import shiboken6
from PySide6.QtCore import QMimeData, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop import __version__
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.plugins import PluginManager
from adcopy_desktop.core.settings import Settings
from adcopy_desktop.gui.context import AppContext, window_settings
from adcopy_desktop.gui.i18n import current_interface_language, resolve_interface_language
from adcopy_desktop.gui.insights_page import InsightsPage
from adcopy_desktop.gui.library_view import LibraryView
from adcopy_desktop.gui.message_bar import MessageBar
from adcopy_desktop.gui.model_manager import ModelManagerPage
from adcopy_desktop.gui.plugin_manager import PluginManagerPage, SafeModeBanner
from adcopy_desktop.gui.settings_dialog import SettingsDialog
from adcopy_desktop.gui.training_panel import TrainingPage
from adcopy_desktop.gui.write_page import WritePage

log = logging.getLogger("adcopy.gui")

WRITER, LIBRARY, PLUGINS, MODELS, TRAINING, INSIGHTS = range(6)
POINTER_POLL_MS = 2000  # how often the window looks for a model switched outside it (CLI, another window)


class MainWindow(QMainWindow):
    language_change_requested = Signal(str)  # the app controller rebuilds the window in that language
    language_switch_supported = False  # set by the controller that handles language_change_requested

    def __init__(
        self,
        store: ModelStore | None = None,
        library: Library | None = None,
        plugins: PluginManager | None = None,
        settings: Settings | None = None,
        *,
        context: AppContext | None = None,
    ):
        super().__init__()
        self.setWindowTitle(self.tr("AdCopy Desktop"))
        self._owns_context = context is None
        self._owns_library = context is None and library is None
        self.context = context or AppContext(store, library, plugins, settings)
        self._closed = False

        self.writer = WritePage(self.context)
        self.library_view = LibraryView(self.context)
        self.plugins_page = PluginManagerPage(self.context)
        self.models_page = ModelManagerPage(self.context)
        self.training_page = TrainingPage(self.context)
        self.insights_page = InsightsPage(self.context)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.writer, self.tr("Writer"))
        self.tabs.addTab(self.library_view, self.tr("Library"))
        self.tabs.addTab(self.plugins_page, self.tr("Plugins"))
        self.tabs.addTab(self.models_page, self.tr("Models"))
        self.tabs.addTab(self.training_page, self.tr("Training"))
        self.tabs.addTab(self.insights_page, self.tr("Insights"))
        self.message_bar = MessageBar()
        self.safe_banner = SafeModeBanner()
        self.safe_banner.setVisible(self.context.plugins.safe_mode)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.safe_banner)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.model_label = QLabel()
        self.jobs_label = QLabel()
        self.statusBar().addPermanentWidget(self.jobs_label)
        self.statusBar().addPermanentWidget(self.model_label)
        # which ONNX Runtime provider the model runs on (CPU, DirectML, CUDA), once it is loaded
        self.provider_label = QLabel()
        self.statusBar().addPermanentWidget(self.provider_label)
        self.context.provider_loaded.connect(self._show_provider)
        self._make_menus()

        self.context.message.connect(self.message_bar.show_message)
        self.context.models_changed.connect(self.show_model_status)
        self.context.jobs.job_started.connect(self._jobs_changed)
        self.context.jobs.job_finished.connect(self._jobs_changed)
        # every start/finish, not only busy<->idle: a scoring job can outlive the generation
        self.context.jobs.job_started.connect(self.plugins_page.jobs_changed)
        self.context.jobs.job_finished.connect(self.plugins_page.jobs_changed)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.resize(1280, 820)
        self.restore_layout()
        self.show_model_status()
        self._pointer_seen = self._read_pointer()
        self.pointer_timer = QTimer(self)
        self.pointer_timer.setInterval(POINTER_POLL_MS)
        self.pointer_timer.timeout.connect(self.check_active_model)
        self.pointer_timer.start()
        QTimer.singleShot(0, self, self._deferred_start)
        log.info("main window open on model %s", self.model_label.toolTip() or "none")

    def _deferred_start(self) -> None:
        """Once the window is up: show plugin problems, load the model, build the cards."""
        if self._closed or self.context.closed:
            return
        self.context.report_plugin_problems()
        self.library_view.report_unfinished_exports()
        self.writer.prepare()

    # -- menus and shortcuts ---------------------------------------------------------------------

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda checked=False: slot())
        menu.addAction(action)
        return action

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.new_action = self._action(file_menu, self.tr("New product"), self.new_product, "Ctrl+N")
        self._action(file_menu, self.tr("Import products…"), self.writer.catalog.choose_import_file, "Ctrl+I")
        self._action(file_menu, self.tr("Generate for many products…"), self.writer.catalog.open_batch_dialog,
                     "Ctrl+Shift+B")
        self._action(file_menu, self.tr("Export accepted copy…"), self.library_view.choose_export_file, "Ctrl+E")
        self._action(file_menu, self.tr("Shop outbox…"), lambda: self.library_view.open_export_dialog(outbox=True))
        file_menu.addSeparator()
        self._action(file_menu, self.tr("Settings…"), self.open_settings, "Ctrl+,")
        file_menu.addSeparator()
        self._action(file_menu, self.tr("Quit"), self.close, "Ctrl+Q")

        copy_menu = bar.addMenu(self.tr("&Copy"))
        self.generate_action = self._action(copy_menu, self.tr("Generate"), self.generate,
                                            ["Ctrl+Return", "Ctrl+Enter"])
        self.stop_action = self._action(copy_menu, self.tr("Stop"), self.writer.stop, "Esc")
        copy_menu.addSeparator()
        self.accept_action = self._action(copy_menu, self.tr("Accept current candidate"),
                                          lambda: self.writer.decide_current("accepted"), "Ctrl+Shift+A")
        self.reject_action = self._action(copy_menu, self.tr("Reject current candidate"),
                                          lambda: self.writer.decide_current("rejected"), "Ctrl+Shift+R")
        self._action(copy_menu, self.tr("Regenerate current candidate"),
                     lambda: self.writer.current_card and self.writer.regenerate(self.writer.current_card),
                     "Ctrl+Shift+G")
        self._action(copy_menu, self.tr("Copy current candidate"), self.writer.copy_current, "Ctrl+Shift+C")
        self._action(copy_menu, self.tr("Compare candidates"), self.writer.compare, "Ctrl+Shift+M")
        for position in range(8):
            self._action(copy_menu, self.tr("Go to candidate {number}").format(number=position + 1),
                         lambda p=position: self.writer.focus_card(p), f"Alt+{position + 1}").setVisible(False)
        copy_menu.addSeparator()
        self.next_action = self._action(copy_menu, self.tr("Next product"), lambda: self.writer.next_product(1),
                                        "Ctrl+PgDown")
        self._action(copy_menu, self.tr("Previous product"), lambda: self.writer.next_product(-1), "Ctrl+PgUp")

        view_menu = bar.addMenu(self.tr("&View"))
        for index, label in ((WRITER, self.tr("Writer")), (LIBRARY, self.tr("Library")),
                             (PLUGINS, self.tr("Plugins")), (MODELS, self.tr("Models")),
                             (TRAINING, self.tr("Training")), (INSIGHTS, self.tr("Insights"))):
            self._action(view_menu, label, lambda i=index: self.tabs.setCurrentIndex(i), f"Ctrl+{index + 1}")

        help_menu = bar.addMenu(self.tr("&Help"))
        self._action(help_menu, self.tr("Keyboard shortcuts"), self.show_shortcuts, "F1")
        help_menu.addSeparator()
        self._action(help_menu, self.tr("Open log folder"), self.open_log_folder,
                     tip=self.tr("The folder of AdCopy's log files (rotated, secrets removed)"))
        self._action(help_menu, self.tr("Copy diagnostics…"), self.copy_diagnostics,
                     tip=self.tr("Save a zip for support: versions, plugins, models, settings, recent logs; "
                                 "secrets removed"))
        help_menu.addSeparator()
        self._action(help_menu, self.tr("About AdCopy"), self.show_about)

    def _tab_changed(self, index: int) -> None:
        if index == LIBRARY:
            self.library_view.refresh_if_stale()
        elif index == INSIGHTS:
            self.insights_page.refresh_if_stale()

    def generate(self):
        self.tabs.setCurrentIndex(WRITER)
        return self.writer.generate()

    def new_product(self) -> None:
        self.tabs.setCurrentIndex(WRITER)
        self.writer.new_product()

    def shortcut_text(self) -> str:
        rows = [
            (self.tr("Generate"), "Ctrl+Enter"), (self.tr("Stop"), "Esc"),
            (self.tr("Accept current candidate"), "Ctrl+Shift+A"), (self.tr("Reject current candidate"), "Ctrl+Shift+R"),
            (self.tr("Regenerate current candidate"), "Ctrl+Shift+G"), (self.tr("Copy current candidate"), "Ctrl+Shift+C"),
            (self.tr("Go to candidate 1–8"), "Alt+1 … Alt+8"), (self.tr("Next product"), "Ctrl+PgDown"),
            (self.tr("Previous product"), "Ctrl+PgUp"), (self.tr("New product"), "Ctrl+N"),
            (self.tr("Save product"), "Ctrl+S"),
            (self.tr("Writer, Library, Plugins, Models, Training"), "Ctrl+1 … Ctrl+5"),
            (self.tr("Insights"), "Ctrl+6"),
        ]
        return "\n".join(f"{keys:18} {label}" for label, keys in rows)

    def show_shortcuts(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Keyboard shortcuts"))
        box.setText(f"<pre>{self.shortcut_text()}</pre>")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About AdCopy"), self.tr(
            "AdCopy Desktop {version}: marketing copy from a language model that runs on this computer. "
            "Nothing leaves the computer unless you export it.").format(version=__version__))

    # -- diagnostics -----------------------------------------------------------------------------

    def log_folder(self) -> Path:
        from adcopy_desktop.core.logs import log_file

        folder = log_file().parent
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def open_log_folder(self) -> bool:
        folder = self.log_folder()
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            return True
        self.context.notice(self.tr("The log files are in {folder}").format(folder=folder))
        return False

    def copy_diagnostics(self, path: str | Path | None = None):
        """Ask where to save the diagnostics zip (``path`` skips the question), write it in the
        background, then put the file on the clipboard (paste it into a mail or a support form)."""
        if path is None:
            suggested = Path.home() / f"adcopy-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip"
            chosen, _ = QFileDialog.getSaveFileName(self, self.tr("Save diagnostics"), str(suggested),
                                                    self.tr("Zip archives (*.zip)"))
            if not chosen:
                return None
            path = chosen
        from adcopy_desktop.core.diagnostics import write_bundle

        context = self.context
        plugins, library_path, models_root = context.plugins, context.library.path, context.store.root

        def done(bundle) -> None:
            data = QMimeData()
            data.setUrls([QUrl.fromLocalFile(str(bundle.path))])
            data.setText(str(bundle.path))
            QGuiApplication.clipboard().setMimeData(data)
            self.context.notice(self.tr(
                "Diagnostics saved to {path} and copied to the clipboard; tokens, passwords and keys were "
                "removed. Attach the file to your support request.").format(path=bundle.path))

        return context.run(self.tr("Diagnostics"), lambda report, cancel: write_bundle(
            Path(path), library_path=library_path, plugins=plugins, models_root=models_root),
            kind="diagnostics", on_success=done, owner=self)

    # -- status ----------------------------------------------------------------------------------

    def show_model_status(self) -> None:
        self._pointer_seen = self._read_pointer()
        try:
            info = self.context.store.active_model()
        except AdCopyError:
            self.model_label.setText(self.tr("No model installed — see the Models tab"))
            self.model_label.setToolTip("")
            return
        languages = "+".join(info.languages)
        self.model_label.setText(self.tr("Model: {name} ({languages})").format(name=info.name or info.id,
                                                                                languages=languages))
        self.model_label.setToolTip(info.id)

    def _show_provider(self, provider: str) -> None:
        if not shiboken6.isValid(self.provider_label):
            return
        short = provider.removesuffix("ExecutionProvider") if provider else ""
        self.provider_label.setText(self.tr("Runs on: {provider}").format(provider=short) if short else "")
        self.provider_label.setToolTip(provider)

    def _read_pointer(self):
        try:
            return self.context.store.pointer()
        except OSError:
            return None

    def check_active_model(self) -> bool:
        """Notice a model switched outside this window (``adcopy models rollback``, a training run
        from the command line): refresh what shows the active model. Generation follows the
        pointer by itself."""
        pointer = self._read_pointer()
        if pointer == self._pointer_seen:
            return False
        self._pointer_seen = pointer
        self.context.models_changed.emit()
        return True

    def _jobs_changed(self, *args) -> None:
        names = [job.name for job in self.context.jobs.running() if job.kind not in ("events", "scoring")]
        self.jobs_label.setText(self.tr("Working: {jobs}").format(jobs=", ".join(names)) if names else "")

    # -- settings --------------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.context.settings, self.context.library.path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda result: result == QDialog.DialogCode.Accepted and self.apply_settings(
            dialog.result_settings()))
        dialog.servers_changed.connect(self.servers_changed)
        dialog.open()
        return dialog

    def servers_changed(self) -> None:
        """Settings saved a server at once (its key is in the keyring already): the window's
        settings and the model picker follow, whether the dialog then ends with OK or Cancel."""
        import dataclasses

        from adcopy_desktop.core.settings import load_settings

        self.context.settings = dataclasses.replace(self.context.settings, backends=load_settings().backends)
        self.context.settings_changed.emit(self.context.settings)

    def apply_settings(self, settings: Settings) -> None:
        self.context.save_settings(settings)
        language = resolve_interface_language(settings.interface_language)
        if language == current_interface_language():
            return
        if self.context.jobs.busy or not self.language_switch_supported:
            self.context.notice(self.tr("The interface language changes the next time AdCopy starts."))
            return
        self.language_change_requested.emit(language)

    # -- layout ----------------------------------------------------------------------------------

    def save_layout(self) -> None:
        settings = window_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/tab", self.tabs.currentIndex())
        self.writer.save_state(settings)
        self.library_view.save_state(settings)
        settings.sync()

    def restore_layout(self) -> None:
        settings = window_settings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.writer.restore_state(settings)
        self.library_view.restore_state(settings)
        self.tabs.setCurrentIndex(int(settings.value("window/tab", WRITER) or WRITER))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self._closed:
            self._closed = True
            self.pointer_timer.stop()
            self.save_layout()
            self.writer.stream.end()
            if self._owns_context:
                self.context.close()
                if self._owns_library:
                    self.context.library.close()
        super().closeEvent(event)
