"""Settings: interface language, execution provider, threads, automatic training and how many
trained versions to keep; the inference servers (with a connection test); where the app keeps its
folders."""

from __future__ import annotations

import dataclasses

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.library import default_library_path
from adcopy_desktop.core.settings import EXECUTION_PROVIDER_CHOICES, Settings
from adcopy_desktop.gui.i18n import INTERFACE_LANGUAGES, normalize_interface_language
from adcopy_desktop.paths import user_folders


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, library_path=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.original = settings
        self.language_box = QComboBox()
        self.language_box.addItem(self.tr("Follow the system"), None)
        for code, name in INTERFACE_LANGUAGES.items():
            self.language_box.addItem(name, code)
        self.language_box.setCurrentIndex(
            max(self.language_box.findData(normalize_interface_language(settings.interface_language)), 0))
        self.provider_box = QComboBox()
        labels = {"auto": self.tr("Automatic (CUDA, then DirectML, then CPU)"), "cpu": "CPU", "cuda": "CUDA",
                  "directml": "DirectML"}
        for choice in EXECUTION_PROVIDER_CHOICES:
            self.provider_box.addItem(labels.get(choice, choice), choice)
        self.provider_box.setCurrentIndex(max(self.provider_box.findData(settings.execution_provider), 0))
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, 256)
        self.threads_spin.setSpecialValueText(self.tr("Automatic"))
        self.threads_spin.setValue(settings.threads or 0)

        self.auto_training_spin = QSpinBox()
        self.auto_training_spin.setRange(0, 100_000)
        self.auto_training_spin.setSpecialValueText(self.tr("Off"))
        self.auto_training_spin.setSuffix(self.tr(" accepted copies"))
        self.auto_training_spin.setValue(int(getattr(settings, "auto_training_after", 0) or 0))
        self.auto_training_spin.setToolTip(self.tr(
            "Train the model in the background by itself after this many newly accepted copies. "
            "The new model replaces the current one only if it is not worse on held-out copy."))
        self.keep_versions_spin = QSpinBox()
        self.keep_versions_spin.setRange(1, 100)
        self.keep_versions_spin.setValue(int(getattr(settings, "keep_model_versions", 3) or 3))
        self.keep_versions_spin.setToolTip(self.tr(
            "Trained versions kept per model for rolling back; active versions are always kept."))

        form = QFormLayout()
        form.addRow(self.tr("Interface language"), self.language_box)
        form.addRow(self.tr("Execution provider"), self.provider_box)
        form.addRow(self.tr("Threads"), self.threads_spin)
        form.addRow(self.tr("Train automatically after"), self.auto_training_spin)
        form.addRow(self.tr("Trained versions to keep"), self.keep_versions_spin)

        folders = user_folders()
        rows = (
            (self.tr("Settings"), folders.config),
            (self.tr("Library"), library_path or default_library_path()),
            (self.tr("Models"), folders.models),
            (self.tr("Plugins"), folders.plugins),
            (self.tr("Logs"), folders.logs),
        )
        folder_box = QGroupBox(self.tr("Folders"))
        folder_form = QFormLayout(folder_box)
        for label, path in rows:
            folder_form.addRow(label, self._folder_row(path))
        hint = QLabel(self.tr("Set ADCOPY_HOME before starting AdCopy to keep all of them in one folder."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color:palette(mid);")

        servers_box = self._servers_box(settings)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(servers_box)
        layout.addWidget(folder_box)
        layout.addWidget(hint)
        layout.addWidget(buttons)

    # -- inference servers ------------------------------------------------------------------------

    def _servers_box(self, settings: Settings) -> QGroupBox:
        """The configured OpenAI-compatible servers (adcopy backends add ...) and a connection test
        that runs in the background; keys stay in the keyring and are never shown."""
        from adcopy_desktop.core.endpoints import Endpoint, EndpointError

        box = QGroupBox(self.tr("Inference servers"))
        layout = QVBoxLayout(box)
        self.endpoints: list = []
        problems = []
        for entry in settings.backends:
            try:
                self.endpoints.append(Endpoint.from_dict(entry))
            except EndpointError as error:
                problems.append(str(error))
        self.servers_table = QTableWidget(len(self.endpoints), 5)
        self.servers_table.setHorizontalHeaderLabels(
            [self.tr("Name"), self.tr("Address"), self.tr("Model"), self.tr("At once"), self.tr("API key")])
        self.servers_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.servers_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.servers_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.servers_table.verticalHeader().setVisible(False)
        self.servers_table.horizontalHeader().setStretchLastSection(True)
        for row, endpoint in enumerate(self.endpoints):
            values = (endpoint.name, endpoint.base_url, endpoint.model or self.tr("(first listed)"),
                      str(endpoint.max_concurrent), self.tr("in the keyring") if endpoint.has_api_key else self.tr("none"))
            for column, value in enumerate(values):
                self.servers_table.setItem(row, column, QTableWidgetItem(value))
        if self.endpoints:
            self.servers_table.selectRow(0)
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.setEnabled(bool(self.endpoints))
        self.test_button.clicked.connect(self.test_selected_server)
        self.test_result = QLabel(self.tr("Add a server with: adcopy backends add NAME --url http://HOST:PORT/v1")
                                  if not self.endpoints else "")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if problems:
            self.test_result.setText("\n".join(problems))
        self.test_job = None
        layout.addWidget(self.servers_table)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.test_result, 1)
        layout.addLayout(row)
        return box

    def test_selected_server(self):
        """Check the selected server in the background; the result appears beside the button."""
        from adcopy_desktop.core.endpoints import check_connection
        from adcopy_desktop.gui.worker import BackgroundJob

        rows = self.servers_table.selectionModel().selectedRows()
        endpoint = self.endpoints[rows[0].row() if rows else 0]
        self.test_button.setEnabled(False)
        self.test_result.setText(self.tr("Testing {name}…").format(name=endpoint.name))
        job = BackgroundJob(self.tr("Test connection"), lambda report, cancel: check_connection(endpoint))
        job.signals.succeeded.connect(self._show_test_result)
        job.signals.failed.connect(lambda message: self._show_test_text(message, ok=False))
        self.test_job = job.start()
        return job

    def _show_test_result(self, report) -> None:
        if report.ok:
            text = self.tr("{name}: connected, model {model}, first token after {seconds:.2f} s").format(
                name=report.endpoint, model=report.model, seconds=report.first_token_s or 0.0)
        else:
            text = self.tr("{name}: {problem}").format(name=report.endpoint, problem=report.message)
        self._show_test_text(text, ok=report.ok)

    def _show_test_text(self, text: str, *, ok: bool) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet("" if ok else "color:#b3261e;")
        self.test_result.setText(text)

    def _folder_row(self, path) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(str(path))
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_button = QPushButton(self.tr("Open"))
        path = Path(path)
        target = path if path.is_dir() else path.parent
        open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))))
        layout.addWidget(label, 1)
        layout.addWidget(open_button)
        return row

    def result_settings(self) -> Settings:
        """The settings as chosen in the dialog (others, such as disabled plugins, unchanged)."""
        return dataclasses.replace(
            self.original,
            interface_language=self.language_box.currentData(),
            execution_provider=self.provider_box.currentData(),
            threads=self.threads_spin.value() or None,
            auto_training_after=self.auto_training_spin.value(),
            keep_model_versions=self.keep_versions_spin.value(),
        )
