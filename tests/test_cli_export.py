"""adcopy export / outbox / shops: files, shops through the outbox, credentials never on disk."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.settings import load_settings
from tests.core.shops.helpers import add_product_with_copy
from tests.shop_servers import Faults, FakeShopify, FakeWooCommerce

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NASTY = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "＝全角"]


def run(*args: str, input: str | None = None, env: dict | None = None, code: int = 0):
    result = CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def library():
    with Library() as opened:
        yield opened


@pytest.fixture
def shopify():
    server = FakeShopify(token="shpat_cli_token")
    yield server
    server.close()


def test_file_exports_neutralise_formulas_and_reparse_without_formula_cells(library, tmp_path):
    from openpyxl import load_workbook

    for index, text in enumerate(NASTY):
        add_product_with_copy(library, text, f"h{index}", {"slogan": text, "title": f"Title {index}"})
    run("export", "--to", "csv", "--out", str(tmp_path / "copy.csv"))
    run("export", "--to", "xlsx", "--out", str(tmp_path / "copy.xlsx"))
    with (tmp_path / "copy.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 2 * len(NASTY)
    cells = [value for row in rows for value in row.values()]
    assert [c for c in cells if c.startswith(FORMULA_STARTS) or c.startswith("＝")] == []
    assert {row["text"] for row in rows} >= {"'" + NASTY[0], "'@SUM(A1)", "'＝全角"}
    assert {row["product"] for row in rows} >= {"'+1+1", "'-2"}
    book = load_workbook(tmp_path / "copy.xlsx")
    sheet = book.active
    values = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in values if c.data_type == "f"] == []
    assert [c.value for c in values if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)] == []
    assert sheet.max_row == 1 + 2 * len(NASTY)
    assert "'=HYPERLINK(\"http://evil\")" in [c.value for c in values]


def test_json_export_and_filters(library, tmp_path):
    add_product_with_copy(library, "Kettle", "kettle", {"title": "Kettle", "description": "Hot & fast"}, language="en")
    add_product_with_copy(library, "茶", "tea", {"title": "绿茶"}, language="zh")
    result = run("export", "--to", "json", "--out", str(tmp_path / "copy.json"), "--language", "en", "--json")
    assert json.loads(result.stdout) == {"path": str(tmp_path / "copy.json"), "products": 1, "candidates": 2}
    data = json.loads((tmp_path / "copy.json").read_text(encoding="utf-8"))
    (product,) = data["products"]
    assert product["external_id"] == "kettle" and product["fields"]["description_html"] == "<p>Hot &amp; fast</p>"
    result = run("export", "--to", "json", "--out", str(tmp_path / "none.json"), "--kind", "slogan", code=1)
    assert "no accepted copy" in result.output
    assert "Unknown export target 'pdf'" in run("export", "--to", "pdf", "--out", "x.pdf", code=2).output
    assert "writes a file: give --out" in run("export", "--to", "csv", code=2).output


def test_shopify_csv_round_trip_changes_only_the_copy_columns(library, tmp_path):
    from adcopy_desktop.core.catalog import SHOPIFY, read_catalog
    from tests.core.shops.helpers import accept

    header = ["Handle", "Title", "Body (HTML)", "Vendor", "Tags", "Variant SKU", "Variant Price", "SEO Title",
              "SEO Description", "Status"]
    rows = [["steel-kettle", "Old kettle", "<p>old</p>", "Acme", "kitchen, tea", "K-1", "19.90", "", "", "active"],
            ["steel-kettle", "", "", "", "", "K-2", "24.90", "", "", ""],
            ["clay-pot", "Clay pot", "<p>pot</p>", "Acme", "tea", "P-1", "9.00", "Pot", "Old SEO", "draft"]]
    source = tmp_path / "products_export.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    imported = read_catalog(source)
    assert imported.format == SHOPIFY
    counts = library.import_products(imported.items, source_format=SHOPIFY)
    kettle = library.product_by_external_id(SHOPIFY, "steel-kettle")
    accept(library, kettle.id, {"title": "Steel kettle", "description": "Boils <fast> & \"clean\"\n\nSecond",
                                "promo": "=Tea, now."})
    accept(library, library.product_by_external_id(SHOPIFY, "clay-pot").id, {"title": "Clay teapot"})
    assert len(counts.ids) == 2
    run("export", "--to", "shopify-csv", "--out", str(tmp_path / "shopify.csv"))
    with (tmp_path / "shopify.csv").open(encoding="utf-8", newline="") as stream:
        written = list(csv.reader(stream))
    assert written[0] == header and len(written) == 4
    by_row = [dict(zip(header, row)) for row in written[1:]]
    first = next(r for r in by_row if r["Variant SKU"] == "K-1")
    assert first["Title"] == "Steel kettle" and first["SEO Title"] == "Steel kettle"
    assert first["Body (HTML)"] == "<p>Boils &lt;fast&gt; &amp; &quot;clean&quot;</p>\n<p>Second</p>"
    assert first["SEO Description"] == "'=Tea, now."  # neutralised like every cell a spreadsheet would run
    copy_columns = ("Title", "Body (HTML)", "SEO Title", "SEO Description")
    originals = {row[5]: dict(zip(header, row)) for row in rows}
    for row in by_row:
        original = originals[row["Variant SKU"]]
        assert {c: row[c] for c in header if c not in copy_columns} == {c: original[c] for c in header
                                                                        if c not in copy_columns}
    assert next(r for r in by_row if r["Variant SKU"] == "K-2") == originals["K-2"]  # variant rows untouched
    pot = next(r for r in by_row if r["Variant SKU"] == "P-1")
    assert (pot["Title"], pot["Body (HTML)"], pot["SEO Title"], pot["SEO Description"]) == (
        "Clay teapot", "<p>pot</p>", "Pot", "Old SEO")  # the merchant's SEO title and no accepted description: kept
    reread = read_catalog(tmp_path / "shopify.csv")
    assert reread.format == SHOPIFY and [i.external_id for i in reread.items] == ["steel-kettle", "clay-pot"]
    assert reread.items[0].product.values("SEO Description") == ["=Tea, now."]  # read back without the apostrophe


def test_shopify_csv_refuses_a_mix_that_would_blank_columns(library, tmp_path):
    from adcopy_desktop.core.catalog import SHOPIFY, read_catalog

    source = tmp_path / "products_export.csv"
    source.write_text("Handle,Title,Vendor\nkettle,Kettle,Acme\n", encoding="utf-8")
    library.import_products(read_catalog(source).items, source_format=SHOPIFY)
    from tests.core.shops.helpers import accept

    accept(library, library.product_by_external_id(SHOPIFY, "kettle").id, {"title": "New kettle"})
    add_product_with_copy(library, "Hand-made", "hand-made", {"title": "Typed in by hand"})
    result = run("export", "--to", "shopify-csv", "--out", str(tmp_path / "mixed.csv"), code=1)
    assert "were not imported from a Shopify CSV" in result.output and not (tmp_path / "mixed.csv").exists()
    run("export", "--to", "shopify-csv", "--out", str(tmp_path / "only.csv"), "--product", "2")
    assert (tmp_path / "only.csv").read_text(encoding="utf-8").splitlines() == [
        "Handle,Title", "hand-made,Typed in by hand"]  # no blank column (it would blank the shop's), no derived SEO


def test_shops_add_without_a_keyring_says_so_and_writes_nothing(isolated_home, shopify):
    result = run("shops", "add", "shopify", "--shop-url", shopify.url, input="shpat_never_stored_77\n", code=1)
    assert "No system keyring is available" in result.output
    assert load_settings().shops == []
    assert not any("shpat_never_stored_77" in p.read_text(errors="ignore")
                   for p in isolated_home.rglob("*") if p.is_file())


def test_a_planted_token_appears_nowhere_after_a_full_export(memory_keyring, library, shopify, isolated_home,
                                                             tmp_path, caplog):
    token = "shpat_PLANTED_c0ffee_9f2b61"
    shopify.token = token
    shopify.reset(["kettle", "teapot"], faults=Faults(http_5xx=0.3, drop_after_commit=0.3, throttle_burst=2))
    shopify.faults.rng.seed(5)
    for handle in ("kettle", "teapot"):
        add_product_with_copy(library, handle, handle, {"title": f"New {handle}", "description": f"{handle} text"})
    add_product_with_copy(library, "missing", "not-in-shop", {"title": "Nobody"})
    caplog.set_level(logging.DEBUG)
    settings = load_settings()
    settings.export_retry_base_s, settings.export_retry_max_s = 0.001, 0.01
    from adcopy_desktop.core.settings import save_settings

    save_settings(settings)
    run("shops", "add", "shopify", "--shop-url", shopify.url, "--api-version", "2025-07", input=f"{token}\n")
    assert load_settings().shops == [{"target": "shopify", "shop_url": shopify.url, "api_version": "2025-07"}]
    outputs = [run("-vv", "export", "--to", "shopify", code=1)]  # one product is not in the shop
    outputs.append(run("-vv", "export", "--to", "csv", "--out", str(tmp_path / "out" / "copy.csv")))
    outputs.append(run("-vv", "outbox", "list", "--all"))
    outputs.append(run("-vv", "outbox", "show", "1"))
    assert "2 done, 1 failed, 0 unfinished" in outputs[0].output
    assert "not-in-shop: the shop has no product with the handle" in outputs[0].output
    assert shopify.products["kettle"]["title"] == "New kettle"
    assert all(r["headers"]["X-Shopify-Access-Token"] == token for r in shopify.requests)  # it was used
    log_files = [Path(h.baseFilename) for h in logging.getLogger("adcopy").handlers
                 if isinstance(h, logging.FileHandler)]  # the CLI's log file (opened by the first CLI test)
    files = [p for p in list(isolated_home.rglob("*")) + list((tmp_path / "out").rglob("*")) + log_files
             if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in files) and log_files
    assert any(b"export job #1" in p.read_bytes() for p in log_files)  # the export did log, redacted
    leaks = [str(p) for p in files if token.encode() in p.read_bytes()]
    assert leaks == []
    assert token not in caplog.text and all(token not in o.output for o in outputs)
    for fragment in (token[6:], token[-12:]):  # no part of it either (e.g. in a base64 or cut message)
        assert not any(fragment.encode() in p.read_bytes() for p in files)


def test_woocommerce_export_and_resume(memory_keyring, library, isolated_home):
    server = FakeWooCommerce()
    try:
        server.reset({21: "TEA-1", 22: "TEA-2"}, faults=Faults(http_5xx=1.0))
        add_product_with_copy(library, "Tea 1", "TEA-1", {"title": "Tea one"})
        add_product_with_copy(library, "Tea 2", "22", {"title": "Tea two"})
        settings = load_settings()
        settings.export_retry_base_s, settings.export_retry_max_s, settings.export_max_attempts = 0.001, 0.01, 2
        from adcopy_desktop.core.settings import save_settings

        save_settings(settings)
        env = {"ADCOPY_WOO_KEY": "ck_test", "ADCOPY_WOO_SECRET": "cs_test"}
        run("shops", "add", "woocommerce", "--shop-url", server.url, env=env)
        result = run("export", "--to", "woocommerce", code=1)
        assert "2 item(s) are not confirmed by the shop yet" in result.output and "HTTP 503" in result.output
        assert "#1" in run("outbox", "list").output
        server.faults = Faults()
        result = run("export", "--resume", "--json")
        assert json.loads(result.stdout)["done"] == 2
        assert server.products[21]["name"] == "Tea one" and server.products[22]["name"] == "Tea two"
        assert "no unfinished export jobs" in run("outbox", "list").output
        assert "woocommerce" in run("shops", "list").output
        run("shops", "remove", "woocommerce", "--shop-url", server.url)
        assert memory_keyring.values == {} and load_settings().shops == []
    finally:
        server.close()
