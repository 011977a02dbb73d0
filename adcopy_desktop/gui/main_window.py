"""The first AdCopy window: one product in, streamed candidates out.

Deliberately small; the full authoring window (catalog, library, cards, managers) builds on the
same core calls and the same BackgroundJob.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.core.prompts import CopyKind, CopyRequest
from adcopy_desktop.gui.worker import BackgroundJob

SAMPLE_PRODUCT = "类型#上衣*材质#牛仔布*颜色#白色*风格#简约"


class MainWindow(QMainWindow):
    def __init__(self, store: ModelStore | None = None):
        super().__init__()
        self.setWindowTitle(self.tr("AdCopy Desktop"))
        self.store = store or ModelStore()
        self.generator: CopyGenerator | None = None
        self.job: BackgroundJob | None = None

        self.product_edit = QPlainTextEdit()
        self.product_edit.setPlaceholderText(
            self.tr("Product attributes, e.g. %s, or 'key: value' lines") % SAMPLE_PRODUCT
        )
        self.kind_box = QComboBox()
        for kind in CopyKind:
            self.kind_box.addItem(kind.value.replace("_", " "), kind)
        self.language_box = QComboBox()
        self.language_box.addItem(self.tr("From product"), None)
        self.language_box.addItem("English", "en")
        self.language_box.addItem("中文", "zh")
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 8)
        self.count_spin.setValue(3)
        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setShortcut("Ctrl+Return")
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setEnabled(False)
        self.status = QLabel()
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow(self.tr("Copy kind"), self.kind_box)
        form.addRow(self.tr("Language"), self.language_box)
        form.addRow(self.tr("Candidates"), self.count_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(QLabel(self.tr("Product")))
        left_layout.addWidget(self.product_edit)
        left_layout.addLayout(form)
        left_layout.addLayout(buttons)

        self.candidate_views: list[QPlainTextEdit] = []
        self.candidates_panel = QWidget()
        self.candidates_layout = QVBoxLayout(self.candidates_panel)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.candidates_panel)
        splitter.setStretchFactor(1, 2)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(splitter)
        layout.addWidget(self.status)
        self.setCentralWidget(central)
        self.resize(1000, 640)

        self.generate_button.clicked.connect(self.start_generation)
        self.stop_button.clicked.connect(self.stop_generation)
        self.show_model_status()

    def show_model_status(self) -> None:
        try:
            info = self.store.active_model()
        except Exception as exc:
            self.status.setText(str(exc))
            return
        self.status.setText(self.tr("Model: %s (%s)") % (info.name, "+".join(info.languages)))

    def _reset_candidate_views(self, count: int) -> None:
        for view in self.candidate_views:
            view.deleteLater()
        self.candidate_views = []
        for _ in range(count):
            view = QPlainTextEdit()
            self.candidates_layout.addWidget(view)
            self.candidate_views.append(view)

    def start_generation(self) -> None:
        try:
            product = parse_product(self.product_edit.toPlainText())
        except Exception as exc:
            QMessageBox.warning(self, self.tr("Product"), str(exc))
            return
        request = CopyRequest(
            product=product, kind=self.kind_box.currentData(), language=self.language_box.currentData()
        )
        settings = GenerationSettings(n=self.count_spin.value())
        self._reset_candidate_views(settings.n)
        if self.generator is None:
            self.generator = CopyGenerator(self.store)
        generator = self.generator

        def task(report, cancel):
            report(ProgressEvent("load", "Loading model"))
            return generator.generate(
                request, settings, cancel=cancel, max_new_tokens_from_request=True,
                on_token=lambda index, text: report((index, text)),
            )

        self.job = BackgroundJob(self.tr("Generation"), task)
        self.job.signals.progress.connect(self._on_progress)
        self.job.signals.succeeded.connect(self._on_candidates)
        self.job.signals.failed.connect(self._on_failed)
        self.job.signals.finished.connect(self._on_finished)
        self.generate_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(self.tr("Generating…"))
        self.job.start()

    def stop_generation(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_progress(self, payload) -> None:
        if isinstance(payload, ProgressEvent):
            self.status.setText(payload.message)
            return
        index, text = payload
        view = self.candidate_views[index]
        view.moveCursor(view.textCursor().MoveOperation.End)
        view.insertPlainText(text)

    def _on_candidates(self, candidates) -> None:
        for candidate, view in zip(candidates, self.candidate_views):
            view.setPlainText(candidate.text)
        if candidates:
            timings = candidates[0].timings
            self.status.setText(
                self.tr("%d candidates, %.1f tokens/s") % (len(candidates), timings.tokens_per_s)
            )

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        QMessageBox.warning(self, self.tr("AdCopy"), message)

    def _on_finished(self) -> None:
        self.generate_button.setEnabled(True)
        self.stop_button.setEnabled(False)
