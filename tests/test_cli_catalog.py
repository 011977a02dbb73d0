"""adcopy import / products list / batch, through click, on real files, a real library and tiny models."""

import json

from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.core.library import Library
from tests.core.catalog.samples import SHOPIFY_HEADER, shopify_row, shopify_rows, write_csv


def run(*args, input=None):
    return CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)


def test_import_prints_a_summary_and_products_list_shows_the_library(tmp_path):
    rows = shopify_rows() + [shopify_row(title="orphan", sku="O")]
    path = write_csv(tmp_path / "products_export_1.csv", SHOPIFY_HEADER, rows, encoding="gbk")
    result = run("import", path)
    assert result.exit_code == 0, result.output
    assert "Imported 2 products (2 new, 0 updated, 0 unchanged) from 5 rows; 1 rows skipped." in result.stdout
    assert "skipped: row 6, column 1 (Handle): the Handle is empty" in result.stdout
    assert "format shopify, encoding GB18030 / GBK" in result.stderr
    again = run("import", path, "--format", "shopify", "--encoding", "gbk")
    assert "(0 new, 0 updated, 2 unchanged)" in again.stdout  # the same file again: nothing changed
    listed = json.loads(run("products", "list", "--format", "json").stdout)
    assert sorted((p["source_format"], p["external_id"], p["name"]) for p in listed) == [
        ("shopify", "linen-shirt", "亚麻衬衫"), ("shopify", "wool-hat", "Wool beanie")]
    assert all(p["shop_status"] is None for p in listed)
    text = run("products", "list").stdout
    assert "shopify:linen-shirt" in text and "[" not in text  # no shop status marker on active products
    assert "of them are drafts" not in result.stdout  # every product is active in the shop


def test_import_counts_shop_drafts_and_products_list_marks_them(tmp_path):
    rows = shopify_rows() + [shopify_row(handle="draft-one", title="Draft", sku="D1", status="draft"),
                             shopify_row(handle="old-one", title="Old", sku="O1", status="archived")]
    hidden = shopify_row(handle="hidden", title="Hidden", sku="H1", status="active")
    hidden[SHOPIFY_HEADER.index("Published")] = "FALSE"
    rows.append(hidden)
    path = write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, rows)
    result = run("import", path)
    assert result.exit_code == 0, result.output
    assert "(5 new, 0 updated, 0 unchanged)" in result.stdout
    assert ("3 of them are drafts, archived or unpublished in the shop (1 draft, 1 archived, 1 unpublished): "
            "adcopy batch leaves them out unless --include-drafts.") in result.stdout
    listed = json.loads(run("products", "list", "--format", "json").stdout)
    listed = {p["external_id"]: p["shop_status"] for p in listed}
    assert listed == {"linen-shirt": None, "wool-hat": None, "draft-one": "draft", "old-one": "archived",
                      "hidden": "unpublished"}
    lines = {line.split()[1]: line for line in run("products", "list").stdout.splitlines()}
    assert lines["shopify:draft-one"].endswith("Draft  [draft]")
    assert lines["shopify:old-one"].endswith("Old  [archived]")
    assert lines["shopify:hidden"].endswith("Hidden  [unpublished]")
    assert lines["shopify:wool-hat"].endswith("Wool beanie")


def test_import_with_a_wrong_encoding_is_refused_naming_the_likely_one(tmp_path):
    path = write_csv(tmp_path / "products_export_1.csv", SHOPIFY_HEADER, shopify_rows(), encoding="gbk")
    for wrong in ("latin-1", "big5"):
        result = run("import", path, "--encoding", wrong)
        assert result.exit_code == 1, result.output
        assert "This file looks like GB18030 / GBK" in result.stderr and "(--encoding gb18030)" in result.stderr
        assert "Nothing was imported." in result.stderr and "Traceback" not in result.output
        assert result.stderr.count("looks like GB18030") == 1  # said once, without the garbled preview rows
        assert "| linen-shirt |" not in result.stderr
    assert Library().list_products() == []
    assert run("import", path, "--encoding", "gbk").exit_code == 0


def test_generic_csv_asks_to_confirm_the_mapping_once(tmp_path):
    path = write_csv(tmp_path / "items.csv", ["货号", "商品名称", "颜色"], [["A1", "纯棉T恤", "白色"]])
    refused = run("import", path, input="n\n")
    assert refused.exit_code != 0 and "--map" in refused.output
    assert Library().list_products() == []
    confirmed = run("import", path, input="y\n")
    assert confirmed.exit_code == 0 and "Column mapping (proposed)" in confirmed.stderr
    assert "name:        商品名称" in confirmed.stderr and "Imported 1 products" in confirmed.stdout
    silent = run("import", path)  # saved for these columns: no question, no input needed
    assert silent.exit_code == 0 and "saved for these columns" in silent.stderr
    assert "(0 new, 0 updated, 1 unchanged)" in silent.stdout
    remapped = run("import", path, "--map", "attributes=颜色+货号", "--yes")
    assert remapped.exit_code == 0
    product = Library().product_by_external_id("csv", "A1")
    assert product.product.values("货号") == ["A1"]


def test_import_errors_are_one_clean_line(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf")
    result = run("import", empty)
    assert result.exit_code == 1 and "Error:" in result.output and "empty" in result.output
    assert "Traceback" not in result.output
    bad_map = run("import", write_csv(tmp_path / "x.csv", ["a", "b"], [["1", "2"]]), "--map", "colour=a")
    assert bad_map.exit_code != 0 and "FIELD one of name, id, description, attributes" in bad_map.output


def test_batch_generates_for_a_catalog_and_resumes_instead_of_repeating(tmp_path, tiny_store):
    rows = [shopify_row(handle="linen-shirt", title="Linen shirt", o1n="Color", o1v="White", sku="1"),
            shopify_row(handle="wool-hat", title="Wool hat", o1n="Color", o1v="Grey", sku="2")]
    path = write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, rows)
    result = run("batch", "--catalog", path, "--kind", "title,description", "-n", "2", "--lang", "en", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "Starting job 1: 4 items" in result.stderr
    assert "Job 1: 4/4 items done, 0 failed" in result.stdout
    library = Library()
    assert len(library.candidates()) == 8
    again = run("batch", "--catalog", path, "--kind", "title,description", "-n", "2", "--lang", "en", "--seed", "1")
    assert again.exit_code == 0 and "Job 1 has done all 4 items already" in again.stdout
    assert len(library.candidates()) == 8  # nothing generated twice
    rows.append(shopify_row(handle="mug", title="Mug", o1n="Color", o1v="Red", sku="3"))
    write_csv(path, SHOPIFY_HEADER, rows)
    grown = run("batch", "--catalog", path, "--kind", "title,description", "-n", "2", "--lang", "en", "--seed", "1")
    assert "Resuming job 1: 6 items (4 done)" in grown.stderr and len(library.candidates()) == 12
    fresh = run("batch", "--catalog", path, "--kind", "title", "-n", "1", "--lang", "en", "--new")
    assert "Starting job 2: 3 items" in fresh.stderr
    jobs = run("batch", "--jobs").stdout.splitlines()
    assert len(jobs) == 2 and "finished" in jobs[0] and "finished" in jobs[1]


def test_batch_resume_by_id_and_unknown_style(tmp_path, tiny_store):
    from adcopy_desktop.core.batch import BatchOptions, plan_batch
    from adcopy_desktop.core.product import parse_product

    library = Library()
    ids = [library.add_product(parse_product("Type: mug\nColor: red"))]
    job_id, _ = plan_batch(library, ids, BatchOptions(kinds=("slogan",), n=1, language="en"))
    result = run("batch", "--resume", job_id)
    assert result.exit_code == 0 and f"Resuming job {job_id}: 1 items" in result.stderr
    assert library.batch_job(job_id).status == "finished"
    unknown = run("batch", "--kind", "title", "--style", "no-such-style")
    assert unknown.exit_code != 0 and "no-such-style" in unknown.output


def test_batch_leaves_out_shop_drafts_unless_asked(tmp_path, tiny_store):
    rows = [shopify_row(handle="linen-shirt", title="Linen shirt", o1n="Color", o1v="White", sku="1", status="active"),
            shopify_row(handle="wool-hat", title="Wool hat", o1n="Color", o1v="Grey", sku="2", status="draft")]
    path = write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, rows)
    result = run("batch", "--catalog", path, "--kind", "title", "-n", "1", "--lang", "en", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "Leaving out 1 product(s)" in result.stderr and "--include-drafts" in result.stderr
    assert "Starting job 1: 1 items" in result.stderr
    library = Library()
    hat = library.product_by_external_id("shopify", "wool-hat")
    assert [c.product_id for c in library.candidates()] == [library.product_by_external_id("shopify", "linen-shirt").id]
    everything = run("batch", "--catalog", path, "--kind", "title", "-n", "1", "--lang", "en", "--seed", "1",
                     "--include-drafts")
    assert everything.exit_code == 0, everything.output
    assert "Leaving out" not in everything.stderr
    assert hat.id in {c.product_id for c in library.candidates()}
    only_drafts = write_csv(tmp_path / "drafts.csv", SHOPIFY_HEADER, rows[1:])
    refused = run("batch", "--catalog", only_drafts, "--kind", "title", "-n", "1", "--lang", "en")
    assert refused.exit_code != 0 and "--include-drafts" in refused.output
