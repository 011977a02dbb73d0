"""Bulk generation from the app: kinds, candidates and style for the selected or all products,
run in the background with progress and ETA; Stop keeps what is done, Resume goes on from there.

"Run on" picks where the model call goes, like ``adcopy batch --backend NAME|pool``: this
computer's model, one configured server (``core/endpoints.py``), or the pool of all of them (items
go to the least busy server, a failed server's to another); a server or pool writes as many items
at once as its servers take (their ``max_concurrent`` summed). The backend is not part of the job,
so a job stopped on one may be resumed on another."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from adcopy_desktop.core.batch import BatchOptions, BatchStatus, batch_workers, plan_batch, run_batch
from adcopy_desktop.core.endpoints import POOL_BACKEND, list_endpoints
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.core.prompts import CopyKind
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.labels import kind_label

DEFAULT_KINDS = (CopyKind.TITLE, CopyKind.DESCRIPTION)


class BatchDialog(QDialog):
    def __init__(self, context: AppContext, selected_ids: list[int] | None = None, parent=None):
        super().__init__(parent)
        self.context = context
        self.selected_ids = list(selected_ids or [])
        self.job = None
        self.job_id: int | None = None
        self.status: BatchStatus | None = None
        self.setWindowTitle(self.tr("Generate for many products"))

        self.kind_boxes: dict[str, QCheckBox] = {}
        kinds_row = QHBoxLayout()
        for kind in CopyKind:
            box = QCheckBox(kind_label(kind))
            box.setChecked(kind in DEFAULT_KINDS)
            self.kind_boxes[kind.value] = box
            kinds_row.addWidget(box)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 16)
        self.count_spin.setValue(3)
        self.style_box = QComboBox()
        self.style_box.addItem(self.tr("(no brand style)"), None)
        for name, style in sorted(context.plugins.styles().items()):
            self.style_box.addItem(getattr(style, "label", "") or name, name)
        self.language_box = QComboBox()
        self.language_box.addItem(self.tr("Each product's language"), None)
        self.language_box.addItem(self.tr("Chinese"), "zh")
        self.language_box.addItem(self.tr("English"), "en")
        self.backend_box = QComboBox()
        self.backend_box.setToolTip(self.tr("Where the copy is written: the model on this computer, an inference "
                                            "server from Settings, or all servers at once (each product goes to "
                                            "the least busy one). Prompts, checks and scores stay here."))
        self._fill_backends()
        total = len(context.library.list_products())
        self.selected_radio = QRadioButton(self.tr("Selected products ({count})").format(count=len(self.selected_ids)))
        self.all_radio = QRadioButton(self.tr("All products ({count})").format(count=total))
        self.selected_radio.setEnabled(bool(self.selected_ids))
        (self.selected_radio if len(self.selected_ids) > 1 else self.all_radio).setChecked(True)
        # the shop's drafts, archived and unpublished products are left out unless asked for
        inactive = len(context.library.inactive_product_ids())
        self.drafts_box = QCheckBox(self.tr("Include drafts, archived and unpublished products ({count})").format(
            count=inactive))
        self.drafts_box.setVisible(inactive > 0)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status_label = QLabel(self.tr("Copy is saved to the library as it is generated."))
        self.status_label.setWordWrap(True)
        self.start_button = QPushButton(self.tr("Start"))
        self.start_button.setDefault(True)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setEnabled(False)
        self.close_button = QPushButton(self.tr("Close"))

        form = QFormLayout()
        form.addRow(self.tr("Kinds"), kinds_row)
        form.addRow(self.tr("Candidates each"), self.count_spin)
        form.addRow(self.tr("Brand style"), self.style_box)
        form.addRow(self.tr("Language"), self.language_box)
        form.addRow(self.tr("Run on"), self.backend_box)
        scope = QHBoxLayout()
        scope.addWidget(self.selected_radio)
        scope.addWidget(self.all_radio)
        form.addRow(self.tr("Products"), scope)
        form.addRow("", self.drafts_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.stop_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.close)
        for widget in (*self.kind_boxes.values(), self.selected_radio, self.all_radio, self.drafts_box):
            widget.toggled.connect(self._options_changed)
        for widget in (self.count_spin,):
            widget.valueChanged.connect(self._options_changed)
        for widget in (self.style_box, self.language_box):
            widget.currentIndexChanged.connect(self._options_changed)

    def options(self) -> BatchOptions:
        kinds = tuple(kind for kind, box in self.kind_boxes.items() if box.isChecked())
        return BatchOptions(kinds=kinds, n=self.count_spin.value(), style=self.style_box.currentData(),
                            language=self.language_box.currentData())

    def _fill_backends(self) -> None:
        """This computer, every configured server, and the pool when there are two or more."""
        box = self.backend_box
        box.addItem(self.tr("This computer (the active model)"), None)
        try:
            endpoints = list_endpoints()
        except AdCopyError as error:  # a broken server entry in settings: this computer only, and why
            box.setToolTip(str(error))
            return
        for endpoint in endpoints:
            box.addItem(self.tr("Server {server}").format(server=endpoint.name), endpoint.name)
            box.setItemData(box.count() - 1, endpoint.base_url, Qt.ItemDataRole.ToolTipRole)
        if len(endpoints) > 1:
            box.addItem(self.tr("All servers, least busy first ({count})").format(count=len(endpoints)),
                        POOL_BACKEND)

    def backend_choice(self) -> str | None:
        """What ``adcopy batch --backend`` would be given: None (this computer), a server's name or "pool"."""
        return self.backend_box.currentData()

    def product_ids(self) -> list[int]:
        if self.selected_radio.isChecked():
            return list(self.selected_ids)
        return [p.id for p in reversed(self.context.library.list_products())]

    def _options_changed(self, *args) -> None:
        if self.job is None or not self.job.running:
            self.start_button.setText(self.tr("Start"))

    def start(self):
        """Plan the job (the same products and options continue their job) and run it."""
        if self.job is not None and self.job.running:
            return None
        try:
            options = self.options()
            self.job_id, resumed = plan_batch(self.context.library, self.product_ids(), options,
                                              include_drafts=self.drafts_box.isChecked())
        except AdCopyError as error:
            self.status_label.setText(str(error))
            return None
        choice = self.backend_choice()
        try:
            generator = self.context.generator() if choice is None else self.context.backend_generator(choice)
        except AdCopyError as error:  # a server removed from settings meanwhile
            self.status_label.setText(str(error))
            return None
        library, lock = self.context.library, self.context.model_lock
        job_id = self.job_id

        candidates = options.n

        def task(report, cancel):
            with lock:  # load once, before the first item
                # like adcopy batch: a few items batched together here, as many as the servers take there
                workers, _ = batch_workers(generator, candidates)
            return run_batch(library, generator, job_id, progress=report, cancel=cancel, workers=workers,
                             on_status=lambda status: report(_copy_status(status)))

        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status_label.setText(self.tr("Resuming…") if resumed else self.tr("Starting…"))
        self.job = self.context.run(self.tr("Bulk generation"), task, kind="batch", on_progress=self._progress,
                                    on_success=self._finished, owner=self)
        self.job.signals.failed.connect(self.status_label.setText)
        self.job.signals.finished.connect(self._job_over)
        return self.job

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status_label.setText(self.tr("Stopping; what is done is kept, the product in progress runs again on resume."))

    def _progress(self, event: Any) -> None:
        if isinstance(event, BatchStatus):
            self.status = event
            self.status_label.setText(self._describe(event))
            if event.total:
                self.progress.setValue(int(1000 * (event.done + event.failed) / event.total))
        elif isinstance(event, ProgressEvent) and event.fraction is not None:
            self.progress.setValue(int(event.fraction * 1000))

    def _describe(self, status: BatchStatus) -> str:
        text = self.tr("{done} of {total} done").format(done=status.done, total=status.total)
        if status.failed:
            text += self.tr(", {failed} failed").format(failed=status.failed)
        if status.eta_s is not None and status.pending:
            text += self.tr(", about {minutes} min left").format(minutes=max(1, round(status.eta_s / 60)))
        if status.products_per_minute:
            text += self.tr(" ({rate:.1f} products per minute)").format(rate=status.products_per_minute)
        return text

    def _finished(self, status: BatchStatus) -> None:
        self.status = status
        text = self._describe(status)
        if status.pending or status.failed:
            text += self.tr(". Stopped: press Resume to go on.")
            self.start_button.setText(self.tr("Resume"))
        else:
            text += self.tr(". Finished.")
        if status.errors:
            text += "\n" + "\n".join(status.errors[:5])
        self.status_label.setText(text)
        self.context.candidates_changed.emit()

    def _job_over(self) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.job is not None and self.job.running:
            self.job.cancel()
        super().closeEvent(event)


def _copy_status(status: BatchStatus) -> BatchStatus:
    """A snapshot for the UI thread (the worker goes on changing its own)."""
    return BatchStatus(status.job_id, status.total, status.done, status.failed, status.elapsed_s,
                       status.done_this_run, status.eta_s, status.stopped, list(status.errors), status.kinds)
