"""The bulk-generation dialog on a tiny model: all or selected products, progress, stop, resume."""

from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.batch import BatchStatus
from tests.gui.conftest import wait_for_job

PRODUCTS = ["Type: linen shirt\nColor: white", "Type: wool hat\nColor: grey", "Type: mug\nColor: red"]


def _window_with_products(open_window):
    window = open_window()
    ids = [window.context.library.add_product(parse_product(text)) for text in PRODUCTS]
    window.context.products_changed.emit()
    return window, ids


def _choose(dialog, kinds=("title",), n=1):
    for kind, box in dialog.kind_boxes.items():
        box.setChecked(kind in kinds)
    dialog.count_spin.setValue(n)
    dialog.language_box.setCurrentIndex(dialog.language_box.findData("en"))


def test_generates_for_all_products_with_progress(qtbot, open_window):
    window, ids = _window_with_products(open_window)
    dialog = window.writer.catalog.open_batch_dialog()
    assert dialog.all_radio.isChecked() and "(3)" in dialog.all_radio.text()
    _choose(dialog, kinds=("title", "slogan"), n=2)
    statuses = []
    job = dialog.start()
    job.signals.progress.connect(lambda event: statuses.append(event) if isinstance(event, BatchStatus) else None)
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded" and dialog.status.done == 6 and dialog.status.failed == 0
    assert "6 of 6 done" in dialog.status_label.text() and "Finished" in dialog.status_label.text()
    assert dialog.progress.value() == 1000 and statuses and statuses[-1].done == 6
    library = window.context.library
    assert len(library.candidates()) == 12 and {c.product_id for c in library.candidates()} == set(ids)


def test_stop_then_resume_only_does_what_is_left(qtbot, open_window, monkeypatch):
    # one item at a time: the tiny model writes a batch of three items before a stop could land
    monkeypatch.setattr("adcopy_desktop.core.batch.LOCAL_ITEMS_AT_ONCE", 1)
    window, ids = _window_with_products(open_window)
    catalog = window.writer.catalog
    catalog.list.selectAll()
    dialog = catalog.open_batch_dialog()
    assert dialog.selected_radio.isChecked() and dialog.product_ids() == catalog.selected_ids()
    _choose(dialog)
    job = dialog.start()

    def stop_after_one(event):
        if isinstance(event, BatchStatus) and event.done >= 1:
            dialog.stop()

    job.signals.progress.connect(stop_after_one)
    wait_for_job(qtbot, job)
    assert dialog.status.stopped and dialog.start_button.text() == "Resume"
    done_before = dialog.status.done
    assert 1 <= done_before < 3
    resumed = dialog.start()
    wait_for_job(qtbot, resumed)
    assert dialog.status.done == 3 and dialog.status.done_this_run == 3 - done_before
    assert sorted(c.product_id for c in window.context.library.candidates()) == sorted(ids)


def test_no_kind_chosen_is_explained(qtbot, open_window):
    window, _ = _window_with_products(open_window)
    dialog = window.writer.catalog.open_batch_dialog()
    _choose(dialog, kinds=())
    assert dialog.start() is None and "at least one kind" in dialog.status_label.text()


def test_shop_drafts_are_left_out_unless_the_box_is_ticked(qtbot, open_window, tmp_path):
    from adcopy_desktop.core.catalog import read_catalog
    from tests.core.catalog.samples import SHOPIFY_HEADER, shopify_row, write_csv

    window = open_window()
    rows = [shopify_row(handle="linen-shirt", title="Linen shirt", o1n="Color", o1v="White", sku="1"),
            shopify_row(handle="wool-hat", title="Wool hat", o1n="Color", o1v="Grey", sku="2", status="draft")]
    result = read_catalog(write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, rows))
    library = window.context.library
    counts = library.import_products(result.items, source_format="shopify")
    window.context.products_changed.emit()
    dialog = window.writer.catalog.open_batch_dialog()
    assert not dialog.drafts_box.isHidden() and "(1)" in dialog.drafts_box.text()
    assert not dialog.drafts_box.isChecked()
    _choose(dialog)
    job = dialog.start()
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded" and dialog.status.done == 1
    assert {c.product_id for c in library.candidates()} == {counts.ids[0]}
    dialog.drafts_box.setChecked(True)
    job = dialog.start()
    wait_for_job(qtbot, job)
    assert {c.product_id for c in library.candidates()} == set(counts.ids)


def test_without_servers_it_runs_on_this_computer_only(qtbot, open_window):
    window, _ = _window_with_products(open_window)
    dialog = window.writer.catalog.open_batch_dialog()
    assert dialog.backend_box.count() == 1 and dialog.backend_choice() is None


def test_runs_on_a_server_or_the_pool_of_servers(qtbot, open_window, tmp_path_factory, tiny_models_root):
    """A real adcopy serve on 127.0.0.1 and a server that is not there: 'Server box' writes every item
    there; the pool sends every item to the live server, each written once."""
    import socket

    from adcopy_desktop.core.endpoints import Endpoint, save_endpoint
    from tests.serve_processes import server_home, start_server

    server = start_server(server_home(tmp_path_factory.mktemp("batch-serve"), tiny_models_root))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    try:
        save_endpoint(Endpoint(name="box", base_url=server.url))
        save_endpoint(Endpoint(name="gone", base_url=f"http://127.0.0.1:{free_port}/v1", max_retries=0))
        window, ids = _window_with_products(open_window)
        dialog = window.writer.catalog.open_batch_dialog()
        box = dialog.backend_box
        assert [box.itemData(i) for i in range(box.count())] == [None, "box", "gone", "pool"]
        assert [box.itemText(i) for i in range(box.count())] == [
            "This computer (the active model)", "Server box", "Server gone", "All servers, least busy first (2)"]

        _choose(dialog, kinds=("title",), n=2)
        box.setCurrentIndex(box.findData("box"))
        job = dialog.start()
        wait_for_job(qtbot, job)
        assert job.outcome == "succeeded" and dialog.status.done == 3 and dialog.status.failed == 0
        library = window.context.library
        candidates = library.candidates()
        assert len(candidates) == 6 and {c.model for c in candidates} == {f"box/{server.model}"}
        assert {c.product_id for c in candidates} == set(ids)

        _choose(dialog, kinds=("slogan",), n=1)  # another job
        box.setCurrentIndex(box.findData("pool"))
        job = dialog.start()
        wait_for_job(qtbot, job)
        assert job.outcome == "succeeded" and dialog.status.done == 3 and dialog.status.failed == 0
        slogans = [c for c in library.candidates() if c.kind == "slogan"]
        assert sorted(c.product_id for c in slogans) == sorted(ids)  # every item once
        assert {c.model for c in slogans} == {f"box/{server.model}"}
        assert "Finished" in dialog.status_label.text()
    finally:
        server.stop()
