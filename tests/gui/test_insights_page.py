"""The Insights tab on a seeded real library: what each chart plots (read back from the pyqtgraph
items) equals SQL written here; PNG and CSV export; Chinese labels; light and dark palettes."""

from __future__ import annotations

import csv

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from adcopy_desktop.core import insights
from adcopy_desktop.core.settings import Settings
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.insights_page import InsightsPage, series_colours
from tests.gui.conftest import wait_for_job
from tests.insights_seed import SHOPS, STYLE, seeded

WEEK = "date(g.created_at, 'unixepoch', 'localtime', '-6 days', 'weekday 1')"


@pytest.fixture
def page(qtbot, tmp_path):
    library, store, ids = seeded(tmp_path)
    context = AppContext(store, library, None, Settings())
    page = InsightsPage(context)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page._ids = ids
    yield page
    context.close()
    library.close()


def refreshed(qtbot, page, style=...):
    if style is not ...:
        page.style_box.setCurrentIndex(page.style_box.findData(style))
    job = page.refresh()
    wait_for_job(qtbot, job, timeout=30_000)
    return page


def sql(page, query, params=()):
    return [tuple(row) for row in page.context.library._db.execute(query, params).fetchall()]


def lines(panel) -> dict[str, tuple[list[float], list[float]]]:
    """The curves the chart draws, by legend name, as pyqtgraph holds them."""
    found = {}
    for item in panel.plot.listDataItems():
        xs, ys = item.getData()
        found[item.name()] = ([float(x) for x in xs], [float(y) for y in ys])
    return found


def bars(panel) -> list[list[float]]:
    items = [item for item in panel.plot.getPlotItem().items if isinstance(item, pg.BarGraphItem)]
    return [[float(v) for v in (item.opts["width"] if item.opts.get("x0") is not None else item.opts["height"])]
            for item in items]


def test_decision_rates_plotted_equal_sql(qtbot, page):
    refreshed(qtbot, page)
    assert page.style_box.itemData(0) is None and page.style_box.findData(STYLE) > 0
    refreshed(qtbot, page, STYLE)
    expected = sql(page, f"""SELECT {WEEK} AS week, ROUND(1.0 * SUM(c.decision = 'accepted') / COUNT(*), 4),
        ROUND(1.0 * SUM(c.decision = 'rejected') / COUNT(*), 4), ROUND(1.0 * SUM(c.text != c.generated_text) / COUNT(*), 4)
        FROM candidates c JOIN generations g ON g.id = c.generation_id WHERE g.style = ? GROUP BY week ORDER BY week""",
                   (STYLE,))
    drawn = lines(page.decisions)
    assert set(drawn) == {"Accepted", "Rejected", "Edited"}
    assert drawn["Accepted"][1] == [row[1] for row in expected]
    assert drawn["Rejected"][1] == [row[2] for row in expected]
    assert drawn["Edited"][1] == [row[3] for row in expected]
    assert drawn["Accepted"][0] == [insights.period_start(row[0]) for row in expected]


def test_mean_scores_per_scorer_equal_sql(qtbot, page):
    refreshed(qtbot, page)
    expected = sql(page, f"""SELECT {WEEK} AS week, ROUND(AVG(json_extract(s.value, '$.value')), 4)
        FROM candidates c JOIN generations g ON g.id = c.generation_id, json_each(c.details, '$.scores') s
        WHERE json_extract(s.value, '$.scorer') = 'readability' AND NOT json_extract(s.value, '$.abstained')
        GROUP BY week ORDER BY week""")
    drawn = lines(page.scores)
    assert set(drawn) == {"Compliance", "Readability", "Faithfulness", "Channel rules"}
    assert drawn["Readability"][1] == pytest.approx([row[1] for row in expected], abs=1e-4)


def test_sinking_rules_bars_equal_sql(qtbot, page):
    refreshed(qtbot, page)
    def hard(scorer):
        return sql(page, """SELECT COUNT(DISTINCT c.id) FROM candidates c, json_each(c.details, '$.scores') s
            WHERE json_extract(s.value, '$.scorer') = ? AND json_extract(s.value, '$.hard_fail')""", (scorer,))[0][0]

    forbidden = sql(page, """SELECT COUNT(DISTINCT c.id) FROM candidates c, json_each(c.details, '$.flags') f
        WHERE json_extract(f.value, '$.rule') = 'forbidden_word'""")[0][0]
    (widths,) = bars(page.sinking)
    labels = page.sinking.plotted.labels
    assert hard("channel-rules") > 0  # over a channel's length limit sinks too
    assert dict(zip(labels, widths)) == {"Compliance": hard("compliance"), "Channel rules": hard("channel-rules"),
                                         "forbidden word": forbidden, "too long (warning)": pytest.approx(widths[0])}
    assert labels[-1] == "Compliance"  # the biggest sink on top


def test_generation_distribution_marks_the_chosen_candidate(qtbot, page):
    refreshed(qtbot, page)
    generation_id, chosen_id = sql(page, "SELECT generation_id, id FROM candidates WHERE decision = 'accepted'"
                                         " ORDER BY id DESC LIMIT 1")[0]
    page.generation_box.setCurrentIndex(page.generation_box.findData(generation_id))
    wait_for_job(qtbot, page.draw_generation(), timeout=30_000)
    totals = [row[0] for row in sql(page, """SELECT ROUND(SUM(json_extract(s.value, '$.weight') * json_extract(s.value, '$.value'))
        / SUM(json_extract(s.value, '$.weight')), 4) FROM candidates c, json_each(c.details, '$.scores') s
        WHERE c.generation_id = ? AND NOT json_extract(s.value, '$.abstained') GROUP BY c.id ORDER BY c.position""",
                                          (generation_id,))]
    (heights,) = bars(page.generation)
    assert heights == totals
    position = sql(page, "SELECT position FROM candidates WHERE id = ?", (chosen_id,))[0][0]
    item = next(i for i in page.generation.plot.getPlotItem().items if isinstance(i, pg.BarGraphItem))
    highlight = page.palette().color(QPalette.ColorRole.Highlight)
    assert [b.color() == highlight for b in item.opts["brushes"]] == [p == position for p in range(4)]
    assert "chosen" in page.generation.plotted.labels[position]


def test_a_generation_chosen_in_the_box_is_read_off_the_ui_thread(qtbot, page, monkeypatch):
    import threading
    import time

    refreshed(qtbot, page)
    first = page.generation_box.currentData()
    assert page.generation.plotted.table.meta["generation"] == first  # read with the other figures
    threads = []
    reader = insights.score_distribution
    older, newer = page.generation_box.itemData(3), page.generation_box.itemData(1)

    def recording(library, generation_id):
        threads.append(threading.current_thread())
        if generation_id == older:
            time.sleep(0.3)  # the earlier choice's read finishes last
        return reader(library, generation_id)

    monkeypatch.setattr(insights, "score_distribution", recording)
    page.generation_box.setCurrentIndex(3)
    page.generation_box.activated.emit(3)
    stale = page.generation_job
    page.generation_box.setCurrentIndex(1)
    page.generation_box.activated.emit(1)
    wait_for_job(qtbot, page.generation_job, timeout=30_000)
    wait_for_job(qtbot, stale, timeout=30_000)
    assert len(threads) == 2 and threading.main_thread() not in threads
    assert older != newer and page.generation.plotted.table.meta["generation"] == newer  # the newest choice wins
    expected = sql(page, "SELECT COUNT(*) FROM candidates WHERE generation_id = ?", (newer,))[0][0]
    assert len(bars(page.generation)[0]) == expected


def test_training_curves_and_gate_bars_from_the_manifests(qtbot, page):
    refreshed(qtbot, page)
    assert page.version_box.currentData() == "tiny-v3"  # the newest first
    page.version_box.setCurrentIndex(page.version_box.findData("tiny-v2"))
    page.draw_training()
    info = page.context.store.get("tiny-v2")
    drawn = lines(page.training)
    assert drawn["Training loss"] == ([float(s) for s, _ in info.training["supervised"]["loss_curve"]],
                                      [float(v) for _, v in info.training["supervised"]["loss_curve"]])
    assert drawn["Held-out loss"] == ([0.0, 4.0, 8.0], [2.4, 2.1, 1.8])
    old, new = bars(page.gate)
    assert page.gate.plotted.labels[:3] == ["held-out loss", "ROUGE-L", "BLEU"]  # named, not ids
    metrics = insights.gate_comparison(info).column("metric")
    assert metrics[:3] == ["heldout_loss", "rouge_l", "bleu"]
    assert old == [info.evaluation["old"].get(m, 0.0) for m in metrics]
    assert new == [info.evaluation["new"].get(m, 0.0) for m in metrics]
    page.version_box.setCurrentIndex(page.version_box.findData("tiny-v1"))
    page.draw_training()
    assert lines(page.training)["Training loss"][1] == [3.2, 1.9]  # first and last loss of an older run


def test_model_timeline(qtbot, page):
    from adcopy_desktop.gui.insights_page import _created_timestamp

    refreshed(qtbot, page)
    store, panel = page.context.store, page.models
    assert [page.metric_box.itemText(i) for i in range(page.metric_box.count())] == ["held-out loss", "ROUGE-L", "BLEU"]
    assert page.metric_box.currentData() == "rouge_l"
    when = {info.id: _created_timestamp(info.created) for info in store.list_models()}
    for metric in ("rouge_l", "heldout_loss", "bleu"):
        page.metric_box.setCurrentIndex(page.metric_box.findData(metric))
        page.metric_box.activated.emit(page.metric_box.currentIndex())
        expected = {STYLE: ["tiny-v1", "tiny-v3"], "All styles": ["tiny-v2"]}  # trained versions only, per style
        assert panel.plotted.series == {
            name: ([when[v] for v in ids], [store.get(v).evaluation["new"][metric] for v in ids])
            for name, ids in expected.items()}, metric
        assert metric not in ("heldout_loss",) or "lower is better" in panel.plot.getAxis("left").labelText
    items = panel.plot.getPlotItem().items
    scatters = [i for i in items if isinstance(i, pg.ScatterPlotItem)]
    points = [(p.pos().x(), p.pos().y(), p.symbol()) for s in scatters[:-1] for p in s.points()]
    assert sorted(points) == sorted((when[v], store.get(v).evaluation["new"]["bleu"], "o")  # the gate accepted each
                                    for v in ("tiny-v1", "tiny-v2", "tiny-v3"))
    assert all(y != 0.0 for _, y, _ in points)  # the base model is no point at a made-up 0
    ring = scatters[-1]  # the active versions: v2 by default, v3 for the style
    assert sorted(p.pos().x() for p in ring.points()) == [when["tiny-v2"], when["tiny-v3"]]
    assert ring.opts["pen"].color() == panel.palette().color(QPalette.ColorRole.Text)  # on every series' colour
    labels = sorted(i.textItem.toPlainText() for i in items if isinstance(i, pg.TextItem))
    assert labels == ["tiny (base model)", "tiny-v1", "tiny-v2 (active)", f"tiny-v3 (active for {STYLE})"]
    (base,) = [i for i in items if isinstance(i, pg.PlotDataItem) and i.name() is None]
    xs, _ = base.getData()
    assert list(xs) == [when["tiny"]] * 2 and base.opts["pen"].style() == Qt.PenStyle.DashLine  # a time, not a value
    assert [label.text for _, label in panel.legend.items] == [
        STYLE, "All styles", "Gate: accepted", "Active", "Base model (no held-out figures)"]


def test_export_timeline_per_shop_equals_sql(qtbot, page):
    page.bucket_box.setCurrentIndex(page.bucket_box.findData("day"))
    refreshed(qtbot, page)
    page.shop_box.setCurrentIndex(page.shop_box.findData(SHOPS[1]))
    page.draw_exports()
    sent = sql(page, """SELECT date(i.sent_at, 'unixepoch', 'localtime'), COUNT(*), SUM(i.status = 'done'),
        SUM(i.status = 'failed') FROM export_items i JOIN export_jobs j ON j.id = i.job_id WHERE j.destination = ?
        GROUP BY 1 ORDER BY 1""", (SHOPS[1],))  # the seed confirms a minute after sending, on the same day
    drawn = lines(page.exports)
    assert drawn["Sent"][1] == [float(row[1]) for row in sent]
    assert drawn["Confirmed"][1] == [float(row[2]) for row in sent]
    assert drawn["Refused"][1] == [float(row[3]) for row in sent]


def test_every_chart_exports_png_and_csv(qtbot, page, tmp_path):
    refreshed(qtbot, page)
    for panel in (page.decisions, page.scores, page.sinking, page.generation, page.training, page.gate,
                  page.models, page.exports):
        png = panel.export_png(tmp_path / f"{panel.title}.png")
        assert png.read_bytes().startswith(b"\x89PNG")
        path = panel.export_csv(tmp_path / f"{panel.title}.csv")
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == panel.plotted.table.columns and len(rows) == len(panel.plotted.table.rows) + 1
    messages = []
    page.decisions.on_error = messages.append
    assert page.decisions.export_csv(tmp_path / "missing" / "x.csv") is None
    assert messages and "cannot be written" in messages[0]


def test_chinese_labels(qtbot, tmp_path):
    from adcopy_desktop.gui.i18n import CHINESE, install_interface_language

    install_interface_language(CHINESE)
    library, store, _ = seeded(tmp_path)
    context = AppContext(store, library, None, Settings())
    try:
        page = InsightsPage(context)
        qtbot.addWidget(page)
        wait_for_job(qtbot, page.refresh(), timeout=30_000)
        tabs = [page.charts.tabText(i) for i in range(page.charts.count())]
        assert tabs == ["决策", "评分", "致沉规则", "单次生成", "训练", "模型", "导出"]
        assert "合规" in lines(page.scores) and "可读性" in lines(page.scores)
        assert set(lines(page.decisions)) == {"接受", "拒绝", "编辑"}
        assert page.decisions.png_button.text() == "导出 PNG…"
    finally:
        context.close()
        library.close()


@pytest.mark.parametrize("base, dark", [("#ffffff", False), ("#1e1e1e", True)])
def test_light_and_dark_palettes(qtbot, page, base, dark):
    palette = QPalette(page.palette())
    palette.setColor(QPalette.ColorRole.Base, QColor(base))
    palette.setColor(QPalette.ColorRole.Text, QColor("#000000" if not dark else "#eeeeee"))
    page.setPalette(palette)
    refreshed(qtbot, page)
    panel = page.decisions
    assert panel.plot.backgroundBrush().color() == QColor(base)
    assert panel.plot.getAxis("left").textPen().color() == palette.color(QPalette.ColorRole.Text)
    for colour in series_colours(palette, 3):
        contrast = abs(colour.lightness() - QColor(base).lightness())
        assert contrast > 60, (colour.name(), base)


def test_the_tab_is_in_the_window(qtbot, open_window):
    window = open_window()
    window.tabs.setCurrentIndex(5)
    assert window.tabs.tabText(5) == "Insights" and window.tabs.currentWidget() is window.insights_page
    wait_for_job(qtbot, window.insights_page.job, timeout=30_000)
    assert window.insights_page.status.text() == "0 candidates in this selection"


def test_bar_legends_name_each_series_once_in_its_colour(qtbot, page):
    refreshed(qtbot, page)
    assert page.sinking.legend.items == []  # one series: no legend
    entries = page.gate.legend.items
    assert [label.text for _, label in entries] == ["Old", "New"]
    colours = series_colours(page.gate.palette(), 2)
    assert [pg.mkBrush(sample.item.opts["brush"]).color() for sample, _ in entries] == colours
    assert page.decisions.plot.getAxis("left").autoSIPrefix is False  # 0.25, not 250 "(x0.001)"


def test_the_chosen_candidates_bar_stands_out_with_a_star_and_a_label(qtbot, page):
    from adcopy_desktop.gui.insights_page import chosen_colour, muted_colour

    refreshed(qtbot, page)
    generation_id = sql(page, "SELECT generation_id FROM candidates WHERE decision = 'accepted' ORDER BY id DESC LIMIT 1")[0][0]
    page.generation_box.setCurrentIndex(page.generation_box.findData(generation_id))
    wait_for_job(qtbot, page.draw_generation(), timeout=30_000)
    panel = page.generation
    chosen = panel.plotted.highlight
    assert chosen is not None and "chosen" in panel.plotted.labels[chosen]
    item = next(i for i in panel.plot.getPlotItem().items if isinstance(i, pg.BarGraphItem))
    palette = panel.palette()
    marked, others = chosen_colour(palette), muted_colour(palette)
    colours = [brush.color() for brush in item.opts["brushes"]]
    assert colours[chosen] == marked and all(c == others for i, c in enumerate(colours) if i != chosen)
    assert marked.hsvSaturation() >= 80 and others.hsvSaturation() == 0  # colour against grey
    assert item.opts["pens"][chosen].widthF() == 2  # and an outline in the text colour
    star, label = panel.markers
    (x,), (y,) = star.getData()
    xs, heights = panel.plotted.series["Total score"]
    assert (x, y) == (xs[chosen], heights[chosen]) and star.points()[0].symbol() == "star"
    assert label.textItem.toPlainText() == "★ chosen"
    assert panel.plot.getViewBox().viewRange()[1][1] > max(heights) * 1.1  # room for the label
    # a greyish or base-coloured highlight is replaced by a strong colour that still reads
    for base, highlight in (("#ffffff", "#a0a0a0"), ("#1e1e1e", "#202020")):
        grey = QPalette(palette)
        grey.setColor(QPalette.ColorRole.Base, QColor(base))
        grey.setColor(QPalette.ColorRole.Highlight, QColor(highlight))
        replaced = chosen_colour(grey)
        assert replaced.hsvSaturation() > 200 and abs(replaced.lightness() - QColor(base).lightness()) > 60


def test_legends_sit_under_the_plotting_area(qtbot, page):
    refreshed(qtbot, page, STYLE)
    page.show()
    qtbot.waitExposed(page)
    for panel in (page.decisions, page.scores, page.gate, page.exports):
        page.charts.setCurrentWidget(panel if panel is not page.gate else page.charts.widget(4))
        qtbot.wait(50)
        legend, box = panel.legend, panel.plot.getViewBox()
        assert legend.items, panel.title
        legend_rect = legend.sceneBoundingRect()
        plot_rect = box.sceneBoundingRect()
        assert legend_rect.height() > 0 and legend_rect.top() >= plot_rect.bottom(), panel.title
        assert not legend_rect.intersects(plot_rect), panel.title
    assert page.sinking.legend.items == [] and page.sinking.legend.sceneBoundingRect().height() == 0


def test_date_axes_label_month_and_day_in_the_interface_language(qtbot, page):
    import re
    from datetime import datetime

    from pyqtgraph.graphicsItems.DateAxisItem import DAY_SPACING, MONTH_SPACING, YEAR_SPACING

    from adcopy_desktop.gui.i18n import CHINESE, ENGLISH, install_interface_language
    from adcopy_desktop.gui.insights_page import MonthDayAxis

    refreshed(qtbot, page)
    page.show()
    qtbot.waitExposed(page)
    for panel in (page.decisions, page.scores, page.models, page.exports):
        assert isinstance(panel.plot.getAxis("bottom"), MonthDayAxis)
    axis = page.decisions.plot.getAxis("bottom")
    qtbot.waitUntil(lambda: hasattr(axis, "fontMetrics"))  # set when it first draws
    seventh = datetime(2026, 12, 7).timestamp()  # local midnight
    assert axis.tickStrings([seventh], 1, DAY_SPACING) == ["12-07"]
    assert axis.tickStrings([datetime(2026, 12, 1).timestamp()], 1, YEAR_SPACING) == ["2026"]
    # what the axis draws for the seeded weeks: every label a month and a day
    low, high = page.decisions.plot.getViewBox().viewRange()[0]
    drawn = [text for spacing, values in axis.tickValues(low, high, axis.width() or 800)
             for text in axis.tickStrings(values, 1, spacing)]
    assert drawn and all(re.fullmatch(r"\d\d-\d\d", text) for text in drawn), drawn
    install_interface_language(CHINESE)
    try:
        assert axis.tickStrings([seventh], 1, DAY_SPACING) == ["12月7日"]
        axis.zoomLevel = axis.zoomLevels[float("inf")]
        assert axis.tickStrings([datetime(2026, 12, 1).timestamp()], 1, MONTH_SPACING) == ["2026年12月"]
    finally:
        install_interface_language(ENGLISH)
