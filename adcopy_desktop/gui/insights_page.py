"""The Insights tab: what the library, the trained versions and the shop exports say, as charts.

Charts (every one exports to PNG and its data to CSV, for a client report):

- **Decisions**: per brand style, the accepted / rejected / edited rate per week or day.
- **Scores**: the mean score of each scorer per week or day.
- **Sinking rules**: the scorers' hard failures and the style's rules, by candidates sunk.
- **Generation**: one generation's candidates by weighted total, the chosen (accepted) one marked.
- **Training**: a trained version's loss and held-out loss curves, and the gate's old-vs-new bars.
- **Models**: every model on a timeline: trained versions at a held-out figure the user picks
  (held-out loss, ROUGE-L, BLEU: those the manifests carry), named by version, shaped by the gate's
  answer, the active ones ringed; base models as dashed lines (they have no figures to plot).
- **Exports**: items sent, confirmed and refused per day or week, per shop.

The figures are ``core/insights.py`` tables, computed in a background job (never on the UI thread)
whenever the tab is shown after the library changed; a generation chosen in the Generation chart's
box is read in a job of its own. ``adcopy report`` draws the same tables.

Why pyqtgraph and not Qt Charts: AdCopy depends on ``PySide6-Essentials``, which has neither
``QtCharts`` nor its successor ``QtGraphs`` (both come with ``PySide6-Addons``, a wheel of well over
100 MB more); Qt Charts is deprecated (Qt 6.10) in favour of Qt Graphs, whose 2D charts are young and
built on Qt Quick. pyqtgraph is pure Python on top of the Qt we already ship, maintained,
fast for thousands of points, and exports what it draws. Colours come from the window's palette
(background, text, highlight) so the charts read in light and dark themes alike.

Legends sit in their own row under the plotting area (``OutsideLegend``), so they never cover a
point or a bar; date axes label their ticks with month and day in the interface language
(``MonthDayAxis``: "12-07", "12月7日"); in the Generation chart the chosen candidate's bar is the
palette's highlight colour among muted ones, with a star and "chosen" above it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import DAY_SPACING, MONTH_SPACING, YEAR_SPACING, ZoomLevel
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core import insights
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.insights import Table
from adcopy_desktop.core.texts import named
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.i18n import current_interface_language

log = logging.getLogger("adcopy.gui.insights")

# hues of the series (degrees); brightness follows the palette, so a series reads on both themes
SERIES_HUES = (210, 130, 0, 280, 30, 180, 330, 60)
# the gate's answer on a trained version -> its marker in the Models chart (a square: no answer kept)
GATE_SYMBOLS = {"accepted": "o", "refused": "x", "not_enough": "t"}


def series_colours(palette: QPalette, count: int) -> list[QColor]:
    """``count`` distinct colours that stand out from the palette's base colour: deep on a light
    background, bright on a dark one."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    value, saturation = (235, 150) if dark else (175, 220)
    return [QColor.fromHsv(SERIES_HUES[i % len(SERIES_HUES)], saturation, value) for i in range(count)]


def muted_colour(palette: QPalette) -> QColor:
    """The bars that are not the chosen one: a grey that reads on the palette's base but stays
    quiet beside the highlight."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return QColor(128, 128, 128) if dark else QColor(170, 170, 170)


def chosen_colour(palette: QPalette) -> QColor:
    """The chosen candidate's bar: the palette's highlight colour, unless that is itself greyish or
    too close to the base colour to stand out (then a strong orange of the right brightness)."""
    highlight = palette.color(QPalette.ColorRole.Highlight)
    base = palette.color(QPalette.ColorRole.Base)
    if highlight.hsvSaturation() >= 80 and abs(highlight.lightness() - base.lightness()) >= 60:
        return highlight
    dark = base.lightness() < 128
    return QColor.fromHsv(28, 230, 250 if dark else 215)


class OutsideLegend(pg.LegendItem):
    """A legend in its own row of the plot's layout, under the bottom axis: it takes its room from
    the layout (none when empty) instead of floating over the data."""

    def __init__(self, **kwargs):
        super().__init__(offset=None, **kwargs)

    def updateSize(self) -> None:  # noqa: N802 - pyqtgraph API
        height = width = 0.0
        for row in range(self.layout.rowCount()):
            row_height = row_width = 0.0
            for column in range(self.layout.columnCount()):
                item = self.layout.itemAt(row, column)
                if item:
                    row_width += item.width() + 3
                    row_height = max(row_height, item.height())
            width = max(width, row_width)
            height += row_height
        if self.items:
            width, height = width + 10, height + 8
        else:
            width = height = 0.0
        self.setMinimumSize(width, height)
        self.setMaximumSize(width, height)
        self.setPreferredSize(width, height)
        self.updateGeometry()


MONTH_DAY_FORMATS = {"zh": "{month}月{day}日", "en": "{month:02d}-{day:02d}"}
YEAR_MONTH_FORMATS = {"zh": "{year}年{month}月", "en": "{year}-{month:02d}"}
YEAR_FORMATS = {"zh": "{year}年", "en": "{year}"}


class MonthDayAxis(pg.DateAxisItem):
    """A date axis whose day ticks show month and day ("12-07" in English, "12月7日" in Chinese;
    the bare "07" of pyqtgraph's own axis reads as nothing in a client report); months read
    "2026-12" / "2026年12月", hours "14:00". The language is the interface's when it draws."""

    def __init__(self, orientation: str = "bottom", **kwargs):
        super().__init__(orientation=orientation, **kwargs)
        # the same tick levels, sized for labels like ours (pyqtgraph sizes them by an example text)
        examples = {np.inf: "2026年12月", 5 * 86400: "12月30日", 6 * 3600: "12月30日", 15 * 60: "00:00"}
        levels = OrderedDict()
        for spacing, level in self.zoomLevels.items():
            specs = level.tickSpecs
            if spacing == 5 * 86400:  # days only: a month's first day would crowd the day beside it
                specs = [spec for spec in specs if spec.spacing == DAY_SPACING]
            levels[spacing] = ZoomLevel(specs, examples.get(spacing, level.exampleText))
        self.zoomLevels = levels

    @staticmethod
    def language() -> str:
        return "zh" if current_interface_language().startswith("zh") else "en"

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        language = self.language()
        if spacing < DAY_SPACING:  # hours and minutes within a day (a per-day chart zoomed in)
            return super().tickStrings(values, scale, spacing)
        texts = []
        for value in values:
            try:
                when = datetime.fromtimestamp(value - _offset_from_utc(value, self.utcOffset), timezone.utc)
            except (OverflowError, ValueError, OSError):
                texts.append("")
                continue
            if spacing >= YEAR_SPACING:
                template = YEAR_FORMATS[language]
            elif spacing >= MONTH_SPACING and self.zoomLevel is self.zoomLevels[np.inf]:
                template = YEAR_MONTH_FORMATS[language]
            else:
                template = MONTH_DAY_FORMATS[language]
            texts.append(template.format(year=when.year, month=when.month, day=when.day))
        return texts


def _offset_from_utc(value: float, preferred: int | None) -> int:
    from pyqtgraph.graphicsItems.DateAxisItem import getPreferredOffsetFromUtc

    return getPreferredOffsetFromUtc(value, preferred)


@dataclass
class Plotted:
    """What one chart shows: its series (name -> x and y values), the source table, bar labels."""

    table: Table
    series: dict[str, tuple[list[float], list[float]]]
    labels: list[str] | None = None
    highlight: int | None = None  # the bar drawn as the chosen one


class ChartPanel(QWidget):
    """One chart with a title, a note, its own controls and PNG / CSV export."""

    def __init__(self, title: str, *, date_axis: bool = False, on_error: Callable[[str], None] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.on_error = on_error or (lambda text: log.warning("%s", text))
        self.plotted: Plotted | None = None
        self.controls = QHBoxLayout()
        self.note = QLabel()
        self.note.setWordWrap(True)
        axis = {"bottom": MonthDayAxis(orientation="bottom")} if date_axis else {}
        self.plot = pg.PlotWidget(axisItems=axis)
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        for name in ("left", "bottom"):  # shares and scores read 0.25, not 250 with "(x0.001)"
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.legend = OutsideLegend(colCount=4)
        plot_item = self.plot.getPlotItem()
        plot_item.layout.addItem(self.legend, 4, 1)  # a row under the bottom axis, not over the data
        plot_item.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignHCenter)
        plot_item.legend = self.legend  # curves with a name land in it
        self.markers: list[Any] = []  # the chosen bar's star and label
        self.png_button = QPushButton(self.tr("Export PNG…"))
        self.csv_button = QPushButton(self.tr("Export CSV…"))
        self.png_button.clicked.connect(lambda: self.export_png())
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.controls.addStretch(1)
        self.controls.addWidget(self.png_button)
        self.controls.addWidget(self.csv_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.controls)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        self.apply_palette()

    def add_control(self, widget: QWidget) -> None:
        self.controls.insertWidget(self.controls.count() - 3, widget)

    def apply_palette(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() == event.Type.PaletteChange:
            self.apply_palette()
        super().changeEvent(event)

    def clear(self) -> None:
        self.plot.clear()
        self.legend.clear()
        self.markers = []
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setTicks(None)

    def show_lines(self, table: Table, series: dict[str, tuple[list[float], list[float]]],
                   y_label: str = "", note: str = "") -> None:
        self.clear()
        colours = series_colours(self.palette(), len(series))
        for colour, (name, (xs, ys)) in zip(colours, series.items()):
            self.plot.plot(xs, ys, name=name, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                           symbolBrush=colour, symbolPen=pg.mkPen(colour))
        self.plot.setLabel("left", y_label)
        self.plotted = Plotted(table, series)
        self._note(table, note)

    def show_bars(self, table: Table, labels: list[str], series: dict[str, list[float]], *,
                  horizontal: bool = False, highlight: int | None = None, y_label: str = "",
                  note: str = "") -> None:
        """Grouped bars, one group per label; ``highlight`` marks one bar of a single series: that bar
        in the highlight colour among muted ones, with a star and "chosen" at its end."""
        self.clear()
        palette = self.palette()
        colours = series_colours(palette, len(series))
        marked = chosen_colour(palette)
        if highlight is not None and len(series) == 1:
            colours = [muted_colour(palette)]
        width = 0.8 / max(1, len(series))
        plotted: dict[str, tuple[list[float], list[float]]] = {}
        for number, (colour, (name, values)) in enumerate(zip(colours, series.items())):
            positions = [i - 0.4 + width * (number + 0.5) for i in range(len(values))]
            heights = [v if v is not None else 0.0 for v in values]
            brushes = [pg.mkBrush(marked if i == highlight else colour) for i in range(len(values))]
            outline = {"pen": pg.mkPen(colour.darker(130))}
            if highlight is not None and 0 <= highlight < len(values):  # (pyqtgraph refuses an empty pens)
                outline["pens"] = [pg.mkPen(palette.color(QPalette.ColorRole.Text), width=2) if i == highlight
                                   else pg.mkPen(colour.darker(130)) for i in range(len(values))]
            if horizontal:
                item = pg.BarGraphItem(x0=0, y=positions, height=width, width=heights, brushes=brushes,
                                       brush=pg.mkBrush(colour), **outline)
            else:
                item = pg.BarGraphItem(x=positions, height=heights, width=width, brushes=brushes,
                                       brush=pg.mkBrush(colour), **outline)
            self.plot.addItem(item)
            if highlight is not None and number == 0 and 0 <= highlight < len(values):
                self._mark_chosen(positions[highlight], heights[highlight], marked, horizontal)
            if len(series) > 1:  # added here only (a named item would be added twice), with its colour
                self.legend.addItem(item, name)
            plotted[name] = (positions, heights)
        ticks = [list(enumerate(labels))]
        self.plot.getAxis("left" if horizontal else "bottom").setTicks(ticks)
        self.plot.setLabel("bottom" if horizontal else "left", y_label)
        self.plotted = Plotted(table, plotted, labels, highlight)
        self._note(table, note)
        if self.markers:  # room for the star and its label past the longest bar
            box = self.plot.getViewBox()
            (x_low, x_high), (y_low, y_high) = box.viewRange()
            if horizontal:
                box.setXRange(x_low, x_high + 0.2 * (x_high - x_low), padding=0)
            else:
                box.setYRange(y_low, y_high + 0.15 * (y_high - y_low), padding=0)

    def _mark_chosen(self, position: float, value: float, colour: QColor, horizontal: bool) -> None:
        """A star just past the end of the chosen bar and the word "chosen" beyond it."""
        text_colour = self.palette().color(QPalette.ColorRole.Text)
        x, y = (value, position) if horizontal else (position, value)
        star = pg.ScatterPlotItem([x], [y], symbol="star", size=16, brush=pg.mkBrush(colour),
                                  pen=pg.mkPen(text_colour, width=1))
        label = pg.TextItem(self.tr("★ chosen"), color=colour, anchor=(-0.15, 0.5) if horizontal else (0.5, 1.3))
        label.setPos(x, y)
        for item in (star, label):
            self.plot.addItem(item)
        self.markers = [star, label]

    def _note(self, table: Table, note: str) -> None:
        self.note.setText(note if table.rows else self.tr("Nothing to show yet for this choice."))
        self.plot.autoRange()

    # -- export -----------------------------------------------------------------------------------

    def export_png(self, path: str | Path | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Export chart as PNG"), f"{self.title}.png",
                                                  self.tr("PNG images (*.png)"))
            if not path:
                return None
        if not self.plot.grab().save(str(path), "PNG"):
            self.on_error(self.tr("{path} could not be written; choose another file.").format(path=path))
            return None
        return Path(path)

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        if self.plotted is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Export chart data as CSV"), f"{self.title}.csv",
                                                  self.tr("CSV files (*.csv)"))
            if not path:
                return None
        try:
            return self.plotted.table.to_csv(Path(path))
        except AdCopyError as exc:
            self.on_error(str(exc))
            return None


class InsightsPage(QWidget):
    """The tab; ``refresh()`` recomputes every table in the background and redraws."""

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.stale = True
        self.job = None
        self.generation_job = None  # the read of the generation chosen in the box
        self.generation_request = 0  # only the newest request's candidates are drawn
        self.data: dict[str, Any] = {}
        self.style_box = QComboBox()
        self.style_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # filled later
        self.bucket_box = QComboBox()
        self.bucket_box.addItem(self.tr("Per week"), "week")
        self.bucket_box.addItem(self.tr("Per day"), "day")
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.status = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Brand style")))
        top.addWidget(self.style_box)
        top.addWidget(self.bucket_box)
        top.addWidget(self.refresh_button)
        top.addWidget(self.status, 1)

        self.decisions = ChartPanel(self.tr("Decisions"), date_axis=True, on_error=context.error)
        self.scores = ChartPanel(self.tr("Scores"), date_axis=True, on_error=context.error)
        self.sinking = ChartPanel(self.tr("Sinking rules"), on_error=context.error)
        self.generation = ChartPanel(self.tr("Generation"), on_error=context.error)
        self.generation_box = QComboBox()
        self.generation_box.setMinimumWidth(320)
        self.generation.add_control(self.generation_box)
        self.training = ChartPanel(self.tr("Training"), on_error=context.error)
        self.gate = ChartPanel(self.tr("Gate"), on_error=context.error)
        self.version_box = QComboBox()
        self.training.add_control(self.version_box)
        training_page = QWidget()
        training_layout = QVBoxLayout(training_page)
        training_layout.setContentsMargins(0, 0, 0, 0)
        training_layout.addWidget(self.training, 3)
        training_layout.addWidget(self.gate, 2)
        self.models = ChartPanel(self.tr("Models"), date_axis=True, on_error=context.error)
        self.models.plot.getViewBox().setDefaultPadding(0.1)  # room for the versions' names at the ends
        self.metric_box = QComboBox()  # the held-out figure the timeline plots
        self.models.add_control(QLabel(self.tr("Metric")))
        self.models.add_control(self.metric_box)
        self.exports = ChartPanel(self.tr("Exports"), date_axis=True, on_error=context.error)
        self.shop_box = QComboBox()
        self.exports.add_control(self.shop_box)

        self.charts = QTabWidget()
        for widget, label in ((self.decisions, self.tr("Decisions")), (self.scores, self.tr("Scores")),
                              (self.sinking, self.tr("Sinking rules")), (self.generation, self.tr("Generation")),
                              (training_page, self.tr("Training")), (self.models, self.tr("Models")),
                              (self.exports, self.tr("Exports"))):
            self.charts.addTab(widget, label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.charts, 1)

        self.refresh_button.clicked.connect(lambda: self.refresh())
        self.style_box.activated.connect(lambda _: self.refresh())
        self.bucket_box.activated.connect(lambda _: self.refresh())
        self.generation_box.activated.connect(lambda _: self.draw_generation())
        self.version_box.activated.connect(lambda _: self.draw_training())
        self.metric_box.activated.connect(lambda _: self.draw_models())
        self.shop_box.activated.connect(lambda _: self.draw_exports())
        self.context.candidates_changed.connect(self.mark_stale)
        self.context.models_changed.connect(self.mark_stale)

    # -- data ----------------------------------------------------------------------------------------

    def mark_stale(self) -> None:
        self.stale = True
        if self.isVisible():
            self.refresh()

    def refresh_if_stale(self):
        return self.refresh() if self.stale else None

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.refresh_if_stale()

    @property
    def style(self) -> str | None:
        data = self.style_box.currentData()
        return None if data is None else str(data)

    @property
    def bucket(self) -> str:
        return str(self.bucket_box.currentData() or "week")

    def refresh(self):
        """Recompute every table for the chosen style and period in the background; returns the job."""
        if self.job is not None and not self.job.delivered:
            self.job.cancel()
        library, store = self.context.library, self.context.store
        style, bucket = self.style, self.bucket
        wanted = self.generation_box.currentData()
        self.stale = False
        self.status.setText(self.tr("Reading the library…"))

        def task(report, cancel) -> dict[str, Any]:
            versions = insights.trained_versions(store)
            recent = insights.generations(library, style=style)
            ids = recent.column("generation")
            shown = wanted if wanted in ids else (ids[0] if ids else None)  # what the box will show
            return {
                "styles": insights.styles_in_library(library),
                "decisions": insights.decision_rates(library, style=style, bucket=bucket),
                "scores": insights.mean_scores(library, style=style, bucket=bucket),
                "sinking": insights.sinking_rules(library, style=style),
                "generations": recent,
                "distribution": insights.score_distribution(library, shown) if shown is not None else None,
                "versions": versions,
                "models": insights.model_timeline(store),
                "exports": insights.export_timeline(library, bucket=bucket),
            }

        self.job = self.context.run(self.tr("Insights"), task, kind="insights", on_success=self.show_data,
                                    owner=self)
        return self.job

    def show_data(self, data: dict[str, Any]) -> None:
        self.data = data
        self._fill_styles(data["styles"])
        self._fill_box(self.generation_box, [
            (f"#{r['generation']}  {r['created']}  {r['product']}  ({r['kind']}"
             + (f", {r['style']}" if r["style"] else "") + ")", r["generation"]) for r in data["generations"].records()])
        self._fill_box(self.version_box, [(
            f"{info.id}" + (f"  ({info.style})" if info.style else "") + f"  {info.created}", info.id)
            for info in reversed(data["versions"])])
        self._fill_box(self.metric_box, [(self._metric_name(metric), metric)
                                         for metric in data["models"].meta.get("metrics", [])],
                       keep=self.metric_box.currentData() or "rouge_l")
        shops = sorted(set(data["exports"].column("shop")))
        self._fill_box(self.shop_box, [(self.tr("All shops"), None)] + [(shop, shop) for shop in shops])
        self.draw_decisions()
        self.draw_scores()
        self.draw_sinking()
        self.draw_generation(data.get("distribution"))
        self.draw_training()
        self.draw_models()
        self.draw_exports()
        self.status.setText(self.tr("{candidates} candidates in this selection").format(
            candidates=sum(data["decisions"].column("candidates"))))

    def _fill_styles(self, styles: list[str]) -> None:
        current = self.style_box.currentData()
        entries = [(self.tr("All styles"), None)] + [
            (self.tr("No brand style") if name == insights.NO_STYLE else name, name) for name in styles]
        self._fill_box(self.style_box, entries, keep=current)

    @staticmethod
    def _fill_box(box: QComboBox, entries: list[tuple[str, Any]], keep: Any = ...) -> None:
        current = box.currentData() if keep is ... else keep
        box.blockSignals(True)
        box.clear()
        for text, data in entries:
            box.addItem(text, data)
        index = box.findData(current) if current is not None else -1
        box.setCurrentIndex(index if index >= 0 else 0)
        box.blockSignals(False)

    # -- drawing -----------------------------------------------------------------------------------

    def _label(self, record: dict[str, Any]) -> str:
        if current_interface_language().startswith("zh") and record.get("label_zh"):
            return str(record["label_zh"])
        return str(record.get("label") or record.get("rule") or record.get("scorer"))

    @staticmethod
    def _metric_name(metric: str) -> str:
        english, chinese = named("metric", metric)
        return chinese if current_interface_language().startswith("zh") and chinese else english

    def draw_decisions(self) -> None:
        table: Table = self.data["decisions"]
        xs = [insights.period_start(p) for p in table.column("period")]
        series = {self.tr("Accepted"): (xs, table.column("accepted_rate")),
                  self.tr("Rejected"): (xs, table.column("rejected_rate")),
                  self.tr("Edited"): (xs, table.column("edited_rate"))}
        self.decisions.show_lines(table, series, self.tr("Share of candidates"), self.tr(
            "Of the candidates generated in each period, the share accepted, rejected and edited by you "
            "(automatic acceptances of bulk generation count as accepted)."))

    def draw_scores(self) -> None:
        table: Table = self.data["scores"]
        series: dict[str, tuple[list[float], list[float]]] = {}
        for scorer in dict.fromkeys(table.column("scorer")):
            rows = table.where(scorer=scorer).records()
            series[self._label(rows[0])] = ([insights.period_start(r["period"]) for r in rows],
                                            [r["mean"] for r in rows])
        self.scores.show_lines(table, series, self.tr("Mean score"), self.tr(
            "The mean of each scorer's verdicts (0 to 1) on the candidates generated in each period."))

    def draw_sinking(self) -> None:
        table: Table = self.data["sinking"]
        records = list(reversed(table.records()))  # the biggest sink at the top
        labels = [self._label(r) + ("" if r["effect"] == "sinks" else self.tr(" (warning)")) for r in records]
        self.sinking.show_bars(table, labels, {self.tr("Candidates"): [r["candidates"] for r in records]},
                               horizontal=True, y_label=self.tr("Candidates"), note=self.tr(
                "Hard failures of the scorers (advertising-law terms, channel limits, …) and the brand "
                "style's rules (forbidden words sink; warnings only flag), by how many candidates they hit."))

    def draw_generation(self, table: Table | None = None):
        """Draw the candidates of the generation chosen in the box: ``table`` when the refresh read
        them with the other figures, else read in a background job (returned) and drawn when it
        delivers, unless another generation was chosen meanwhile."""
        generation_id = self.generation_box.currentData()
        self.generation_request += 1
        request = self.generation_request
        if self.generation_job is not None and not self.generation_job.delivered:
            self.generation_job.cancel()
        if generation_id is None:
            empty = Table("score_distribution", ["candidate", "position", "total", "sunk", "decision", "chosen"])
            self.generation.show_bars(empty, [], {self.tr("Total score"): []})
            return None
        if table is not None and table.meta.get("generation") == generation_id:
            self._show_distribution(table)
            return None
        library = self.context.library

        def task(report, cancel) -> Table:
            return insights.score_distribution(library, int(generation_id))

        def show(result: Table) -> None:
            if request == self.generation_request:
                self._show_distribution(result)

        self.generation_job = self.context.run(self.tr("Insights"), task, kind="insights", on_success=show,
                                               owner=self)
        return self.generation_job

    def _show_distribution(self, table: Table) -> None:
        records = table.records()
        chosen = next((i for i, r in enumerate(records) if r["chosen"]), None)
        labels = [self.tr("#{position}").format(position=r["position"] + 1)
                  + (self.tr(" chosen") if r["chosen"] else "") + (self.tr(" sunk") if r["sunk"] else "")
                  for r in records]
        self.generation.show_bars(table, labels, {self.tr("Total score"): [r["total"] for r in records]},
                                  highlight=chosen, y_label=self.tr("Weighted total"), note=self.tr(
                "Each candidate's weighted total of its scores; the accepted candidate is drawn in the "
                "highlight colour with a star, the others in grey."))

    def draw_training(self) -> None:
        version_id = self.version_box.currentData()
        info = next((v for v in self.data.get("versions", []) if v.id == version_id), None)
        if info is None:
            empty = Table("training_curve", ["series", "step", "loss"])
            self.training.show_lines(empty, {})
            self.gate.show_bars(Table("gate", ["metric", "old", "new", "difference"]), [], {})
            return
        curve = insights.training_curve(info)
        series = {}
        for name, label in (("train", self.tr("Training loss")), ("held_out", self.tr("Held-out loss"))):
            part = curve.where(series=name)
            if part.rows:
                series[label] = (part.column("step"), part.column("loss"))
        self.training.show_lines(curve, series, self.tr("Loss"), self.tr(
            "The training loss per step and the held-out loss at each evaluation (step 0: the model it was "
            "trained from)."))
        self.training.plot.setLabel("bottom", self.tr("Step"))
        gate = insights.gate_comparison(info)
        zh = current_interface_language().startswith("zh")
        answer = (gate.meta.get("decision_label_zh") if zh else None) or gate.meta.get("decision_label")
        self.gate.show_bars(gate, [self._label(r) for r in gate.records()], {self.tr("Old"): gate.column("old"),
                                                          self.tr("New"): gate.column("new")},
                            y_label=self.tr("Value"), note=self.tr(
                "The gate's held-out figures of the model it was trained from (old) and of this version (new); "
                "its answer: {decision}.").format(decision=answer or "—"))

    def draw_models(self) -> None:
        """Trained versions at the chosen held-out figure, one line per brand style, each point named
        by its version, shaped by the gate's answer, ringed when active; base models as dashed
        vertical lines at the time they were made: they have no held-out figures to plot."""
        table: Table = self.data["models"]
        panel = self.models
        panel.clear()
        metric = self.metric_box.currentData()
        palette = panel.palette()
        text = palette.color(QPalette.ColorRole.Text)
        records = [dict(record, when=_created_timestamp(record["created"])) for record in table.records()]
        records = [record for record in records if record["when"] is not None]
        versions = [r for r in records if r["trained"] and metric is not None and r[metric] is not None]
        styles = list(dict.fromkeys(r["style"] for r in versions))
        series: dict[str, tuple[list[float], list[float]]] = {}
        decisions: dict[str, str] = {}
        for colour, style in zip(series_colours(palette, len(styles)), styles):
            rows = [r for r in versions if r["style"] == style]
            xs, ys = [r["when"] for r in rows], [r[metric] for r in rows]
            name = style or self.tr("All styles")
            panel.plot.plot(xs, ys, name=name, pen=pg.mkPen(colour, width=2))
            points = pg.ScatterPlotItem(xs, ys, symbol=[GATE_SYMBOLS.get(r["decision"], "s") for r in rows], size=11,
                                        brush=pg.mkBrush(colour), pen=pg.mkPen(colour.darker(130)))
            panel.plot.addItem(points)
            panel.markers.append(points)
            for record in rows:
                label = pg.TextItem(self._version_label(record), color=colour, anchor=(0.5, 1.25))
                label.setPos(record["when"], record[metric])
                panel.plot.addItem(label)
                panel.markers.append(label)
                decisions.setdefault(record["decision"], self._decision_name(record))
            series[name] = (xs, ys)
        active = [r for r in versions if r["active"]]
        if active:
            ring = pg.ScatterPlotItem([r["when"] for r in active], [r[metric] for r in active], symbol="o", size=22,
                                      brush=pg.mkBrush(None), pen=pg.mkPen(text, width=2))
            panel.plot.addItem(ring)
            panel.markers.append(ring)
        values = [r[metric] for r in versions] or [0.0, 1.0]
        low, high = min(values), max(values)
        pad = (high - low) * 0.25 or abs(high) * 0.25 or 0.25
        base_pen = pg.mkPen(muted_colour(palette), width=2, style=Qt.PenStyle.DashLine)
        bases = [r for r in records if not r["trained"]]
        for record in bases:  # a line through the whole range: a time, not a value
            line = pg.PlotDataItem([record["when"]] * 2, [low - pad, high + pad], pen=base_pen)
            name = self.tr("{model} (base model)").format(model=record["model"])
            label = pg.TextItem(self._version_label(dict(record, model=name)), color=text, anchor=(-0.05, 0))
            label.setPos(record["when"], high + pad)
            for item in (line, label):
                panel.plot.addItem(item)
                panel.markers.append(item)
        for decision, name in decisions.items():  # what the shapes and the ring mean
            sample = pg.ScatterPlotItem(symbol=GATE_SYMBOLS.get(decision, "s"), size=10, brush=pg.mkBrush(text),
                                        pen=pg.mkPen(text))
            panel.legend.addItem(sample, self.tr("Gate: {decision}").format(decision=name))
        if active:
            panel.legend.addItem(pg.ScatterPlotItem(symbol="o", size=14, brush=pg.mkBrush(None),
                                                    pen=pg.mkPen(text, width=2)),
                                 self.tr("Active"))
        if bases:
            panel.legend.addItem(pg.PlotDataItem(pen=base_pen), self.tr("Base model (no held-out figures)"))
        if metric is not None:
            panel.plot.setLabel("left", (self.tr("{metric} (lower is better)") if metric in insights.LOWER_IS_BETTER
                                         else self.tr("{metric} (higher is better)")).format(
                metric=self._metric_name(metric)))
        panel.plotted = Plotted(table, series)
        panel._note(table, self.tr(
            "Trained versions by the time they were made, at the chosen held-out figure and named by their "
            "version, one line per brand style they were trained for; the marker's shape is the gate's "
            "answer and a ring marks the active versions (the default model, or a style's). Base models are "
            "dashed lines: they have no held-out figures of their own."))

    def _version_label(self, record: dict[str, Any]) -> str:
        if record["active_default"]:
            return self.tr("{model} (active)").format(model=record["model"])
        if record["active_styles"]:
            return self.tr("{model} (active for {styles})").format(model=record["model"],
                                                                    styles=record["active_styles"])
        return str(record["model"])

    @staticmethod
    def _decision_name(record: dict[str, Any]) -> str:
        if current_interface_language().startswith("zh") and record.get("decision_label_zh"):
            return str(record["decision_label_zh"])
        return str(record.get("decision_label") or record.get("decision") or "—")

    def draw_exports(self) -> None:
        table: Table = self.data["exports"]
        shop = self.shop_box.currentData()
        rows = table.where(shop=shop).records() if shop else table.records()
        totals: dict[str, list[int]] = {}
        for record in rows:
            entry = totals.setdefault(record["period"], [0, 0, 0])
            entry[0] += record["sent"]
            entry[1] += record["confirmed"]
            entry[2] += record["failed"]
        periods = sorted(totals)
        xs = [insights.period_start(p) for p in periods]
        shown = Table(table.name, list(table.columns), [tuple(r.values()) for r in rows], dict(table.meta))
        self.exports.show_lines(shown, {
            self.tr("Sent"): (xs, [totals[p][0] for p in periods]),
            self.tr("Confirmed"): (xs, [totals[p][1] for p in periods]),
            self.tr("Refused"): (xs, [totals[p][2] for p in periods]),
        }, self.tr("Items"), self.tr("Export items sent to the shop, confirmed by it and refused by it, per period."))


def _created_timestamp(created: str) -> float | None:
    from datetime import datetime, timezone

    try:
        return datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


__all__ = ["ChartPanel", "InsightsPage", "MonthDayAxis", "OutsideLegend", "chosen_colour", "muted_colour",
           "series_colours"]
