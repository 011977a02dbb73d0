"""The library tab: every generation kept; filters by product, kind, style, decision and date;
accepted copy (with edits) is what export writes."""

import csv
import datetime as dt

from PySide6.QtCore import QDate

from adcopy_desktop.core.prompts import CopyKind

from .conftest import add_product, generate, wait_for_job


def test_filters_by_product_kind_decision_and_date(qtbot, open_window):
    window = open_window()
    mug = add_product(qtbot, window, "Type: mug")
    generate(qtbot, window, n=2, kind=CopyKind.TITLE)
    window.writer.decide(window.writer.cards[0], "accepted")
    lamp = add_product(qtbot, window, "Type: lamp")
    generate(qtbot, window, n=3, kind=CopyKind.SLOGAN)
    window.writer.decide(window.writer.cards[2], "rejected")

    view = window.library_view
    window.tabs.setCurrentWidget(view)
    assert len(view.rows) == 5

    view.product_box.setCurrentIndex(view.product_box.findData(mug))
    assert {row.product_id for row in view.rows} == {mug} and len(view.rows) == 2
    view.product_box.setCurrentIndex(0)

    view.kind_box.setCurrentIndex(view.kind_box.findData("slogan"))
    assert {row.product_id for row in view.rows} == {lamp} and len(view.rows) == 3
    view.kind_box.setCurrentIndex(0)

    for decision, expected in (("accepted", 1), ("rejected", 1), ("undecided", 3)):
        view.decision_box.setCurrentIndex(view.decision_box.findData(decision))
        assert len(view.rows) == expected, decision
    view.decision_box.setCurrentIndex(0)

    view.date_box.setCurrentIndex(view.date_box.findData("today"))
    assert len(view.rows) == 5
    view.date_box.setCurrentIndex(view.date_box.findData("range"))
    yesterday = QDate.currentDate().addDays(-1)
    view.from_date.setDate(yesterday.addDays(-3))
    view.to_date.setDate(yesterday)
    assert view.rows == []
    view.to_date.setDate(QDate.currentDate())
    assert len(view.rows) == 5
    since, until = view.date_range()
    assert until - since == dt.timedelta(days=5).total_seconds()


def test_style_filter_lists_the_plugin_styles(qtbot, open_window):
    window = open_window()
    view = window.library_view
    names = [view.style_box.itemData(i) for i in range(view.style_box.count())]
    assert names[0] is None and set(names[1:]) == set(window.context.plugins.styles())


def test_decisions_from_the_library_reach_the_writer_and_open_product(qtbot, open_window):
    window = open_window()
    product_id = add_product(qtbot, window, "Type: kettle")
    generate(qtbot, window, n=2)
    view = window.library_view
    window.tabs.setCurrentWidget(view)
    target = window.writer.cards[1].candidate_id
    assert view.select_candidate(target)
    view.decide_selected("accepted")
    assert [c.id for c in window.context.library.accepted_copy()] == [target]
    window.writer.new_product()
    view.select_candidate(target)
    view.open_selected_product()
    assert window.writer.catalog.current_id() == product_id
    assert {card.candidate_id: card.decision for card in window.writer.cards}[target] == "accepted"


def test_export_writes_the_accepted_copy_with_edits(qtbot, open_window, tmp_path):
    window = open_window()
    add_product(qtbot, window, "Type: kettle")
    generate(qtbot, window, n=3)
    first, second, _ = window.writer.cards
    first.text_edit.setPlainText("Boils fast, pours clean.")
    first.commit_edit()
    second.text_edit.setPlainText("Keeps tea hot for an hour.")  # known text: random text may start with '='
    second.commit_edit()
    window.writer.decide(first, "accepted")
    window.writer.decide(second, "accepted")
    target = tmp_path / "copy.csv"
    job = window.library_view.export(target)
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded", window.message_bar.texts()
    with target.open(encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["text"] for row in rows] == ["Boils fast, pours clean.", "Keeps tea hot for an hour."]
    assert "Exported 2 accepted candidates" in window.message_bar.text


def test_library_tab_reports_the_learned_scorer_auc(qtbot, open_window):
    from adcopy_desktop.core import quality_model as qm
    from tests.core.test_quality_model import synthetic_history

    window = open_window()
    view = window.library_view
    window.tabs.setCurrentWidget(view)
    view.refresh()
    assert "not trained yet" in view.quality_label.text()
    qm.train(synthetic_history(200, seed=1), features="ngrams").save()
    view.refresh()
    text = view.quality_label.text()
    assert "ROC-AUC 1.000" in text or "ROC-AUC 0.9" in text, text
    assert "used for ranking" in text and "not used" not in text
