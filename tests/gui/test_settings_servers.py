"""Settings lists the inference servers, adds, edits and removes them (keys in the keyring) and
tests the selected one against a real adcopy serve on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from adcopy_desktop.core.endpoints import Endpoint, configure_endpoint, save_endpoint
from adcopy_desktop.core.serve.tokens import TokenStore
from adcopy_desktop.core.settings import load_settings
from adcopy_desktop.gui.settings_dialog import SettingsDialog
from adcopy_desktop.paths import user_folders
from tests.openai_servers import MODEL, ScriptedServer
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


# -- adding, editing and removing servers --------------------------------------------------------

KEY_NAME = "openai-compatible|box|api_key"


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory, tiny_models_root):
    """An adcopy serve that wants a bearer token (and the token)."""
    home = server_home(tmp_path_factory.mktemp("gui-locked"), tiny_models_root)
    _record, token = TokenStore(home / "data" / "serve" / "tokens.json").create("settings-dialog")
    server = start_server(home)
    yield server, token
    server.stop()


def _fill(server_dialog, *, name=None, address=None, model=None, at_once=None, key=None):
    for edit, value in ((server_dialog.name_edit, name), (server_dialog.address_edit, address),
                        (server_dialog.model_edit, model), (server_dialog.key_edit, key)):
        if value is not None:
            edit.setText(value)
    if at_once is not None:
        server_dialog.concurrent_spin.setValue(at_once)


def _saved(name="box"):
    return next((e for e in load_settings().backends if e["name"] == name), None)


def _wait_for_test(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.test_job is not None and dialog.test_job.delivered, timeout=60_000)
    return dialog.test_result.text()


def test_a_server_is_added_edited_and_removed_with_its_key_in_the_keyring(qtbot, locked_server, memory_keyring):
    server, token = locked_server
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    changes = []
    dialog.servers_changed.connect(lambda: changes.append(1))
    assert not dialog.edit_server_button.isEnabled() and not dialog.remove_server_button.isEnabled()

    adding = dialog.add_server()
    assert not adding.name_edit.isReadOnly() and not adding.forget_key_box.isVisibleTo(adding)
    _fill(adding, name="box", address=server.url, at_once=3, key=token)
    assert adding.warning_label.text() == ""  # loopback: the key does not cross a network
    adding.accept()
    assert adding.result() == QDialog.DialogCode.Accepted and adding.key_edit.text() == ""
    assert memory_keyring.get_password("adcopy", KEY_NAME) == token
    assert token not in user_folders().settings_file.read_text(encoding="utf-8")
    assert _saved()["has_api_key"] and _saved()["max_concurrent"] == 3 and _saved()["base_url"] == server.url
    table = dialog.servers_table
    assert [table.item(0, c).text() for c in range(5)] == ["box", server.url, "(first listed)", "3", "in the keyring"]
    assert "box: connected" in _wait_for_test(qtbot, dialog)  # checked at once, with the stored key
    assert changes == [1] and dialog.test_button.isEnabled()

    # The command line set a timeout the dialog does not show: editing keeps it, and the key.
    configure_endpoint("box", server.url, timeout_s=33.0)
    editing = dialog.edit_selected_server()
    assert editing.name_edit.isReadOnly() and editing.forget_key_box.isVisibleTo(editing)
    assert "keyring" in editing.key_edit.placeholderText() and editing.key_edit.text() == ""
    _fill(editing, model=server.model, at_once=1)
    editing.accept()
    assert (_saved()["model"], _saved()["max_concurrent"], _saved()["timeout_s"]) == (server.model, 1, 33.0)
    assert _saved()["has_api_key"] and memory_keyring.get_password("adcopy", KEY_NAME) == token
    assert table.item(0, 2).text() == server.model and "box: connected" in _wait_for_test(qtbot, dialog)

    # Deleting the key: the server refuses, and the dialog says how to store one.
    forgetting = dialog.edit_selected_server()
    forgetting.forget_key_box.setChecked(True)
    forgetting.accept()
    assert memory_keyring.get_password("adcopy", KEY_NAME) is None and not _saved()["has_api_key"]
    assert table.item(0, 4).text() == "none"
    assert "box:" in (text := _wait_for_test(qtbot, dialog)) and "HTTP 401" in text
    assert dialog.test_result.styleSheet()  # shown as a problem

    restoring = dialog.edit_selected_server()
    _fill(restoring, key=token)
    restoring.accept()
    assert "box: connected" in _wait_for_test(qtbot, dialog)
    assert dialog.result_settings().backends == load_settings().backends  # OK keeps what was saved

    assert not dialog.remove_selected_server(ask=lambda question: QMessageBox.StandardButton.No)
    assert _saved() is not None
    asked = []
    assert dialog.remove_selected_server(ask=lambda question: asked.append(question.text())
                                         or QMessageBox.StandardButton.Yes)
    assert "box" in asked[0] and "keyring" in asked[0]
    assert _saved() is None and memory_keyring.get_password("adcopy", KEY_NAME) is None
    assert table.rowCount() == 0 and not dialog.test_button.isEnabled() and len(changes) == 5
    assert "adcopy backends add" in dialog.test_result.text()


def test_invalid_servers_are_refused_in_the_dialog_and_nothing_is_saved(qtbot, memory_keyring):
    save_endpoint(Endpoint(name="box", base_url="http://127.0.0.1:9/v1"))
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    for fields, problem in ((dict(name="box", address="http://127.0.0.1:8/v1"), "already"),
                            (dict(name="Gpu Box", address="http://gpu:8000/v1"), "lower-case"),
                            (dict(name="pool", address="http://gpu:8000/v1"), "built-in"),
                            (dict(name="gpu", address="ftp://gpu:8000"), "not a web address"),
                            (dict(name="gpu", address="http://user:pw@gpu:8000/v1"), "keyring")):
        adding = dialog.add_server()
        _fill(adding, **fields)
        adding.accept()
        assert adding.result() != QDialog.DialogCode.Accepted and adding.saved is None
        assert problem in adding.error_label.text(), adding.error_label.text()
        adding.reject()
    assert [e["name"] for e in load_settings().backends] == ["box"]
    assert _saved()["base_url"] == "http://127.0.0.1:9/v1" and memory_keyring.values == {}

    warned = dialog.add_server()
    _fill(warned, name="gpu", address="http://10.1.2.3:8000/v1")
    assert warned.warning_label.text() == ""  # no key, nothing to leak
    warned.key_edit.setText("sk-123")
    assert "plain http" in warned.warning_label.text()
    warned.address_edit.setText("https://10.1.2.3:8000/v1")
    assert warned.warning_label.text() == ""
    warned.reject()


def test_without_a_keyring_a_key_is_refused_and_the_server_not_saved(qtbot):
    dialog = SettingsDialog(load_settings())  # the tests' keyring is the failing one
    qtbot.addWidget(dialog)
    adding = dialog.add_server()
    _fill(adding, name="gpu", address="https://gpu-box:8000/v1", key="sk-123")
    adding.accept()
    assert adding.result() != QDialog.DialogCode.Accepted and "keyring" in adding.error_label.text()
    assert adding.key_edit.text() == "sk-123"  # kept for a second try once a keyring is there
    assert load_settings().backends == [] and dialog.servers_table.rowCount() == 0


def test_the_window_follows_servers_saved_in_settings_even_after_cancel(qtbot, open_window):
    window = open_window()
    with ScriptedServer() as server:
        dialog = window.open_settings()
        adding = dialog.add_server()
        _fill(adding, name="box", address=server.url, model=MODEL)
        adding.accept()
        assert "box: connected" in _wait_for_test(qtbot, dialog)
        dialog.reject()
        assert [e["name"] for e in window.context.settings.backends] == ["box"]
        job = window.writer.panel.remote_job  # the model picker asked the new server
        qtbot.waitUntil(lambda: job is not None and job.delivered, timeout=60_000)
        picker = window.writer.panel.model_box
        assert any(MODEL in picker.itemText(i) for i in range(picker.count()))
