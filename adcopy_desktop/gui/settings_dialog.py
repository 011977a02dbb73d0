"""Settings: interface language, execution provider, threads, automatic training and how many
trained versions to keep; the inference servers (add, edit, remove, test a connection); where the
app keeps its folders.

Server changes are saved at once, as ``adcopy backends add`` saves them (the key goes straight to
the keyring, so a Cancel could not take it back anyway); the dialog's OK keeps them.
"""

from __future__ import annotations

import dataclasses

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.endpoints import Endpoint, EndpointError
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import default_library_path
from adcopy_desktop.core.settings import EXECUTION_PROVIDER_CHOICES, Settings, load_settings
from adcopy_desktop.gui.i18n import INTERFACE_LANGUAGES, normalize_interface_language
from adcopy_desktop.paths import user_folders


class SettingsDialog(QDialog):
    servers_changed = Signal()  # a server was added, changed or removed (already saved)

    def __init__(self, settings: Settings, library_path=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.original = settings
        self.servers_edited = False
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
        """The configured OpenAI-compatible servers, with Add, Edit, Remove and a connection test
        that runs in the background; keys stay in the keyring and are never shown."""
        box = QGroupBox(self.tr("Inference servers"))
        layout = QVBoxLayout(box)
        self.endpoints: list[Endpoint] = []
        self.servers_table = QTableWidget(0, 5)
        self.servers_table.setHorizontalHeaderLabels(
            [self.tr("Name"), self.tr("Address"), self.tr("Model"), self.tr("At once"), self.tr("API key")])
        self.servers_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.servers_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.servers_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.servers_table.verticalHeader().setVisible(False)
        self.servers_table.horizontalHeader().setStretchLastSection(True)
        self.servers_table.itemSelectionChanged.connect(self._update_server_buttons)
        self.servers_table.cellDoubleClicked.connect(lambda row, column: self.edit_selected_server())
        self.add_server_button = QPushButton(self.tr("Add…"))
        self.add_server_button.clicked.connect(self.add_server)
        self.edit_server_button = QPushButton(self.tr("Edit…"))
        self.edit_server_button.clicked.connect(self.edit_selected_server)
        self.remove_server_button = QPushButton(self.tr("Remove"))
        self.remove_server_button.clicked.connect(lambda: self.remove_selected_server())
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.clicked.connect(self.test_selected_server)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_job = None
        self._fill_servers(settings.backends)
        layout.addWidget(self.servers_table)
        buttons = QHBoxLayout()
        for button in (self.add_server_button, self.edit_server_button, self.remove_server_button, self.test_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.test_result)
        return box

    def _fill_servers(self, entries: list[dict], select: str | None = None) -> None:
        """The table from settings entries; a broken entry is left out and named below the table."""
        self.endpoints, problems = [], []
        for entry in entries:
            try:
                self.endpoints.append(Endpoint.from_dict(entry))
            except EndpointError as error:
                problems.append(str(error))
        self.servers_table.setRowCount(len(self.endpoints))
        for row, endpoint in enumerate(self.endpoints):
            values = (endpoint.name, endpoint.base_url, endpoint.model or self.tr("(first listed)"),
                      str(endpoint.max_concurrent), self.tr("in the keyring") if endpoint.has_api_key else self.tr("none"))
            for column, value in enumerate(values):
                self.servers_table.setItem(row, column, QTableWidgetItem(value))
        names = [endpoint.name for endpoint in self.endpoints]
        if self.endpoints:
            self.servers_table.selectRow(names.index(select) if select in names else 0)
        self._update_server_buttons()
        self.test_result.setStyleSheet("")
        if problems:
            self.test_result.setText("\n".join(problems))
        elif not self.endpoints:
            self.test_result.setText(self.tr("No server yet: Add… one here (or: adcopy backends add NAME --url "
                                             "http://HOST:PORT/v1)."))
        else:
            self.test_result.setText("")

    def selected_endpoint(self) -> Endpoint | None:
        rows = self.servers_table.selectionModel().selectedRows()
        return self.endpoints[rows[0].row()] if rows and rows[0].row() < len(self.endpoints) else None

    def _update_server_buttons(self) -> None:
        chosen = self.selected_endpoint() is not None
        testing = self.test_job is not None and not self.test_job.delivered
        self.edit_server_button.setEnabled(chosen)
        self.remove_server_button.setEnabled(chosen)
        self.test_button.setEnabled(chosen and not testing)

    def add_server(self) -> "ServerDialog":
        return self._open_server_dialog(None)

    def edit_selected_server(self) -> "ServerDialog | None":
        endpoint = self.selected_endpoint()
        return self._open_server_dialog(endpoint) if endpoint is not None else None

    def _open_server_dialog(self, endpoint: Endpoint | None) -> "ServerDialog":
        dialog = ServerDialog(endpoint, self)
        dialog.accepted.connect(lambda: self._server_saved(dialog.saved))
        dialog.open()
        return dialog

    def _server_saved(self, endpoint: Endpoint) -> None:
        """Show the saved server and check it at once, as ``adcopy backends add`` does."""
        self._servers_changed(select=endpoint.name)
        self.test_selected_server()

    def remove_selected_server(self, ask=None) -> bool:
        """Forget the selected server and delete its key from the keyring, after asking. ``ask``
        (tests) receives the question and returns the button pressed."""
        from adcopy_desktop.core.endpoints import remove_endpoint

        endpoint = self.selected_endpoint()
        if endpoint is None:
            return False
        question = QMessageBox(QMessageBox.Icon.Question, self.tr("Remove server"),
                               self.tr("Remove the server {name} ({address})? Its API key is deleted from the "
                                       "keyring.").format(name=endpoint.name, address=endpoint.base_url),
                               QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        answer = ask(question) if ask is not None else question.exec()
        if answer not in (QMessageBox.StandardButton.Yes, question.button(QMessageBox.StandardButton.Yes)):
            return False
        try:
            remove_endpoint(endpoint.name)
        except AdCopyError as error:
            self._show_test_text(str(error), ok=False)
            return False
        self._servers_changed()
        return True

    def _servers_changed(self, select: str | None = None) -> None:
        self.servers_edited = True
        self._fill_servers(load_settings().backends, select)
        self.servers_changed.emit()

    def test_selected_server(self):
        """Check the selected server in the background; the result appears below the buttons."""
        from adcopy_desktop.core.endpoints import check_connection
        from adcopy_desktop.gui.worker import BackgroundJob

        endpoint = self.selected_endpoint()
        if endpoint is None:
            return None
        self.test_result.setStyleSheet("")
        self.test_result.setText(self.tr("Testing {name}…").format(name=endpoint.name))
        job = BackgroundJob(self.tr("Test connection"), lambda report, cancel: check_connection(endpoint))
        job.signals.succeeded.connect(self._show_test_result)
        job.signals.failed.connect(lambda message: self._show_test_text(message, ok=False))
        job.signals.finished.connect(self._update_server_buttons)
        self.test_job = job
        self.test_button.setEnabled(False)
        job.start()
        return job

    def _show_test_result(self, report) -> None:
        if report.ok:
            text = self.tr("{name}: connected, model {model}, first token after {seconds:.2f} s").format(
                name=report.endpoint, model=report.model, seconds=report.first_token_s or 0.0)
        else:
            text = self.tr("{name}: {problem}").format(name=report.endpoint, problem=report.message)
        self._show_test_text(text, ok=report.ok)

    def _show_test_text(self, text: str, *, ok: bool) -> None:
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
            # Saved already by the server buttons: the settings file has them, the snapshot may not.
            backends=load_settings().backends if self.servers_edited else self.original.backends,
        )


class ServerDialog(QDialog):
    """Add or edit one inference server: name, address, model, requests at once and an API key
    (into the keyring; never shown, never in settings). Saved by ``core.endpoints.configure_endpoint``
    like ``adcopy backends add``; the options not shown here (timeouts, retries, n mode) are kept."""

    def __init__(self, endpoint: Endpoint | None = None, parent=None):
        super().__init__(parent)
        self.endpoint = endpoint
        self.saved: Endpoint | None = None
        self.setWindowTitle(self.tr("Edit server") if endpoint else self.tr("Add server"))
        self.name_edit = QLineEdit(endpoint.name if endpoint else "")
        self.name_edit.setPlaceholderText("gpu-box")
        self.name_edit.setReadOnly(endpoint is not None)  # the name is the key's place in the keyring
        self.address_edit = QLineEdit(endpoint.base_url if endpoint else "")
        self.address_edit.setPlaceholderText("http://gpu-box:8000/v1")
        self.model_edit = QLineEdit(endpoint.model if endpoint else "")
        self.model_edit.setPlaceholderText(self.tr("(first listed)"))
        self.concurrent_spin = QSpinBox()
        self.concurrent_spin.setRange(1, 256)
        self.concurrent_spin.setValue(endpoint.max_concurrent if endpoint else Endpoint.max_concurrent)
        self.concurrent_spin.setToolTip(self.tr("Requests the server is given at once; bulk jobs write this many "
                                                "items in parallel."))
        has_key = bool(endpoint and endpoint.has_api_key)
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("Stored in the keyring; type a new one to replace it") if has_key
                                         else self.tr("None; type one if the server wants one"))
        self.forget_key_box = QCheckBox(self.tr("Delete the stored key"))
        self.forget_key_box.setVisible(has_key)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color:#b3261e;")
        for edit in (self.address_edit, self.key_edit):
            edit.textChanged.connect(self._update_warning)

        form = QFormLayout()
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("Address"), self.address_edit)
        form.addRow(self.tr("Model"), self.model_edit)
        form.addRow(self.tr("Requests at once"), self.concurrent_spin)
        form.addRow(self.tr("API key"), self.key_edit)
        form.addRow("", self.forget_key_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _update_warning(self) -> None:
        try:
            in_clear = Endpoint(name="check", base_url=self.address_edit.text()).key_crosses_network_unencrypted
        except EndpointError:
            in_clear = False
        self.warning_label.setText(self.tr(
            "This address is plain http: the key would cross the network unencrypted. Put the server behind "
            "https if the network is not yours.") if in_clear and self.key_edit.text().strip() else "")

    def accept(self) -> None:
        """Save and close; an invalid field or a missing keyring is shown and the dialog stays."""
        from adcopy_desktop.core.endpoints import configure_endpoint, find_endpoint

        name, key = self.name_edit.text().strip(), self.key_edit.text().strip()
        try:
            if self.endpoint is None and find_endpoint(name) is not None:  # Add must not replace another
                self.error_label.setText(self.tr("There is a server called {name} already; choose another name, "
                                                 "or edit that one.").format(name=name))
                return
            self.saved, _previous = configure_endpoint(
                name, self.address_edit.text().strip(), api_key=key or None,
                forget_api_key=self.forget_key_box.isChecked(), model=self.model_edit.text().strip(),
                max_concurrent=self.concurrent_spin.value())
        except AdCopyError as error:
            self.error_label.setText(str(error))
            return
        self.key_edit.clear()  # in the keyring now, not in the widget
        super().accept()
