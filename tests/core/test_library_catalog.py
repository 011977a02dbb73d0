"""The library's side of catalog imports: source records, upserts by shop id, batch jobs."""

import sqlite3

from adcopy_desktop.core.catalog import read_catalog
from adcopy_desktop.core.library import MIGRATIONS, Library
from tests.core.catalog.samples import SHOPIFY_HEADER, shopify_row, shopify_rows, write_csv


def test_imported_products_keep_their_source_and_reimport_updates_them(tmp_path):
    path = write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, shopify_rows())
    with Library(tmp_path / "lib.sqlite3") as library:
        first = library.import_products(read_catalog(path).items, source_format="shopify")
        assert (first.added, first.updated) == (2, 0)
        stored = library.product_by_external_id("shopify", "linen-shirt")
        assert stored.id == first.ids[0] and stored.source_format == "shopify"
        assert stored.source_record["header"] == SHOPIFY_HEADER and len(stored.source_record["rows"]) == 3
        rows = shopify_rows()
        rows[0][SHOPIFY_HEADER.index("Title")] = "亚麻衬衫 2026"
        rows.append(shopify_row(handle="new-one", title="New", sku="N1"))
        write_csv(path, SHOPIFY_HEADER, rows)
        second = library.import_products(read_catalog(path).items, source_format="shopify")
        assert (second.added, second.updated, second.unchanged) == (1, 1, 1) and second.ids[:2] == first.ids
        assert library.get_product(first.ids[0]).product.name == "亚麻衬衫 2026"
        assert len(library.list_products()) == 3
        assert library.product_by_external_id("woocommerce", "linen-shirt") is None
        library.add_product(read_catalog(path).items[0].product)  # hand-made: no source
        assert library.get_product(4).source_format is None and library.get_product(4).source_record is None


def test_the_same_id_from_another_format_is_another_product(tmp_path):
    path = write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, shopify_rows())
    items = read_catalog(path).items
    with Library(tmp_path / "lib.sqlite3") as library:
        a = library.import_products(items, source_format="shopify")
        b = library.import_products(items, source_format="csv")
        assert set(a.ids).isdisjoint(b.ids) and b.added == 2


def test_an_older_library_gains_the_new_columns_and_keeps_its_products(tmp_path):
    db_path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(db_path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO products (name, attributes, external_id, created_at, updated_at)"
               " VALUES ('old', '[[\"name\", \"old\"]]', NULL, 1, 1)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Library(db_path) as library:
        assert library.schema_version == len(MIGRATIONS)
        old = library.list_products()[0]
        assert old.product.name == "old" and old.source_format is None


def test_batch_jobs_record_items_with_their_generation(tmp_path):
    from adcopy_desktop.core.candidates import Candidate

    with Library(tmp_path / "lib.sqlite3") as library:
        product_id = library.import_products(
            read_catalog(write_csv(tmp_path / "s.csv", SHOPIFY_HEADER, shopify_rows())).items,
            source_format="shopify").ids[0]
        job = library.create_batch_job("key", "shop.csv", {"kinds": ["title"]}, [(product_id, "title"),
                                                                                 (product_id, "description")])
        assert library.unfinished_batch_job("key") == job
        candidate = Candidate(text="Linen shirt", kind="title", model="m", language="en")
        library.record_generation(product_id, [candidate], batch_item=(job, "title", 1.5))
        library.fail_batch_item(job, product_id, "description", "no model")
        done, failed = library.batch_items(job)
        assert (done.status, failed.status, failed.error) == ("done", "failed", "no model")
        assert done.generation_id is not None and done.seconds == 1.5
        assert library.batch_job(job).counts == {"pending": 0, "done": 1, "failed": 1}
        assert library.retry_failed_batch_items(job) == 1
        assert library.add_batch_items(job, [(product_id, "title"), (product_id, "slogan")]) == 1
        assert [i.kind for i in library.batch_items(job, status="pending")] == ["description", "slogan"]
        library.set_batch_status(job, "finished")
        assert library.unfinished_batch_job("key") is None


# -- re-imports update in place: ids, content keys, the user's edits, accepted copy --------------------

def _generic(path, rows, header=("name", "color", "size")):
    from adcopy_desktop.core.catalog import ColumnMapping

    write_csv(path, list(header), [list(r) for r in rows])
    mapping = ColumnMapping(name="name", attributes=[h for h in header if h not in ("name", "sku")],
                            id="sku" if "sku" in header else None)
    return read_catalog(path, mapping=mapping)


def test_a_table_without_an_id_column_is_not_imported_twice(tmp_path):
    rows = [("纯棉T恤", "白色", "M"), ("真丝裙", "黑色", "S"), ("纯棉T恤", "白色", "M")]  # two identical rows
    with Library(tmp_path / "lib.sqlite3") as library:
        first = library.import_products(_generic(tmp_path / "t.csv", rows).items, source_format="csv")
        assert (first.added, first.updated, first.unchanged) == (3, 0, 0) and len(set(first.ids)) == 3
        again = library.import_products(_generic(tmp_path / "t.csv", rows).items, source_format="csv")
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3) and again.ids == first.ids
        assert len(library.list_products()) == 3
        moved = library.import_products(_generic(tmp_path / "t.csv", [rows[1], rows[0], rows[2]]).items,
                                        source_format="csv")  # rows in another order: the same products
        assert (moved.added, moved.updated) == (0, 0) and sorted(moved.ids) == sorted(first.ids)
        edited = library.import_products(_generic(tmp_path / "t.csv", [("真丝裙", "红色", "S")]).items,
                                         source_format="csv")
        # no id column: an edited row has another content hash, so it is a new product (documented)
        assert (edited.added, edited.updated) == (1, 0) and len(library.list_products()) == 4


def test_with_an_id_column_an_edited_row_updates_its_product_and_keeps_the_accepted_copy(tmp_path):
    from tests.core.shops.helpers import accept

    header = ("sku", "name", "color")
    with Library(tmp_path / "lib.sqlite3") as library:
        first = library.import_products(_generic(tmp_path / "t.csv", [("A1", "T恤", "白色"), ("A2", "裙", "黑色")],
                                                 header).items, source_format="csv")
        (accepted,) = accept(library, first.ids[0], {"title": "纯白T恤"})
        library.edit(accepted, "纯白 T 恤")
        again = library.import_products(_generic(tmp_path / "t.csv", [("A1", "T恤", "蓝色"), ("A2", "裙", "黑色")],
                                                 header).items, source_format="csv")
        assert (again.added, again.updated, again.unchanged) == (0, 1, 1) and again.ids == first.ids
        assert library.get_product(first.ids[0]).product.values("color") == ["蓝色"]
        (copy,) = library.accepted_copy(product_id=first.ids[0])
        assert (copy.text, copy.decision) == ("纯白 T 恤", "accepted")


def test_a_reimport_keeps_the_users_edits_of_facts_the_file_did_not_change(tmp_path):
    from adcopy_desktop.core.product import Product

    header = ("sku", "name", "color", "size")
    path = tmp_path / "t.csv"
    with Library(tmp_path / "lib.sqlite3") as library:
        (product_id,) = library.import_products(_generic(path, [("A1", "T恤", "白色", "M")], header).items,
                                                source_format="csv").ids
        library.update_product(product_id, Product(
            attributes=[("name", "T恤"), ("color", "白色"), ("size", "M"), ("material", "纯棉")], name="T恤 (edited)"))
        same = library.import_products(_generic(path, [("A1", "T恤", "白色", "M")], header).items,
                                       source_format="csv")
        assert (same.updated, same.unchanged) == (0, 1)
        stored = library.get_product(product_id).product
        assert stored.name == "T恤 (edited)" and stored.values("material") == ["纯棉"]
        changed = library.import_products(_generic(path, [("A1", "T恤", "白色", "L")], header).items,
                                          source_format="csv")
        assert changed.updated == 1
        stored = library.get_product(product_id).product
        assert stored.values("size") == ["L"]  # the file changed it
        assert stored.name == "T恤 (edited)" and stored.values("material") == ["纯棉"]  # the user's, kept
        renamed = library.import_products(_generic(path, [("A1", "新T恤", "白色", "L")], header).items,
                                          source_format="csv")
        assert renamed.updated == 1 and library.get_product(product_id).product.name == "新T恤"


def test_products_imported_before_content_keys_are_found_again(tmp_path):
    rows = [("纯棉T恤", "白色", "M"), ("真丝裙", "黑色", "S")]
    with Library(tmp_path / "lib.sqlite3") as library:
        first = library.import_products(_generic(tmp_path / "t.csv", rows).items, source_format="csv")
        with library._transaction() as db:  # as an older AdCopy left them
            db.execute("UPDATE products SET import_key = NULL, imported = NULL")
        again = library.import_products(_generic(tmp_path / "t.csv", rows).items, source_format="csv")
        assert again.added == 0 and again.ids == first.ids and len(library.list_products()) == 2


def test_shopify_drafts_archived_and_unpublished_products_are_imported_marked_and_skipped_by_batch(tmp_path):
    from adcopy_desktop.core.batch import BatchError, BatchOptions, active_products, plan_batch

    rows = shopify_rows() + [
        shopify_row(handle="draft-one", title="Draft", sku="D1", status="draft"),
        shopify_row(handle="old-one", title="Old", sku="O1", status="archived"),
    ]
    hidden = shopify_row(handle="hidden", title="Hidden", sku="H1", status="active")
    hidden[SHOPIFY_HEADER.index("Published")] = "FALSE"
    rows.append(hidden)
    path = write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, rows)
    result = read_catalog(path)
    assert {i.external_id: i.status for i in result.items} == {
        "linen-shirt": None, "wool-hat": None, "draft-one": "draft", "old-one": "archived", "hidden": "unpublished"}
    assert result.summary()["inactive"] == {"draft": 1, "archived": 1, "unpublished": 1}
    with Library(tmp_path / "lib.sqlite3") as library:
        counts = library.import_products(result.items, source_format="shopify")
        assert counts.added == 5 and counts.inactive == 3
        assert [library.get_product(i).active for i in counts.ids] == [True, True, False, False, False]
        active, skipped = active_products(library, counts.ids)
        assert active == counts.ids[:2] and skipped == counts.ids[2:]
        job, _ = plan_batch(library, counts.ids, BatchOptions(kinds=("title",), n=1), include_drafts=False)
        assert {item.product_id for item in library.batch_items(job)} == set(counts.ids[:2])
        everything, _ = plan_batch(library, counts.ids, BatchOptions(kinds=("slogan",), n=1))
        assert len(library.batch_items(everything)) == 5  # asked (and a selection made in the app) includes them
        try:
            plan_batch(library, counts.ids[2:], BatchOptions(kinds=("title",), n=1), include_drafts=False)
        except BatchError as error:
            assert "--include-drafts" in str(error)
        else:
            raise AssertionError("a batch of drafts only should explain itself")
        rows[4][SHOPIFY_HEADER.index("Status")] = "active"  # published now
        write_csv(path, SHOPIFY_HEADER, rows)
        again = library.import_products(read_catalog(path).items, source_format="shopify")
        assert (again.updated, again.unchanged, again.inactive) == (1, 4, 2)
        assert library.get_product(counts.ids[2]).active
