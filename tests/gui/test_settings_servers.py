"""Settings lists the inference servers and tests the selected one against a real adcopy serve."""

from __future__ import annotations

import socket

from adcopy_desktop.core.endpoints import Endpoint, save_endpoint
from adcopy_desktop.core.settings import load_settings
from adcopy_desktop.gui.settings_dialog import SettingsDialog
from tests.serve_processes import server_home, start_server


def test_servers_are_listed_and_test_connection_reports_both_outcomes(qtbot, tmp_path_factory, tiny_models_root):
    server = start_server(server_home(tmp_path_factory.mktemp("gui-serve"), tiny_models_root))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    try:
        save_endpoint(Endpoint(name="box", base_url=server.url))
        save_endpoint(Endpoint(name="gone", base_url=f"http://127.0.0.1:{free_port}/v1", model="m", max_retries=0))
        dialog = SettingsDialog(load_settings())
        qtbot.addWidget(dialog)
        table = dialog.servers_table
        assert table.rowCount() == 2
        assert [table.item(0, c).text() for c in (0, 1, 4)] == ["box", server.url, "none"]
        job = dialog.test_selected_server()
        qtbot.waitUntil(lambda: job.delivered, timeout=60_000)
        assert "box: connected" in dialog.test_result.text() and server.model in dialog.test_result.text()
        assert dialog.test_button.isEnabled()
        table.selectRow(1)
        job = dialog.test_selected_server()
        qtbot.waitUntil(lambda: job.delivered, timeout=60_000)
        assert dialog.test_result.text().startswith("gone:") and "could not connect" in dialog.test_result.text()
    finally:
        server.stop()


def test_without_servers_the_dialog_says_how_to_add_one(qtbot):
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    assert dialog.servers_table.rowCount() == 0 and not dialog.test_button.isEnabled()
    assert "adcopy backends add" in dialog.test_result.text()
