"""The first window, driven for real under QT_QPA_PLATFORM=offscreen on a tiny model."""

from PySide6.QtCore import Qt

from adcopy_desktop.gui.main_window import MainWindow


def test_generate_streams_into_candidate_views(qtbot, tiny_store):
    window = MainWindow(tiny_store)
    qtbot.addWidget(window)
    assert "tiny-llama" in window.status.text()
    window.product_edit.setPlainText("类型#上衣*材质#牛仔布*颜色#白色")
    window.count_spin.setValue(2)
    streamed = []
    window.start_generation()
    window.job.signals.progress.connect(lambda payload: streamed.append(payload))
    with qtbot.waitSignal(window.job.signals.finished, timeout=60_000):
        pass
    assert len(window.candidate_views) == 2
    assert any(isinstance(p, tuple) for p in streamed)
    assert "2 candidates" in window.status.text()
    assert window.generate_button.isEnabled() and not window.stop_button.isEnabled()


def test_stop_cancels_a_running_generation(qtbot, tiny_store):
    window = MainWindow(tiny_store)
    qtbot.addWidget(window)
    window.product_edit.setPlainText("Type: jacket")
    window.start_generation()
    results = []
    window.job.signals.succeeded.connect(results.append)
    window.stop_generation()
    with qtbot.waitSignal(window.job.signals.finished, timeout=60_000):
        pass
    assert window.generate_button.isEnabled()
    [candidates] = results
    assert candidates and {c.finish_reason for c in candidates} == {"cancelled"}


def test_bad_product_is_reported_without_starting_work(qtbot, tiny_store, monkeypatch):
    shown = []
    monkeypatch.setattr("adcopy_desktop.gui.main_window.QMessageBox.warning", lambda *a: shown.append(a[2]))
    window = MainWindow(tiny_store)
    qtbot.addWidget(window)
    window.product_edit.setPlainText("类型#上衣*材质牛仔布")
    qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
    assert window.job is None
    assert shown and "材质牛仔布" in shown[0]
