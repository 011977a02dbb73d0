"""The real window, driven under QT_QPA_PLATFORM=offscreen on a tiny random-weight model: add a
product, generate, accept, find it in the library, reopen the window on the same database."""

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from adcopy_desktop.core.library import Library
from adcopy_desktop.core.prompts import CopyKind

from .conftest import add_product, close_window, generate, wait_for_job

PRODUCT = "类型#上衣*材质#牛仔布*颜色#白色*风格#简约"


def test_add_generate_accept_find_in_library_then_again_after_restart(qtbot, open_window, isolated_home):
    window = open_window()
    assert "tiny-llama" in window.model_label.text()
    product_id = add_product(qtbot, window, PRODUCT)
    assert window.writer.catalog.current_id() == product_id
    assert window.writer.catalog.list.currentItem().text().startswith("上衣")

    generate(qtbot, window, n=3)
    cards = window.writer.cards
    assert len(cards) == 3
    assert all(card.candidate_id is not None and not card.streaming for card in cards)
    assert window.writer.stream.tokens > 0 and window.writer.stream.flushes > 0  # streamed, coalesced
    assert "3 candidates" in window.writer.panel.status.text()
    assert window.writer.panel.generate_button.isEnabled() and not window.writer.panel.stop_button.isEnabled()

    chosen = cards[1]
    qtbot.mouseClick(chosen.accept_button, Qt.MouseButton.LeftButton)
    assert chosen.decision == "accepted" and chosen.accept_button.isChecked()
    qtbot.mouseClick(cards[2].reject_button, Qt.MouseButton.LeftButton)
    assert cards[2].decision == "rejected"

    window.tabs.setCurrentWidget(window.library_view)
    library = window.library_view
    library.decision_box.setCurrentIndex(library.decision_box.findData("accepted"))
    assert [row.id for row in library.rows] == [chosen.candidate_id]
    assert library.table.item(0, 6).text() == chosen.text

    library_path = window.context.library.path
    accepted_id, accepted_text = chosen.candidate_id, chosen.text
    close_window(window)

    again = open_window(library_path=library_path)
    assert again.writer.catalog.current_id() == product_id  # layout and selection persisted
    reopened = {card.candidate_id: card for card in again.writer.cards}
    assert reopened[accepted_id].decision == "accepted" and reopened[accepted_id].text == accepted_text
    again.tabs.setCurrentWidget(again.library_view)
    assert again.library_view.decision_box.currentData() == "accepted"  # filters persisted too
    assert [row.text for row in again.library_view.rows] == [accepted_text]


def test_stop_cancels_a_running_generation_at_once(qtbot, open_window):
    window = open_window()
    add_product(qtbot, window, "Type: denim jacket\nColor: white\nMaterial: cotton denim")
    panel = window.writer.panel
    panel.count_spin.setValue(3)
    panel.kind_box.setCurrentIndex(panel.kind_box.findData(CopyKind.DESCRIPTION))
    panel.length_box.setCurrentIndex(panel.length_box.findData("long"))
    job = window.generate()
    qtbot.waitUntil(lambda: window.writer.stream.tokens > 0, timeout=60_000)
    assert panel.stop_button.isEnabled() and not panel.generate_button.isEnabled()
    stopped_at = time.perf_counter()
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    wait_for_job(qtbot, job)
    assert time.perf_counter() - stopped_at < 5
    assert {card.candidate.finish_reason for card in window.writer.cards} == {"cancelled"}
    assert "Stopped" in panel.status.text()
    assert panel.generate_button.isEnabled() and not panel.stop_button.isEnabled()
    # what was written before Stop is kept and can be accepted
    kept = [card for card in window.writer.cards if card.candidate_id is not None]
    assert kept and window.writer.decide(kept[0], "accepted")


def test_a_malformed_product_is_shown_and_no_work_starts(qtbot, open_window):
    window = open_window()
    window.new_product()
    editor = window.writer.editor
    editor.paste_edit.setPlainText("类型#上衣*材质牛仔布")
    qtbot.mouseClick(editor.apply_paste_button, Qt.MouseButton.LeftButton)
    assert "材质牛仔布" in editor.error_label.text() and not editor.error_label.isHidden()
    assert window.generate() is None  # the editor has no attribute yet
    assert "not complete" in window.message_bar.text
    assert not window.context.jobs.running("generation")


def test_generation_errors_name_what_failed_and_the_window_goes_on(qtbot, open_window, tiny_store):
    window = open_window()
    add_product(qtbot, window, "Type: jacket")
    tiny_store.root.joinpath("tiny-llama", "onnx", "model.onnx").write_bytes(b"broken")  # damage the model
    window.context.drop_generators()
    job = generate(qtbot, window, n=1)
    assert job.outcome == "failed"
    assert window.message_bar.text.startswith("Generation failed")
    assert window.writer.panel.generate_button.isEnabled()


def test_regenerate_replaces_only_that_card(qtbot, open_window):
    window = open_window()
    product_id = add_product(qtbot, window, "Type: mug\nMaterial: ceramic")
    generate(qtbot, window, n=3)
    cards = window.writer.cards
    before = [(card.candidate_id, card.text) for card in cards]
    job = window.writer.regenerate(cards[1])
    assert cards[1].streaming and not cards[0].regenerate_button.isEnabled()
    wait_for_job(qtbot, job)
    assert [card.candidate_id for card in cards][0::2] == [before[0][0], before[2][0]]
    assert cards[1].candidate_id not in (None, before[1][0])
    assert cards[1].candidate.settings.seed != cards[0].candidate.settings.seed
    regenerated = cards[1].candidate_id
    # reopening the product shows the regenerated card in its place
    window.writer.show_latest(product_id)
    assert [card.candidate_id for card in window.writer.cards] == [before[0][0], regenerated, before[2][0]]


def test_edits_in_place_are_saved_and_become_the_accepted_copy(qtbot, open_window):
    window = open_window()
    add_product(qtbot, window, "Type: teapot")
    generate(qtbot, window, n=2)
    card = window.writer.cards[0]
    card.text_edit.setFocus()
    card.text_edit.setPlainText("Hand-made teapot, pours without a drip.")
    assert card.commit_edit()
    window.writer.decide(card, "accepted")
    [stored] = window.context.library.accepted_copy()
    assert stored.text == "Hand-made teapot, pours without a drip." and stored.edited
    assert [action for action, _, _ in window.context.library.decision_history(stored.id)] == ["edited", "accepted"]
    qtbot.waitUntil(lambda: card.scores is not None)


def test_cards_show_every_active_scorer_with_its_explanation(qtbot, open_window):
    window = open_window()
    add_product(qtbot, window, "Type: scarf")
    generate(qtbot, window, n=1)
    card = window.writer.cards[0]
    assert [line.scorer for line in card.scores] == sorted(window.context.plugins.scorers())
    assert "Style compliance 1.00" in card.scores_label.text()
    assert card.score_details.isHidden()
    qtbot.mouseClick(card.details_button, Qt.MouseButton.LeftButton)  # "Why?" shows every explanation
    assert not card.score_details.isHidden()
    assert "Style compliance</b>: 1.00 (compliant) — No rule problems found." in card.score_details.text()
    assert len(card.score_details.text().split("<br>")) == len(window.context.plugins.scorers())


def test_copy_to_clipboard_and_compare_side_by_side(qtbot, open_window):
    window = open_window()
    add_product(qtbot, window, "Type: lamp")
    generate(qtbot, window, n=3)
    card = window.writer.cards[2]
    qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == card.text
    dialog = window.writer.compare()
    qtbot.addWidget(dialog)
    assert len(dialog.columns) == 3
    assert card.text[:20] in dialog.columns[2].toPlainText()
    assert "Style compliance" in dialog.columns[0].toPlainText()
    table = dialog.score_table
    assert table.columnCount() == 3 and table.rowCount() == len(window.context.plugins.scorers())
    assert "Style compliance" in [table.verticalHeaderItem(row).text() for row in range(table.rowCount())]
    dialog.accept_requested.emit(window.writer.cards[0])
    assert window.writer.cards[0].decision == "accepted"


def test_keyboard_shortcuts_generate_accept_reject_and_next_product(qtbot, open_window):
    window = open_window()
    first = add_product(qtbot, window, "Type: chair")
    second = add_product(qtbot, window, "Type: table")
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    window.writer.panel.count_spin.setValue(2)
    window.writer.editor.paste_edit.setFocus()  # shortcuts work from inside text fields too
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    job = window.writer.generation_job
    assert job is not None
    wait_for_job(qtbot, job)
    cards = window.writer.cards
    assert window.writer.current_card is cards[0]
    qtbot.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert cards[0].decision == "accepted" and window.writer.current_card is cards[1]
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert cards[1].decision == "rejected"
    current = window.writer.catalog.current_id()
    qtbot.keyClick(window, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert window.writer.catalog.current_id() != current
    assert {current, window.writer.catalog.current_id()} == {first, second}


def test_window_layout_and_choices_persist(qtbot, open_window):
    window = open_window()
    panel = window.writer.panel
    panel.kind_box.setCurrentIndex(panel.kind_box.findData(CopyKind.SLOGAN))
    panel.count_spin.setValue(5)
    panel.tone_edit.setText("playful")
    window.tabs.setCurrentIndex(1)
    window.resize(701, 555)  # the offscreen screen is 800x600
    window.writer.splitter.setSizes([300, 800])
    sizes = window.writer.splitter.sizes()
    close_window(window)
    again = open_window()
    panel = again.writer.panel
    assert panel.kind_box.currentData() == CopyKind.SLOGAN
    assert panel.count_spin.value() == 5 and panel.tone_edit.text() == "playful"
    assert again.tabs.currentIndex() == 1
    assert again.size().width() == 701 and again.writer.splitter.sizes() == sizes


def test_library_is_written_as_the_user_works(qtbot, open_window):
    """Nothing waits for a clean exit: another connection sees every step as soon as it is made."""
    window = open_window()
    other = Library(window.context.library.path)
    try:
        product_id = add_product(qtbot, window, "Type: kettle")
        assert [p.id for p in other.list_products()] == [product_id]
        generate(qtbot, window, n=2)
        assert len(other.candidates(product_id=product_id)) == 2
        window.writer.decide(window.writer.cards[0], "accepted")
        assert [c.id for c in other.accepted_copy()] == [window.writer.cards[0].candidate_id]
    finally:
        other.close()


def test_closing_the_window_during_a_generation_stops_it_cleanly(qtbot, open_window):
    window = open_window()
    add_product(qtbot, window, "Type: denim jacket\nColor: white")
    panel = window.writer.panel
    panel.kind_box.setCurrentIndex(panel.kind_box.findData(CopyKind.DESCRIPTION))
    panel.length_box.setCurrentIndex(panel.length_box.findData("long"))
    job = window.generate()
    qtbot.waitUntil(lambda: window.writer.stream.tokens > 0, timeout=60_000)
    started = time.perf_counter()
    window.close()  # cancels the work and waits for the worker before the library closes
    assert time.perf_counter() - started < 10
    assert job.wait(0) and job.outcome in ("succeeded", "cancelled")
    assert not window.context.jobs.running("generation") or not job.running


def test_the_library_view_tooltip_tells_settings_and_edits(qtbot, open_window):
    window = open_window()
    add_product(qtbot, window, "Type: cap")
    generate(qtbot, window, n=1)
    card = window.writer.cards[0]
    original = card.text
    card.text_edit.setPlainText("A cap for sunny days.")
    card.commit_edit()
    view = window.library_view
    window.tabs.setCurrentWidget(view)
    tip = view.table.item(0, 6).toolTip()
    assert "Model: tiny-llama" in tip and f"seed {card.candidate.settings.seed}" in tip
    assert f"the model wrote: {original}" in tip
    assert view.table.item(0, 6).text() == "A cap for sunny days.  ✎"


def test_the_gui_uses_plugins_only_through_the_plugin_manager():
    from pathlib import Path

    import adcopy_desktop.gui

    sources = Path(adcopy_desktop.gui.__file__).parent.glob("*.py")
    offenders = [path.name for path in sources if "adcopy_desktop.builtin" in path.read_text(encoding="utf-8")]
    assert offenders == []


def test_cards_show_their_rank_among_the_candidates(qtbot, open_window):
    from .conftest import add_product, generate

    window = open_window()
    add_product(qtbot, window, "Type: mug\nColor: blue")
    generate(qtbot, window, n=3)
    ranks = [card.rank_label.text() for card in window.writer.cards]
    assert all(text for text in ranks), ranks
    assert any(text.startswith("Rank 1 of 3") or text.startswith("Sunk") for text in ranks), ranks
