"""Export accepted copy to a file or a shop, and see the shop outbox (unfinished jobs, resume).

The export runs as a background job (``AppContext.run``) calling the same core functions as
``adcopy export``; progress arrives per item. Shop access keys are typed into password fields and
go straight to the system keyring (``core/secrets.py``); the dialog never keeps or shows them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.prompts import CopyKind
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.labels import kind_label, product_title
from adcopy_desktop.gui.tables import read_only_table



class ExportDialog(QDialog):
    def __init__(self, context: AppContext, parent=None, *, filters: dict | None = None, outbox: bool = False):
        super().__init__(parent)
        self.context = context
        self.job = None
        self.last_result = None
        self.setWindowTitle(self.tr("Export accepted copy"))
        self.resize(720, 560)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._export_tab(filters or {}), self.tr("Export"))
        self.tabs.addTab(self._outbox_tab(), self.tr("Shop outbox"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.target_changed()
        self.refresh_outbox()
        if outbox:
            self.tabs.setCurrentIndex(1)

    # -- export tab --------------------------------------------------------------------------------

    def _export_tab(self, initial: dict) -> QWidget:
        page = QWidget()
        self.target_box = QComboBox()
        for name, exporter in self.context.plugins.exporters().items():
            self.target_box.addItem(exporter.label or name, name)
        self.product_box = QComboBox()
        self.product_box.addItem(self.tr("All products"), None)
        for stored in self.context.library.list_products():
            self.product_box.addItem(product_title(stored.product), stored.id)
        self.kind_box = QComboBox()
        self.kind_box.addItem(self.tr("All kinds"), None)
        for kind in CopyKind:
            self.kind_box.addItem(kind_label(kind), kind.value)
        self.style_box = QComboBox()
        self.style_box.addItem(self.tr("Any style"), None)
        for name in self.context.plugins.styles():
            self.style_box.addItem(name, name)
        self.language_box = QComboBox()
        self.language_box.addItem(self.tr("Any language"), None)
        self.language_box.addItem(self.tr("Chinese"), "zh")
        self.language_box.addItem(self.tr("English"), "en")
        self.since_check = QCheckBox(self.tr("Only copy generated since"))
        self.since_date = QDateEdit(QDate.currentDate().addDays(-7))
        self.since_date.setCalendarPopup(True)
        self.since_date.setDisplayFormat("yyyy-MM-dd")
        self.since_date.setEnabled(False)
        self.since_check.toggled.connect(self.since_date.setEnabled)
        for box, key in ((self.product_box, "product_id"), (self.kind_box, "kind"), (self.style_box, "style")):
            index = box.findData(initial.get(key))
            if index >= 0:
                box.setCurrentIndex(index)
        self._until = initial.get("until")
        if initial.get("since"):
            self.since_check.setChecked(True)
            self.since_date.setDate(QDate(dt.date.fromtimestamp(initial["since"])))

        self.path_edit = QLineEdit()
        self.browse_button = QPushButton(self.tr("Choose…"))
        self.browse_button.clicked.connect(self.choose_file)
        self.file_row = QWidget()
        file_layout = QHBoxLayout(self.file_row)
        file_layout.setContentsMargins(0, 0, 0, 0)
        file_layout.addWidget(self.path_edit, 1)
        file_layout.addWidget(self.browse_button)

        self.shop_box = QWidget()
        shop_form = QFormLayout(self.shop_box)
        shop_form.setContentsMargins(0, 0, 0, 0)
        self.shop_url_edit = QLineEdit()
        self.shop_url_edit.setPlaceholderText("https://example.myshopify.com")
        self.api_version_edit = QLineEdit()
        self.credential_edits: dict[str, QLineEdit] = {}
        self.credential_form = QFormLayout()
        self.keyring_label = QLabel()
        self.keyring_label.setWordWrap(True)
        self.save_credentials_button = QPushButton(self.tr("Save in the system keyring"))
        self.save_credentials_button.clicked.connect(self.save_credentials)
        shop_form.addRow(self.tr("Shop address"), self.shop_url_edit)
        shop_form.addRow(self.tr("API version"), self.api_version_edit)
        shop_form.addRow(self.credential_form)
        shop_form.addRow(self.save_credentials_button, self.keyring_label)

        self.export_button = QPushButton(self.tr("Export"))
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton(self.tr("Stop"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.failure_list = QListWidget()

        form = QFormLayout()
        form.addRow(self.tr("Target"), self.target_box)
        form.addRow(self.tr("Product"), self.product_box)
        form.addRow(self.tr("Kind"), self.kind_box)
        form.addRow(self.tr("Style"), self.style_box)
        form.addRow(self.tr("Language"), self.language_box)
        form.addRow(self.since_check, self.since_date)
        form.addRow(self.tr("File"), self.file_row)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.shop_box)
        run_row = QHBoxLayout()
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.export_button)
        run_row.addWidget(self.cancel_button)
        layout.addLayout(run_row)
        layout.addWidget(self.status_label)
        layout.addWidget(QLabel(self.tr("Items the shop refused")))
        layout.addWidget(self.failure_list, 1)
        self.target_box.currentIndexChanged.connect(self.target_changed)
        self.shop_url_edit.editingFinished.connect(self.update_keyring_status)
        return page

    def exporter(self):
        return self.context.plugins.exporters().get(self.target_box.currentData())

    def target_changed(self) -> None:
        exporter = self.exporter()
        shop = bool(exporter and exporter.is_shop)
        self.file_row.setEnabled(not shop)
        self.shop_box.setVisible(shop)
        if exporter is None:
            return
        if shop:
            known = [s for s in self.context.settings.shops if s.get("target") == exporter.name]
            schema = exporter.settings_schema
            self.shop_url_edit.setText(known[0].get("shop_url", "") if known else "")
            version = (known[0].get("api_version") if known else None) or schema.get("api_version", {}).get("default", "")
            self.api_version_edit.setText(str(version))
            self.api_version_edit.setEnabled("api_version" in schema)
            while self.credential_form.rowCount():
                self.credential_form.removeRow(0)
            self.credential_edits = {}
            for name in exporter.credentials:
                edit = QLineEdit()
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                self.credential_edits[name] = edit
                self.credential_form.addRow(self.credential_label(name), edit)
            self.update_keyring_status()
        elif self.path_edit.text():
            self.path_edit.setText(str(Path(self.path_edit.text()).with_suffix(exporter.extension)))

    def credential_label(self, name: str) -> str:
        labels = {"token": self.tr("Admin API access token"), "consumer_key": self.tr("Consumer key"),
                  "consumer_secret": self.tr("Consumer secret")}
        return labels.get(name, name)

    def choose_file(self) -> None:
        exporter = self.exporter()
        if exporter is None or exporter.is_shop:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export accepted copy"), self.path_edit.text(),
                                              f"{exporter.label or exporter.name} (*{exporter.extension})")
        if path:
            self.path_edit.setText(path)

    def filters(self):
        from adcopy_desktop.core.product_copy import ExportFilters

        product = self.product_box.currentData()
        kind = self.kind_box.currentData()
        since = None
        if self.since_check.isChecked():
            since = dt.datetime.combine(self.since_date.date().toPython(), dt.time()).timestamp()
        return ExportFilters(products=(product,) if product is not None else (), kinds=(kind,) if kind else (),
                             style=self.style_box.currentData(), since=since,
                             language=self.language_box.currentData(), until=self._until)

    def shop_options(self) -> dict:
        options = {"shop_url": self.shop_url_edit.text().strip()}
        if self.api_version_edit.isEnabled() and self.api_version_edit.text().strip():
            options["api_version"] = self.api_version_edit.text().strip()
        return options

    def resolved_shop_options(self) -> dict | None:
        from adcopy_desktop.core.export import shop_settings

        try:
            return shop_settings(self.context.plugins, self.exporter().name, self.shop_options(), self.context.settings)
        except AdCopyError as error:
            self.show_status(str(error), error=True)
            return None

    def update_keyring_status(self) -> None:
        from adcopy_desktop.core.secrets import load_credentials, require_keyring

        exporter = self.exporter()
        if exporter is None or not exporter.is_shop:
            return
        try:
            require_keyring()
        except AdCopyError as error:
            self.keyring_label.setText(str(error))
            self.save_credentials_button.setEnabled(False)
            return
        self.save_credentials_button.setEnabled(True)
        url = self.shop_url_edit.text().strip()
        if not url:
            self.keyring_label.setText(self.tr("Enter the shop address."))
            return
        try:
            options = self.resolved_shop_options()
            if options is None:
                return
            load_credentials(exporter.name, options["shop_url"], tuple(exporter.credentials))
            self.keyring_label.setText(self.tr("Access key stored in the system keyring."))
        except AdCopyError:
            self.keyring_label.setText(self.tr("No access key stored for this shop yet."))

    def save_credentials(self) -> bool:
        from adcopy_desktop.core.export import remember_shop
        from adcopy_desktop.core.secrets import store_credentials

        exporter = self.exporter()
        options = self.resolved_shop_options()
        if exporter is None or options is None:
            return False
        values = {name: edit.text().strip() for name, edit in self.credential_edits.items()}
        try:
            store_credentials(exporter.name, options["shop_url"], values)
        except AdCopyError as error:
            self.show_status(str(error), error=True)
            return False
        finally:
            for edit in self.credential_edits.values():
                edit.clear()
        remember_shop(exporter.name, {k: v for k, v in options.items() if k in ("shop_url", "api_version")})
        from adcopy_desktop.core.settings import load_settings

        self.context.settings = load_settings()
        self.update_keyring_status()
        return True

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #a50e0e;" if error else "")

    def start_export(self):
        """Start the export as a background job; returns it (None when the input is incomplete)."""
        from adcopy_desktop.core import export as exporting

        exporter = self.exporter()
        if exporter is None or (self.job is not None and self.job.running):
            return None
        library, plugins, filters = self.context.library, self.context.plugins, self.filters()
        self.failure_list.clear()
        self.progress.setValue(0)
        if exporter.is_shop:
            options = self.resolved_shop_options()
            if options is None:
                return None
            if any(edit.text().strip() for edit in self.credential_edits.values()) and not self.save_credentials():
                return None
            policy = exporting.retry_policy(self.context.settings)

            def task(report, cancel):
                return exporting.export_to_shop(library, plugins, exporter.name, filters, options, policy=policy,
                                                progress=report, cancel=cancel)
            name = self.tr("Export to {shop}").format(shop=options["shop_url"])
        else:
            path = self.path_edit.text().strip()
            if not path:
                self.show_status(self.tr("Choose the file to write."), error=True)
                return None
            path = str(Path(path).with_suffix(exporter.extension)) if not Path(path).suffix else path

            def task(report, cancel):
                return exporting.export_file(library, plugins, exporter.name, Path(path), filters)
            name = self.tr("Export to {file}").format(file=Path(path).name)
        self.show_status(self.tr("Exporting…"))
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.job = self.context.run(name, task, kind="export", on_success=self.export_succeeded,
                                    on_progress=self.export_progress, on_finished=self.export_finished,
                                    show_errors=False, owner=self)
        self.job.signals.failed.connect(lambda text: self.show_status(text, error=True))
        return self.job

    def cancel_export(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def export_progress(self, event) -> None:
        fraction = getattr(event, "fraction", None)
        if fraction is not None:
            self.progress.setValue(int(fraction * 1000))
        message = getattr(event, "message", "")
        if message:
            self.status_label.setText(message)

    def export_succeeded(self, result) -> None:
        from adcopy_desktop.core.export import FileExportResult, describe_failures

        self.last_result = result
        self.progress.setValue(1000)
        if isinstance(result, FileExportResult):
            self.show_status(self.tr("Exported {count} accepted candidates of {products} products to {file}.").format(
                count=result.candidates, products=result.products, file=result.path.name))
            return
        for line in describe_failures(result, limit=500):
            self.failure_list.addItem(line)
        text = self.tr("{done} done, {failed} refused by the shop, {unfinished} not confirmed yet.").format(
            done=result.done, failed=result.failed, unfinished=result.unfinished)
        if result.unfinished:
            text += " " + self.tr("They stay in the outbox; resume them later.")
        if result.skipped:
            text += " " + self.tr("{count} products have no shop id and were skipped.").format(count=len(result.skipped))
        self.show_status(text, error=bool(result.failed or result.unfinished))

    def export_finished(self) -> None:
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.refresh_outbox()
        self.context.report_plugin_problems()

    # -- outbox tab --------------------------------------------------------------------------------

    def _outbox_tab(self) -> QWidget:
        page = QWidget()
        self.outbox_table = read_only_table([
            self.tr("Job"), self.tr("Target"), self.tr("Shop"), self.tr("Waiting"), self.tr("Done"),
            self.tr("Refused"), self.tr("Last error"),
        ])
        self.show_all_check = QCheckBox(self.tr("Show finished jobs"))
        self.show_all_check.toggled.connect(self.refresh_outbox)
        self.resume_button = QPushButton(self.tr("Resume unfinished"))
        self.resume_button.clicked.connect(self.resume_jobs)
        self.cancel_job_button = QPushButton(self.tr("Cancel selected job"))
        self.cancel_job_button.clicked.connect(self.cancel_selected_job)
        self.outbox_label = QLabel()
        self.outbox_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_all_check)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_job_button)
        buttons.addWidget(self.resume_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.outbox_table, 1)
        layout.addWidget(self.outbox_label)
        layout.addLayout(buttons)
        return page

    def refresh_outbox(self) -> None:
        from adcopy_desktop.core.outbox import Outbox

        outbox = Outbox(self.context.library)
        jobs = outbox.jobs(unfinished_only=not self.show_all_check.isChecked())
        self.outbox_jobs = jobs
        self.outbox_table.setRowCount(len(jobs))
        for row, job in enumerate(jobs):
            waiting = outbox.items(job.id, ("pending", "sent"))
            last_error = next((item.last_error for item in waiting if item.last_error), "")
            values = (f"#{job.id}", job.target, job.destination, str(job.unfinished), str(job.counts["done"]),
                      str(job.counts["failed"]), last_error)
            for column, value in enumerate(values):
                self.outbox_table.setItem(row, column, QTableWidgetItem(value))
        unfinished = sum(1 for job in jobs if job.status == "open")
        self.outbox_label.setText(self.tr("{count} unfinished export jobs.").format(count=unfinished))
        self.resume_button.setEnabled(unfinished > 0)

    def resume_jobs(self):
        from adcopy_desktop.core import export as exporting

        if self.job is not None and self.job.running:
            return None
        library, plugins = self.context.library, self.context.plugins
        policy = exporting.retry_policy(self.context.settings)

        def task(report, cancel):
            return exporting.resume(library, plugins, policy=policy, progress=report, cancel=cancel)

        self.tabs.setCurrentIndex(0)
        self.show_status(self.tr("Resuming unfinished jobs…"))
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.job = self.context.run(self.tr("Resume shop exports"), task, kind="export",
                                    on_success=self.export_succeeded, on_progress=self.export_progress,
                                    on_finished=self.export_finished, show_errors=False, owner=self)
        self.job.signals.failed.connect(lambda text: self.show_status(text, error=True))
        return self.job

    def cancel_selected_job(self) -> None:
        from adcopy_desktop.core.outbox import Outbox

        rows = sorted({index.row() for index in self.outbox_table.selectedIndexes()})
        for row in rows:
            Outbox(self.context.library).cancel(self.outbox_jobs[row].id)
        self.refresh_outbox()
