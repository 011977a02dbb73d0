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
        assert (second.added, second.updated) == (1, 2) and second.ids[:2] == first.ids
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
