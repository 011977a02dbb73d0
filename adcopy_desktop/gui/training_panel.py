"""The training page: how much accepted copy there is per style, the hyper-parameters, start and
cancel, live step / loss / held-out loss / ETA, then the gate's old-vs-new table and decision: for
ROUGE-L and BLEU the paired difference with its confidence interval and the number of held-out
examples, and the gate's answer (accepted, refused, or not enough held-out copy to tell, with how
many more accepted copies it would take).

Training runs ``core.training.pipeline.run_training`` through a ``BackgroundJob``; the torch work
is in the trainer's child process, so the window stays usable and the writer keeps generating on
the current model until the gate swaps the new version in. Automatic mode (settings: after N newly
accepted copies, off by default) starts the same job by itself when a decision reaches N.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.progress import ProgressEvent, format_duration
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.tables import read_only_table
from adcopy_desktop.gui.worker import BackgroundJob

log = logging.getLogger("adcopy.gui.training")

TRAINING_KIND = "training"
# set by the style combo, not the form
FORM_SKIPS = ("style",)


@dataclass(frozen=True)
class StyleData:
    style: str | None  # None: all copy
    accepted: int
    pairs: int


def training_data_summary(library) -> list[StyleData]:
    """Accepted copy and accepted-vs-rejected pairs (same generation, different text), per style,
    the first row for all copy together."""
    accepted = library.accepted_copy()
    rejected = library.candidates(decision="rejected")
    chosen_by_generation: dict[int, list[str]] = {}
    counts: dict[str | None, list[int]] = {}
    for candidate in accepted:
        if not candidate.text.strip():
            continue
        chosen_by_generation.setdefault(candidate.generation_id, []).append(candidate.text.strip())
        counts.setdefault(candidate.style, [0, 0])[0] += 1
    for candidate in rejected:
        texts = chosen_by_generation.get(candidate.generation_id, [])
        pairs = sum(1 for text in texts if text != candidate.text.strip() and candidate.text.strip())
        if pairs:
            counts.setdefault(candidate.style, [0, 0])[1] += pairs
    rows = [StyleData(None, sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values()))]
    for style in sorted((s for s in counts if s is not None)):
        rows.append(StyleData(style, *counts[style]))
    return rows



def format_metric(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def gate_answer(outcome) -> str:
    """accepted | refused | not_enough, also for an outcome from before the gate had three answers."""
    answer = getattr(outcome, "decision", "") or (getattr(outcome, "gate", None) or {}).get("decision")
    if answer in ("accepted", "refused", "not_enough"):
        return answer
    return "accepted" if outcome.accepted else "refused"


class TrainingPage(QWidget):
    training_finished = Signal(object)  # the TrainingOutcome

    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.job: BackgroundJob | None = None
        self.outcome = None
        self.last_figures: dict[str, Any] = {}
        self._automatic_failed = False
        self._editors: dict[str, QWidget] = {}

        # data
        self.data_table = read_only_table([self.tr("Style"), self.tr("Accepted copy"), self.tr("Preference pairs")])
        self.data_table.setMaximumHeight(150)
        self.style_box = QComboBox()
        data_box = QGroupBox(self.tr("Training data"))
        data_layout = QVBoxLayout(data_box)
        data_layout.addWidget(self.data_table)
        style_row = QHBoxLayout()
        style_row.addWidget(QLabel(self.tr("Train for")))
        style_row.addWidget(self.style_box, 1)
        data_layout.addLayout(style_row)
        self.auto_label = QLabel()
        self.auto_label.setWordWrap(True)
        self.auto_label.setStyleSheet("color:palette(mid);")
        data_layout.addWidget(self.auto_label)

        # hyper-parameters
        self.form = QFormLayout()
        params_box = QGroupBox(self.tr("Hyper-parameters"))
        params_layout = QVBoxLayout(params_box)
        form_holder = QWidget()
        form_holder.setLayout(self.form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_holder)
        params_layout.addWidget(scroll, 1)
        self.save_params_button = QPushButton(self.tr("Save as my defaults"))
        self.reset_params_button = QPushButton(self.tr("Reset to defaults"))
        params_buttons = QHBoxLayout()
        params_buttons.addWidget(self.save_params_button)
        params_buttons.addWidget(self.reset_params_button)
        params_buttons.addStretch(1)
        params_layout.addLayout(params_buttons)
        self.form_error = QLabel()
        self.form_error.setWordWrap(True)
        self.form_error.setStyleSheet("color:#b00020;")
        self.form_error.hide()
        params_layout.addWidget(self.form_error)

        # run
        self.start_button = QPushButton(self.tr("Start training"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.stage_label = QLabel(self.tr("Not running."))
        self.stage_label.setWordWrap(True)
        self.figures_label = QLabel()
        run_box = QGroupBox(self.tr("Run"))
        run_layout = QVBoxLayout(run_box)
        run_buttons = QHBoxLayout()
        run_buttons.addWidget(self.start_button)
        run_buttons.addWidget(self.cancel_button)
        run_buttons.addWidget(self.progress, 1)
        run_layout.addLayout(run_buttons)
        run_layout.addWidget(self.stage_label)
        run_layout.addWidget(self.figures_label)

        # result
        self.gate_table = read_only_table([self.tr("Held-out metric"), self.tr("Current model"), self.tr("New model"),
                                           self.tr("Within the margin"), self.tr("Difference (paired)")])
        self.decision_label = QLabel()
        self.decision_label.setWordWrap(True)
        result_box = QGroupBox(self.tr("Evaluation gate"))
        result_layout = QVBoxLayout(result_box)
        result_layout.addWidget(self.decision_label)
        result_layout.addWidget(self.gate_table, 1)

        left = QVBoxLayout()
        left.addWidget(data_box)
        left.addWidget(params_box, 1)
        right = QVBoxLayout()
        right.addWidget(run_box)
        right.addWidget(result_box, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

        self.start_button.clicked.connect(lambda: self.start_training())
        self.cancel_button.clicked.connect(self.cancel)
        self.save_params_button.clicked.connect(self.save_parameters)
        self.reset_params_button.clicked.connect(self.reset_parameters)
        context.candidates_changed.connect(self._candidates_changed)
        context.settings_changed.connect(lambda settings: self.refresh_auto_label())
        context.plugins_changed.connect(self.refresh_data)
        self.build_form(self.saved_config())
        self.refresh_data()
        self.show_full_edition_notice()

    # -- configuration ------------------------------------------------------------------------------

    @staticmethod
    def config_class():
        from adcopy_desktop.core.training.config import TrainingConfig

        return TrainingConfig

    def saved_config(self):
        """The defaults with the user's saved overrides (bad saved values fall back to defaults)."""
        config_class = self.config_class()
        try:
            return config_class.from_overrides(self.context.settings.training)
        except AdCopyError as exc:
            log.warning("ignoring saved training settings: %s", exc)
            return config_class()

    def build_form(self, config) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        for row in self.config_class().fields_for_display(config):
            name = row["name"]
            if name in FORM_SKIPS:
                continue
            editor = self._editor_for(row)
            editor.setToolTip(row.get("help", ""))
            editor.setObjectName(f"training-{name}")
            self._editors[name] = editor
            label = QLabel(name.replace("_", " "))
            label.setToolTip(row.get("help", ""))
            self.form.addRow(label, editor)

    def _editor_for(self, row: dict[str, Any]) -> QWidget:
        value, kind, choices = row["value"], row["type"], row.get("choices") or []
        if choices:
            box = QComboBox()
            for choice in choices:
                box.addItem(str(choice), choice)
            box.setCurrentIndex(max(box.findData(value), 0))
            return box
        if kind == "bool":
            check = QCheckBox()
            check.setChecked(bool(value))
            return check
        if kind == "int":
            spin = QSpinBox()
            spin.setRange(0, 1_000_000)
            if row["name"] == "max_steps":
                spin.setSpecialValueText(self.tr("No limit"))
            spin.setValue(int(value or 0))
            return spin
        if kind == "float":
            spin = QDoubleSpinBox()
            spin.setDecimals(6)
            spin.setRange(0.0, 1000.0)
            spin.setSingleStep(0.01 if abs(float(value)) >= 0.01 else 0.00001)
            spin.setValue(float(value))
            return spin
        box = QComboBox()
        box.setEditable(True)
        box.setCurrentText("" if value is None else str(value))
        return box

    def form_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, editor in self._editors.items():
            if isinstance(editor, QCheckBox):
                values[name] = editor.isChecked()
            elif isinstance(editor, QSpinBox):
                value = editor.value()
                values[name] = (value or None) if name == "max_steps" else value
            elif isinstance(editor, QDoubleSpinBox):
                values[name] = editor.value()
            elif isinstance(editor, QComboBox) and not editor.isEditable():
                values[name] = editor.currentData()
            elif isinstance(editor, QComboBox):
                values[name] = editor.currentText().strip() or None
        return values

    def set_value(self, name: str, value: Any) -> None:
        """Set one hyper-parameter in the form (as a user would)."""
        editor = self._editors[name]
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value or 0))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QComboBox) and not editor.isEditable():
            editor.setCurrentIndex(editor.findData(value))
        else:
            editor.setCurrentText("" if value is None else str(value))

    def current_config(self):
        """The form's configuration for the chosen style; AdCopyError names what is invalid."""
        return self.config_class().from_overrides(self.form_values(), {"style": self.style_box.currentData()})

    def save_parameters(self) -> bool:
        try:
            config = self.current_config()
        except AdCopyError as exc:
            self._show_form_error(str(exc))
            return False
        self._show_form_error("")
        default = self.config_class()()
        overrides = {name: value for name, value in config.to_dict().items()
                     if name not in FORM_SKIPS and value != getattr(default, name)}
        settings = self.context.settings
        from dataclasses import replace

        self.context.save_settings(replace(settings, training=overrides))
        self.context.notice(self.tr("Training settings saved."))
        return True

    def reset_parameters(self) -> None:
        self.build_form(self.config_class()())
        self._show_form_error("")

    def _show_form_error(self, text: str) -> None:
        self.form_error.setText(text)
        self.form_error.setVisible(bool(text))

    # -- data ---------------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        try:
            rows = training_data_summary(self.context.library)
        except AdCopyError as exc:
            self.context.error(str(exc))
            rows = [StyleData(None, 0, 0)]
        self.data_rows = rows
        self.data_table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            name = self.tr("All copy") if row.style is None else row.style
            for column, value in enumerate((name, str(row.accepted), str(row.pairs))):
                self.data_table.setItem(index, column, QTableWidgetItem(value))
        current = self.style_box.currentData()
        self.style_box.blockSignals(True)
        self.style_box.clear()
        self.style_box.addItem(self.tr("All copy (the global model)"), None)
        styles = {row.style for row in rows if row.style}
        try:
            styles |= set(self.context.plugins.styles())
        except AdCopyError:
            pass
        for style in sorted(styles):
            self.style_box.addItem(self.tr("Style {name} (its own model)").format(name=style), style)
        self.style_box.setCurrentIndex(max(self.style_box.findData(current), 0))
        self.style_box.blockSignals(False)
        self.refresh_auto_label()

    def refresh_auto_label(self) -> None:
        after = int(getattr(self.context.settings, "auto_training_after", 0) or 0)
        if after <= 0:
            self.auto_label.setText(self.tr("Automatic training is off (Settings: train after N accepted copies)."))
            return
        try:
            from adcopy_desktop.core.training.auto import newly_accepted

            count = newly_accepted(self.context.library)
        except Exception as exc:  # the count is a hint; a library problem shows elsewhere
            log.warning("could not count newly accepted copy: %s", exc)
            count = 0
        self.auto_label.setText(self.tr("Automatic training after {n} newly accepted copies ({count} so far).").format(
            n=after, count=count))

    def _candidates_changed(self) -> None:
        self.refresh_data()
        self.maybe_start_automatically()

    # -- the lite edition -----------------------------------------------------------------------------

    @property
    def needs_full_edition(self) -> bool:
        """A lite installer bundle has no torch: training is offered as the full edition instead."""
        from adcopy_desktop.edition import training_needs_full_edition

        return training_needs_full_edition()

    def full_edition_text(self) -> str:
        return self.tr("Training needs the full edition of AdCopy Desktop (this lite edition writes copy only). "
                       "Install the full edition over this one: your library, settings and models stay.")

    def show_full_edition_notice(self) -> None:
        if self.needs_full_edition:
            self.stage_label.setText(self.full_edition_text())
            self.start_button.setEnabled(False)
            self.start_button.setToolTip(self.full_edition_text())

    # -- running --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def maybe_start_automatically(self) -> BackgroundJob | None:
        """Start training when automatic mode is on and enough copy was accepted since the last run."""
        settings = self.context.settings
        if self._automatic_failed or self.running or self.context.closed:
            return None
        if int(getattr(settings, "auto_training_after", 0) or 0) <= 0:
            return None
        try:
            from adcopy_desktop.core.training.auto import should_train

            due = should_train(self.context.library, settings)
        except Exception as exc:
            log.warning("automatic training check failed: %s", exc)
            return None
        if not due:
            return None
        return self.start_training(automatic=True)

    def start_training(self, *, automatic: bool = False) -> BackgroundJob | None:
        if self.needs_full_edition:
            if not automatic:
                self.context.notice(self.full_edition_text())
            self.show_full_edition_notice()
            return None
        if self.running or self.context.jobs.running(TRAINING_KIND):
            self.context.notice(self.tr("Training is already running."))
            return None
        try:
            config = self.current_config()
        except AdCopyError as exc:
            self._show_form_error(str(exc))
            return None
        self._show_form_error("")
        store, library = self.context.store, self.context.library
        plugins, threads = self.context.plugins, self.context.settings.threads

        def task(report, cancel):
            from adcopy_desktop.core.training.pipeline import run_training  # imported off the UI thread

            return run_training(config, store=store, library=library, progress=report, cancel=cancel,
                                plugins=plugins, threads=threads)

        name = self.tr("Automatic training") if automatic else self.tr("Training")
        self.outcome = None
        self.last_figures = {}
        self.gate_table.setRowCount(0)
        self.decision_label.setText("")
        self.progress.setValue(0)
        self.figures_label.setText("")
        self.stage_label.setText(self.tr("Starting…"))
        self.job = self.context.run(name, task, kind=TRAINING_KIND, on_progress=self._progress,
                                    on_success=self._done, on_finished=self._finished, owner=self)
        self.job.automatic = automatic
        self.job.signals.cancelled.connect(self._cancelled)
        self.job.signals.failed.connect(lambda text, auto=automatic: self._failed(text, auto))
        self._update_buttons()
        return self.job

    def cancel(self) -> None:
        if self.running:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.stage_label.setText(self.tr("Cancelling after the current step…"))

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(not self.running and not self.needs_full_edition)
        self.cancel_button.setEnabled(self.running and not self.job.cancelled)

    def _progress(self, event) -> None:
        if not isinstance(event, ProgressEvent):
            return
        self.stage_label.setText(event.message)
        if event.fraction is not None:
            self.progress.setValue(int(max(0.0, min(1.0, event.fraction)) * 100))
        step = getattr(event, "step", 0)
        if event.stage == "train" and step:
            figures = {"step": step, "total": getattr(event, "total", 0), "loss": getattr(event, "loss", None),
                       "heldout_loss": getattr(event, "heldout_loss", None), "eta_s": getattr(event, "eta_s", None)}
            if figures["heldout_loss"] is None:
                figures["heldout_loss"] = self.last_figures.get("heldout_loss")
            self.last_figures = figures
            self.figures_label.setText(self.tr(
                "Step {step}/{total} · loss {loss} · held-out loss {heldout} · ETA {eta}").format(
                step=figures["step"], total=figures["total"] or "?", loss=format_metric(figures["loss"]),
                heldout=format_metric(figures["heldout_loss"]), eta=format_duration(figures["eta_s"])))

    def _done(self, outcome) -> None:
        self.outcome = outcome
        self.show_gate(outcome)
        if outcome.accepted and outcome.version is not None:
            self.context.models_changed.emit()
            self.context.notice(self.tr("The new model {id} is active.").format(id=outcome.version.id))
        elif gate_answer(outcome) == "not_enough":
            self.context.notice(self.tr("Not enough held-out copy to tell whether the new model is better; "
                                        "the current model stays."))
        else:
            self.context.notice(self.tr("The new model was not better; the current model stays."))
        self.refresh_data()
        self.training_finished.emit(outcome)

    def interval_text(self, interval: dict[str, Any]) -> str:
        """``ROUGE-L +0.012 (95% CI −0.004…+0.027), n=32``."""
        from adcopy_desktop.core.training.gate import LABELS, signed

        label = interval.get("label") or LABELS.get(interval.get("metric"), str(interval.get("metric")))
        n = interval.get("n") or 0
        if interval.get("mean_diff") is None:
            return self.tr("{label}: no held-out examples to compare").format(label=label)
        if interval.get("low") is None:
            return self.tr("{label} {diff} (too few examples for an interval), n={n}").format(
                label=label, diff=signed(interval["mean_diff"]), n=n)
        return self.tr("{label} {diff} ({level}% CI {low}…{high}), n={n}").format(
            label=label, diff=signed(interval["mean_diff"]), low=signed(interval["low"]),
            high=signed(interval["high"]), n=n, level=round(100 * float(interval.get("confidence") or 0.95)))

    def show_gate(self, outcome) -> None:
        gate = getattr(outcome, "gate", None) or {}
        comparisons = {c.get("metric"): c for c in gate.get("comparisons", []) if isinstance(c, dict)}
        intervals = {name: i for name, i in (gate.get("intervals") or {}).items() if isinstance(i, dict)}
        old, new = outcome.old_metrics or {}, outcome.new_metrics or {}
        names = [name for name in {**old, **new} if isinstance(old.get(name, new.get(name)), (int, float, type(None)))]
        self.gate_table.setRowCount(len(names))
        for row, name in enumerate(names):
            check = comparisons.get(name)
            if check is None:
                ok = ""
            elif check.get("ok") is None:
                ok = self.tr("can't tell yet")
            else:
                ok = self.tr("yes") if check.get("ok") else self.tr("no")
            interval = intervals.get(name)
            difference = self.interval_text(interval) if interval else ""
            for column, value in enumerate((name.replace("_", " "), format_metric(old.get(name)),
                                            format_metric(new.get(name)), ok, difference)):
                self.gate_table.setItem(row, column, QTableWidgetItem(value))
        answer = gate_answer(outcome)
        if answer == "accepted":
            verdict = self.tr("Accepted: {version} replaces {parent}.").format(
                version=outcome.version.id if outcome.version is not None else "?", parent=outcome.parent or "?")
        elif answer == "not_enough":
            verdict = self.tr("Not enough held-out copy to tell: {parent} stays active.").format(
                parent=outcome.parent or "?")
            more = gate.get("more_copies")
            if more:
                verdict += " " + self.tr("About {count} more accepted copies would let the gate decide.").format(
                    count=more)
            elif gate.get("needed_examples"):
                verdict += " " + self.tr("The gate would need about {count} held-out examples.").format(
                    count=gate["needed_examples"])
        else:
            verdict = self.tr("Refused: {parent} stays active.").format(parent=outcome.parent or "?")
        details = self.tr("{examples} examples trained on, {held_out} held out, {pairs} pairs, {seconds}.").format(
            examples=outcome.examples, held_out=outcome.held_out, pairs=outcome.pairs,
            seconds=format_duration(outcome.seconds))
        report = "\n".join(self.interval_text(intervals[name]) for name in intervals)
        self.decision_label.setText(f"{verdict} {outcome.reason}\n" + (f"{report}\n" if report else "") + details)

    def _cancelled(self) -> None:
        self.stage_label.setText(self.tr("Cancelled; the active model is unchanged."))

    def _failed(self, text: str, automatic: bool) -> None:
        self.stage_label.setText(text)
        if automatic:
            self._automatic_failed = True  # not again this session: the same failure would repeat

    def _finished(self) -> None:
        self._update_buttons()
