"""The status bar shows which ONNX Runtime provider the loaded model runs on (CPU, DirectML, CUDA):
the installers ship onnxruntime-directml on Windows and the CPU build on Linux (docs/packaging.md)."""

from __future__ import annotations


def test_the_status_bar_names_the_provider_once_the_model_is_loaded(qtbot, open_window):
    window = open_window()
    qtbot.waitUntil(lambda: bool(window.provider_label.text()), timeout=30_000)
    assert window.provider_label.text() == "Runs on: CPU"
    assert window.provider_label.toolTip() == "CPUExecutionProvider"
