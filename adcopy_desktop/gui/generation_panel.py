"""The generation controls: copy kind, language, length, tone, brand style, model, candidates."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from adcopy_desktop.core.endpoints import (
    list_endpoints,
    list_remote_models,
    parse_remote_model_choice,
    remote_model_choice,
)
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.prompts import MAX_LENGTH_TARGET, MAX_TONE_CHARS, CopyKind
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.labels import kind_label, language_label

EXACT = "exact"


@dataclass(frozen=True)
class BrokenSettings:
    """The picker's entry when settings.backends cannot be read (shaped like RemoteModels)."""

    error: str
    endpoint: str = "settings"
    models: tuple = ()


@dataclass(frozen=True)
class GenerationChoices:
    kind: CopyKind
    language: str | None  # None: from the product
    length: str | int | None
    tone: str | None
    style: str | None
    model_id: str | None  # None: the active model; "remote:SERVER/MODEL" (core/endpoints.py): a server's model
    n: int


class GenerationPanel(QWidget):
    generate_requested = Signal()
    stop_requested = Signal()
    compare_requested = Signal()

    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.kind_box = QComboBox()
        for kind in CopyKind:
            self.kind_box.addItem(kind_label(kind), kind)
        self.language_box = QComboBox()
        for code in (None, "zh", "en"):
            self.language_box.addItem(language_label(code), code)
        self.length_box = QComboBox()
        self.length_box.addItem(self.tr("Default"), None)
        self.length_box.addItem(self.tr("Short"), "short")
        self.length_box.addItem(self.tr("Medium"), "medium")
        self.length_box.addItem(self.tr("Long"), "long")
        self.length_box.addItem(self.tr("Exact…"), EXACT)
        self.length_spin = QSpinBox()
        self.length_spin.setRange(1, MAX_LENGTH_TARGET)
        self.length_spin.setValue(50)
        self.length_spin.setToolTip(self.tr("Target length: characters for Chinese, words for English"))
        self.length_spin.hide()
        self.tone_edit = QLineEdit()
        self.tone_edit.setMaxLength(MAX_TONE_CHARS)
        self.tone_edit.setPlaceholderText(self.tr("e.g. playful, premium, 专业"))
        self.style_box = QComboBox()
        self.model_box = QComboBox()
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 8)
        self.count_spin.setValue(3)
        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setToolTip(self.tr("Generate candidates (Ctrl+Enter)"))
        self.generate_button.setDefault(True)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop generating (Esc)"))
        self.stop_button.setEnabled(False)
        self.compare_button = QPushButton(self.tr("Compare"))
        self.compare_button.setToolTip(self.tr("Show the candidates side by side"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(120)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()

        self.style_box.setMinimumContentsLength(14)
        self.style_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(14)
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.status.setWordWrap(True)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        length = QHBoxLayout()
        length.setContentsMargins(0, 0, 0, 0)
        length.addWidget(self.length_box, 1)
        length.addWidget(self.length_spin)
        rows = (
            ((self.tr("Copy kind"), self.kind_box), (self.tr("Language"), self.language_box),
             (self.tr("Length"), length)),
            ((self.tr("Brand style"), self.style_box), (self.tr("Model"), self.model_box),
             (self.tr("Candidates"), self.count_spin)),
        )
        for row, fields in enumerate(rows):
            for column, (label, field) in enumerate(fields):
                grid.addWidget(QLabel(label), row, column * 2)
                if isinstance(field, QHBoxLayout):
                    grid.addLayout(field, row, column * 2 + 1)
                else:
                    grid.addWidget(field, row, column * 2 + 1)
        grid.addWidget(QLabel(self.tr("Tone")), 2, 0)
        grid.addWidget(self.tone_edit, 2, 1, 1, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.compare_button)
        grid.addLayout(buttons, 2, 4, 1, 2)
        status = QHBoxLayout()
        status.addWidget(self.progress)
        status.addWidget(self.status, 1)
        grid.addLayout(status, 3, 0, 1, 6)
        for column in (1, 3):
            grid.setColumnStretch(column, 2)
        grid.setColumnStretch(5, 1)

        self.length_box.currentIndexChanged.connect(
            lambda: self.length_spin.setVisible(self.length_box.currentData() == EXACT))
        self.generate_button.clicked.connect(self.generate_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.compare_button.clicked.connect(self.compare_requested)
        # The servers' models (settings.backends) arrive from a background job; until then each
        # server shows as a disabled "listing models…" entry and the local models are usable.
        self._local_models: list[tuple[str, str]] = []
        self._remote: list = []  # RemoteModels per server, or names still being asked
        self._remote_request = 0
        self._wanted_model: str | None = None  # a restored remote choice waiting for its server's answer
        self.remote_job = None
        self.model_box.currentIndexChanged.connect(self._model_chosen)
        context.models_changed.connect(self.refresh_models)
        context.plugins_changed.connect(self.refresh_styles)
        context.settings_changed.connect(lambda _settings: self.refresh_remote_models())
        self.refresh_models()
        self.refresh_styles()

    # -- choices ---------------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """The installed models now, then the servers' models in the background."""
        self._local_models = []
        for info in self.context.store.list_models():
            if info.problem:
                continue
            languages = "+".join(info.languages)
            label = f"{info.name or info.id} ({languages})" if languages else (info.name or info.id)
            self._local_models.append((label, info.id))
        self._fill_models()
        self.refresh_remote_models()

    def refresh_remote_models(self):
        """Ask every configured server for its models (GET /v1/models) off the UI thread; returns
        the job, or None when no server is configured."""
        self._remote_request += 1
        request = self._remote_request
        try:
            endpoints = list_endpoints()
        except AdCopyError as exc:  # a broken entry in settings: say so in the picker, keep the rest usable
            self._remote = [BrokenSettings(str(exc))]
            self._fill_models()
            return None
        self._remote = [endpoint.name for endpoint in endpoints]
        self._fill_models()
        if not endpoints:
            return None
        self.remote_job = self.context.run(
            self.tr("Listing the servers' models"), lambda report, cancel: list_remote_models(endpoints),
            kind="remote-models", show_errors=False, owner=self,
            on_success=lambda answers: self._remote_models_arrived(request, answers))
        return self.remote_job

    def _remote_models_arrived(self, request: int, answers: list) -> None:
        if request != self._remote_request:
            return  # an older question; a newer one is on its way
        self._remote = list(answers)
        self._fill_models()
        self._wanted_model = None

    def _fill_models(self) -> None:
        current = self._wanted_model or self.model_box.currentData()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        self.model_box.addItem(self.tr("Active model"), None)
        for label, model_id in self._local_models:
            self.model_box.addItem(label, model_id)
        if self._remote:
            self.model_box.insertSeparator(self.model_box.count())
        for entry in self._remote:
            if isinstance(entry, str):
                self._add_disabled(self.tr("{server}: listing models…").format(server=entry), "")
            elif entry.error:
                self._add_disabled(self.tr("{server}: not reachable").format(server=entry.endpoint), entry.error)
            elif not entry.models:
                self._add_disabled(self.tr("{server}: no models").format(server=entry.endpoint), "")
            else:
                for model in entry.models:
                    self.model_box.addItem(self.tr("{server}: {model}").format(server=entry.endpoint, model=model),
                                           remote_model_choice(entry.endpoint, model))
                    self.model_box.setItemData(
                        self.model_box.count() - 1,
                        self.tr("{model} on the inference server {server}: the copy is written there, "
                                "checked and scored here").format(model=model, server=entry.endpoint),
                        Qt.ItemDataRole.ToolTipRole)
        index = self.model_box.findData(current)
        self.model_box.setCurrentIndex(max(index, 0))
        self.model_box.blockSignals(False)

    def _add_disabled(self, label: str, tooltip: str) -> None:
        self.model_box.addItem(label, None)
        row = self.model_box.count() - 1
        item = self.model_box.model().item(row)
        if item is not None:
            item.setEnabled(False)
        if tooltip:
            self.model_box.setItemData(row, tooltip, Qt.ItemDataRole.ToolTipRole)

    def _model_chosen(self, _index: int) -> None:
        self._wanted_model = None  # the user chose: a late server answer must not change it

    def refresh_styles(self) -> None:
        current = self.style_box.currentData()
        self.style_box.blockSignals(True)
        self.style_box.clear()
        self.style_box.addItem(self.tr("None"), None)
        try:
            styles = self.context.plugins.styles()
        except Exception as exc:  # the plugin system reports its own problems; keep the panel usable
            self.context.error(str(exc))
            styles = {}
        for name, style in styles.items():
            languages = "+".join(style.languages)
            self.style_box.addItem(f"{style.display_name} ({languages})", name)
        index = self.style_box.findData(current)
        self.style_box.setCurrentIndex(max(index, 0))
        self.style_box.blockSignals(False)

    def choices(self) -> GenerationChoices:
        length = self.length_box.currentData()
        if length == EXACT:
            length = self.length_spin.value()
        return GenerationChoices(
            kind=self.kind_box.currentData(),
            language=self.language_box.currentData(),
            length=length,
            tone=self.tone_edit.text().strip() or None,
            style=self.style_box.currentData(),
            model_id=self.model_box.currentData(),
            n=self.count_spin.value(),
        )

    def set_busy(self, busy: bool, message: str = "") -> None:
        self.generate_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if message or not busy:
            self.status.setText(message)

    # -- persistence -----------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("generation/kind", str(self.kind_box.currentData()))
        settings.setValue("generation/language", self.language_box.currentData() or "")
        settings.setValue("generation/length", str(self.length_box.currentData() or ""))
        settings.setValue("generation/length_target", self.length_spin.value())
        settings.setValue("generation/tone", self.tone_edit.text())
        settings.setValue("generation/style", self.style_box.currentData() or "")
        settings.setValue("generation/model", self.model_box.currentData() or "")
        settings.setValue("generation/count", self.count_spin.value())

    def restore_state(self, settings: QSettings) -> None:
        def select(box: QComboBox, value) -> None:
            index = box.findData(value if value != "" else None)
            if index >= 0:
                box.setCurrentIndex(index)

        kind = settings.value("generation/kind")
        if kind:
            index = next((i for i in range(self.kind_box.count()) if str(self.kind_box.itemData(i)) == kind), -1)
            if index >= 0:
                self.kind_box.setCurrentIndex(index)
        select(self.language_box, settings.value("generation/language", ""))
        select(self.length_box, settings.value("generation/length", ""))
        self.length_spin.setValue(int(settings.value("generation/length_target", 50)))
        self.tone_edit.setText(str(settings.value("generation/tone", "")))
        select(self.style_box, settings.value("generation/style", ""))
        model = settings.value("generation/model", "")
        select(self.model_box, model)
        if parse_remote_model_choice(model) and self.model_box.currentData() != model:
            self._wanted_model = model  # its server has not answered yet: chosen when it does
        self.count_spin.setValue(int(settings.value("generation/count", 3)))
