"""The writer's model picker lists the configured servers' models (a real adcopy serve on 127.0.0.1)
in the background, and generating with one goes through that server."""

from __future__ import annotations

import socket

from adcopy_desktop.core.endpoints import Endpoint, remote_model_choice, save_endpoint
from tests.gui.conftest import add_product, generate, wait_for_job
from tests.serve_processes import server_home, start_server


def labels(box) -> list[str]:
    return [box.itemText(i) for i in range(box.count())]


def enabled(box, text: str) -> bool:
    return box.model().item(labels(box).index(text)).isEnabled()


def test_the_picker_lists_a_servers_models_and_generates_there(qtbot, open_window, tmp_path_factory,
                                                               tiny_models_root):
    server = start_server(server_home(tmp_path_factory.mktemp("picker-serve"), tiny_models_root))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    try:
        save_endpoint(Endpoint(name="box", base_url=server.url))
        save_endpoint(Endpoint(name="gone", base_url=f"http://127.0.0.1:{free_port}/v1", max_retries=0))
        window = open_window()
        panel = window.writer.panel
        box = panel.model_box
        # the window did not wait for the servers: they show as being asked, local models usable
        job = panel.remote_job
        assert job is not None
        if not job.delivered:
            assert "box: listing models…" in labels(box) and not enabled(box, "box: listing models…")
        assert box.findData("tiny-llama") > 0
        wait_for_job(qtbot, job, timeout=60_000)
        choice = remote_model_choice("box", server.model)
        assert f"box: {server.model}" in labels(box) and box.findData(choice) > 0
        assert "gone: not reachable" in labels(box) and not enabled(box, "gone: not reachable")
        assert "could not connect" in box.itemData(labels(box).index("gone: not reachable"), 3)  # its tooltip

        add_product(qtbot, window, "Type: scarf\nColor: navy\nMaterial: cotton")
        box.setCurrentIndex(box.findData(choice))
        assert panel.choices().model_id == choice
        generate(qtbot, window, n=2)
        candidates = [card.candidate for card in window.writer.cards if card.candidate is not None]
        assert len(candidates) == 2 and all(c.model == f"box/{server.model}" for c in candidates)

        # the choice is kept with the window's state and chosen again once the server answers
        from adcopy_desktop.gui.context import window_settings

        state = window_settings()
        panel.save_state(state)
        job = panel.refresh_remote_models()
        box.blockSignals(True)
        box.setCurrentIndex(0)
        box.blockSignals(False)
        panel.restore_state(state)
        wait_for_job(qtbot, job, timeout=60_000)
        assert box.currentData() == choice
    finally:
        server.stop()


def test_without_servers_the_picker_has_the_local_models_only(qtbot, open_window):
    window = open_window()
    panel = window.writer.panel
    assert panel.remote_job is None
    assert labels(panel.model_box)[0] == "Active model" and panel.model_box.findData("tiny-llama") == 1
    assert not any(":" in text for text in labels(panel.model_box))
