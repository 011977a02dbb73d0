"""The importer contract: old importers returning a list still work, new ones return an
ImportResult with skipped rows and get progress, cancel and the confirmed mapping."""

import pytest

from adcopy_desktop.core.catalog import ColumnMapping, ImportedProduct, ImportResult, RowProblem
from adcopy_desktop.core.errors import PluginError
from adcopy_desktop.core.plugins import Importer, hookimpl
from adcopy_desktop.core.product import Product
from tests.core.catalog.samples import SHOPIFY_HEADER, shopify_rows, write_csv

PRODUCT = Product.from_attributes([("name", "Mug")])


class OldStyle:
    @hookimpl
    def register_importers(self, register):
        register(Importer(name="old", extensions=(".old",), read=lambda path, options: [PRODUCT]))


class WithContext:
    def __init__(self):
        self.contexts = []

    def read(self, path, options, context):
        self.contexts.append(context)
        context.progress("halfway")
        return ImportResult(items=[ImportedProduct(PRODUCT, "m-1", {"rows": [["m-1"]]})], rows_read=2,
                            problems=[RowProblem(2, 1, "bad")])

    @hookimpl
    def register_importers(self, register):
        register(Importer(name="new", extensions=(".new",), read=self.read, takes_context=True))


def test_a_list_of_products_is_wrapped_in_an_import_result(make_manager, tmp_path):
    manager = make_manager()
    manager.add_plugin(OldStyle(), name="old-importer")
    result = manager.import_catalog(tmp_path / "x.old")
    assert result.products == [PRODUCT] and result.format == "old" and result.rows_read == 1
    assert result.items[0].external_id is None and manager.import_products(tmp_path / "x.old") == [PRODUCT]


def test_a_context_importer_gets_progress_cancel_and_mapping(make_manager, tmp_path):
    from adcopy_desktop.core.progress import CancelToken

    plugin = WithContext()
    manager = make_manager()
    manager.add_plugin(plugin, name="new-importer")
    seen, token, mapping = [], CancelToken(), ColumnMapping(name="n")
    result = manager.import_catalog(tmp_path / "x.new", progress=seen.append, cancel=token, mapping=mapping)
    assert seen == ["halfway"] and plugin.contexts[0].cancel is token and plugin.contexts[0].mapping is mapping
    assert result.format == "new" and result.skipped[0].describe() == "row 2, column 1: bad"
    assert result.items[0].external_id == "m-1"


def test_an_import_result_with_foreign_items_is_refused(make_manager, tmp_path):
    class Broken:
        @hookimpl
        def register_importers(self, register):
            register(Importer(name="broken", extensions=(".brk",),
                              read=lambda path, options: ImportResult(items=["not a product"])))

    manager = make_manager()
    manager.add_plugin(Broken(), name="broken-importer")
    with pytest.raises(PluginError, match="not a list of Product or an ImportResult"):
        manager.import_catalog(tmp_path / "x.brk")


def test_the_builtin_catalog_importers(make_manager, tmp_path):
    manager = make_manager()
    assert {"csv", "shopify", "woocommerce", "xlsx", "jsonl", "text"} <= set(manager.importers())
    assert manager.importer_for(tmp_path / "a.csv").name == "csv"
    assert manager.importer_for(tmp_path / "a.jsonl").name == "jsonl"
    path = write_csv(tmp_path / "export.csv", SHOPIFY_HEADER, shopify_rows(), encoding="utf-16")
    events = []
    result = manager.import_catalog(path, progress=events.append)
    assert result.format == "shopify" and result.encoding == "utf-16" and len(result.items) == 2
    assert events and events[-1].stage == "done"
    generic = manager.import_catalog(path, importer="csv", options={"layout": "generic"},
                                     mapping=ColumnMapping(name="Title", id="Variant SKU"))
    assert generic.format == "csv" and [i.external_id for i in generic.items] == ["LS-W-M", "WB-1"]
    assert [p.row for p in generic.skipped] == [3, 4]  # variant rows: no Title, nothing mapped to use
