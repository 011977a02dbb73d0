"""The export dialog: files and shops as background jobs with per-item progress, credentials to
the keyring, refused items listed, and the outbox view that resumes unfinished jobs."""

import csv

import pytest

from adcopy_desktop.core.library import Library
from adcopy_desktop.core.outbox import Outbox
from adcopy_desktop.core.plugins import PluginManager
from adcopy_desktop.core.settings import load_settings, save_settings
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.export_dialog import ExportDialog
from tests.core.shops.helpers import add_product_with_copy
from tests.shop_servers import Faults, FakeShopify

from .conftest import wait_for_job


@pytest.fixture
def context(qtbot):
    settings = load_settings()
    settings.export_retry_base_s, settings.export_retry_max_s, settings.export_max_attempts = 0.001, 0.01, 3
    save_settings(settings)
    plugins = PluginManager().load()
    library = Library()
    app = AppContext(library=library, plugins=plugins, settings=load_settings())
    yield app
    app.close()
    library.close()
    plugins.close()


@pytest.fixture
def shopify():
    server = FakeShopify(token="shpat_gui_token_5150")
    server.reset(["kettle", "teapot"])
    yield server
    server.close()


def dialog_for(qtbot, context, **kwargs) -> ExportDialog:
    dialog = ExportDialog(context, **kwargs)
    qtbot.addWidget(dialog)
    return dialog


def choose(box, data) -> None:
    index = box.findData(data)
    assert index >= 0, data
    box.setCurrentIndex(index)


def test_a_file_export_runs_in_the_background_with_the_chosen_filters(qtbot, context, tmp_path):
    add_product_with_copy(context.library, "Kettle", "kettle", {"title": "=Kettle", "slogan": "Hot"})
    add_product_with_copy(context.library, "Teapot", "teapot", {"title": "Teapot"})
    dialog = dialog_for(qtbot, context)
    choose(dialog.target_box, "csv")
    choose(dialog.kind_box, "title")
    assert not dialog.shop_box.isVisibleTo(dialog) and dialog.file_row.isEnabled()
    dialog.path_edit.setText(str(tmp_path / "titles.csv"))
    job = dialog.start_export()
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded", dialog.status_label.text()
    with (tmp_path / "titles.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert sorted(row["text"] for row in rows) == ["'=Kettle", "Teapot"]
    assert "Exported 2 accepted candidates of 2 products" in dialog.status_label.text()


def test_a_shop_export_stores_the_key_in_the_keyring_and_lists_refused_items(qtbot, context, shopify,
                                                                             memory_keyring):
    add_product_with_copy(context.library, "Kettle", "kettle", {"title": "New kettle"})
    add_product_with_copy(context.library, "Gone", "gone", {"title": "Nobody"})
    dialog = dialog_for(qtbot, context)
    choose(dialog.target_box, "shopify")
    assert dialog.shop_box.isVisibleTo(dialog) and not dialog.file_row.isEnabled()
    assert list(dialog.credential_edits) == ["token"]
    assert dialog.credential_edits["token"].echoMode() == dialog.credential_edits["token"].EchoMode.Password
    dialog.shop_url_edit.setText(shopify.url)
    dialog.update_keyring_status()
    assert "No access key stored" in dialog.keyring_label.text()
    dialog.credential_edits["token"].setText(shopify.token)
    assert dialog.save_credentials()
    assert dialog.credential_edits["token"].text() == ""  # not kept in the widget
    assert "stored in the system keyring" in dialog.keyring_label.text()
    assert list(memory_keyring.values.values()) == [shopify.token]
    assert load_settings().shops == [{"target": "shopify", "shop_url": shopify.url, "api_version": "2025-07"}]
    progress = []
    job = dialog.start_export()
    job.signals.progress.connect(progress.append)
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded", dialog.status_label.text()
    assert shopify.products["kettle"]["title"] == "New kettle"
    assert "1 done, 1 refused by the shop, 0 not confirmed yet" in dialog.status_label.text()
    assert [dialog.failure_list.item(i).text() for i in range(dialog.failure_list.count())] == [
        "gone: the shop has no product with the handle 'gone'; re-import the catalog or fix the handle"]
    assert any(event.fraction is not None for event in progress)


def test_without_a_keyring_the_dialog_says_how_to_get_one(qtbot, context, shopify):
    dialog = dialog_for(qtbot, context)
    choose(dialog.target_box, "shopify")
    dialog.shop_url_edit.setText(shopify.url)
    dialog.update_keyring_status()
    assert "No system keyring is available" in dialog.keyring_label.text()
    assert not dialog.save_credentials_button.isEnabled()


def test_the_outbox_view_resumes_unfinished_jobs(qtbot, context, shopify, memory_keyring):
    from adcopy_desktop.core.secrets import store_credentials

    store_credentials("shopify", shopify.url, {"token": shopify.token})
    ids = [add_product_with_copy(context.library, h, h, {"title": f"T {h}"}) for h in ("kettle", "teapot")]
    shopify.faults = Faults(http_5xx=1.0)
    dialog = dialog_for(qtbot, context)
    choose(dialog.target_box, "shopify")
    dialog.shop_url_edit.setText(shopify.url)
    job = dialog.start_export()
    wait_for_job(qtbot, job)
    assert "2 not confirmed yet" in dialog.status_label.text() and "outbox" in dialog.status_label.text()
    dialog.tabs.setCurrentIndex(1)
    assert dialog.outbox_table.rowCount() == 1 and dialog.outbox_table.item(0, 3).text() == "2"
    assert "HTTP 503" in dialog.outbox_table.item(0, 6).text()
    assert dialog.resume_button.isEnabled()
    shopify.faults = Faults()
    job = dialog.resume_jobs()
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded", dialog.status_label.text()
    assert dialog.outbox_table.rowCount() == 0 and not dialog.resume_button.isEnabled()
    assert [shopify.products[h]["title"] for h in ("kettle", "teapot")] == ["T kettle", "T teapot"]
    assert Outbox(context.library).jobs()[0].counts["done"] == len(ids)


def test_the_library_page_opens_the_dialog_with_its_filters(qtbot, open_window):
    window = open_window()
    view = window.library_view
    view.kind_box.setCurrentIndex(view.kind_box.findData("slogan"))
    dialog = view.open_export_dialog()
    qtbot.addWidget(dialog)
    assert dialog.kind_box.currentData() == "slogan" and dialog.tabs.currentIndex() == 0
    outbox = view.open_export_dialog(outbox=True)
    qtbot.addWidget(outbox)
    assert outbox.tabs.currentIndex() == 1


def test_the_window_mentions_unfinished_shop_exports_at_start(qtbot, open_window):
    with Library() as library:
        Outbox(library).create_job("shopify", "https://shop.example", [(None, "kettle", {"title": "T"})])
    window = open_window()
    qtbot.waitUntil(lambda: any("1 shop exports are unfinished" in text for text in window.message_bar.texts()),
                    timeout=10_000)
