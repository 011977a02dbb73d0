"""adcopy copy list/show/accept/reject/edit, batch --accept-top and batch exit codes, on a real
library file (ADCOPY_HOME is the test's own folder) and, where generation runs, tiny models."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.product import Product
from tests.core.catalog.samples import write_csv


def run(*args, input=None, code: int | None = 0):
    result = CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


@pytest.fixture
def library():
    with Library() as opened:
        yield opened


def add_copy(library: Library, name: str, texts: list[str], *, kind: str = "title", language: str = "en") -> list[int]:
    product_id = library.add_product(Product(attributes=[("name", name)], name=name), external_id=name.lower())
    candidates = [Candidate(text=text, kind=kind, model="test-model", language=language, index=i)
                  for i, text in enumerate(texts)]
    return library.record_generation(product_id, candidates)


def test_list_filters_and_formats(library):
    mug = add_copy(library, "Mug", ["Red mug", "Big red mug"])
    hat = add_copy(library, "Hat", ["Wool hat"], kind="description")
    library.decide(mug[0], "accepted")
    library.decide(hat[0], "rejected")
    everything = json.loads(run("copy", "list", "--format", "json").stdout)
    assert sorted(c["id"] for c in everything) == sorted(mug + hat)
    first = next(c for c in everything if c["id"] == mug[0])
    assert first["status"] == "accepted" and first["decided_by"] == "user" and first["product"] == "Mug"
    assert first["text"] == first["generated_text"] == "Red mug" and first["edited"] is False
    assert first["kind"] == "title" and first["language"] == "en" and first["model"] == "test-model"

    def ids(*args):
        return [c["id"] for c in json.loads(run("copy", "list", "--format", "json", *args).stdout)]

    assert ids("--status", "accepted") == [mug[0]]
    assert ids("--status", "rejected") == hat
    assert ids("--status", "pending") == [mug[1]]
    assert sorted(ids("--product", first["product_id"])) == sorted(mug)
    assert ids("--kind", "description") == hat
    assert ids("--style", "none-such") == []
    assert len(ids("--limit", "2")) == 2
    text = run("copy", "list")
    assert "accepted" in text.stdout and "Big red mug" in text.stdout and "3 candidates" in text.stderr
    assert "--status" in run("copy", "list", "--status", "maybe", code=2).output
    unknown_kind = run("copy", "list", "--kind", "poem", code=1)
    assert "poem" in unknown_kind.output and "Traceback" not in unknown_kind.output
    unknown_product = run("copy", "list", "--product", 999, code=1)
    assert "no product #999" in unknown_product.output and "adcopy products list" in unknown_product.output


def test_accept_reject_edit_and_show(library):
    ids = add_copy(library, "Kettle", ["Fast kettle", "Quiet kettle"])
    accepted = json.loads(run("copy", "accept", ids[0], "--format", "json").stdout)
    assert [c["status"] for c in accepted] == ["accepted"] and accepted[0]["decided_by"] == "user"
    assert "rejected #" in run("copy", "reject", ids[1], "--reason", "too plain").stdout
    assert library.candidate(ids[1]).decision == "rejected"
    assert library.candidate(ids[1]).decision_reason == "too plain"

    edited = json.loads(run("copy", "edit", ids[0], "--text", "Fast, quiet kettle", "--format", "json").stdout)
    assert edited["changed"] and edited["text"] == "Fast, quiet kettle" and edited["generated_text"] == "Fast kettle"
    assert edited["status"] == "accepted"  # an edit keeps the decision, as in the app
    assert library.accepted_copy()[0].text == "Fast, quiet kettle"
    assert "nothing changed" in run("copy", "edit", ids[0], "--text", "Fast, quiet kettle").stdout

    shown = json.loads(run("copy", "show", ids[0], "--format", "json").stdout)
    assert [entry["action"] for entry in shown["history"]] == ["accepted", "edited"]
    assert shown["history"][0]["source"] == "user" and shown["edited"] is True
    assert {"scores", "flags", "ranking"} <= set(shown)
    text = run("copy", "show", ids[0]).stdout
    assert "text (edited):" in text and "Fast, quiet kettle" in text and "generated:" in text
    assert "status:  accepted" in text
    rejected = run("copy", "show", ids[1]).stdout
    assert "status:  rejected: too plain" in rejected

    # decide again: the latest decision wins
    run("copy", "accept", ids[1])
    again = json.loads(run("copy", "show", ids[1], "--format", "json").stdout)
    assert again["status"] == "accepted" and again["reason"] is None


def test_edit_from_a_file_or_standard_input(library, tmp_path):
    (candidate_id,) = add_copy(library, "Tea", ["绿茶"], language="zh")
    source = tmp_path / "copy.txt"
    source.write_text("\ufeff明前绿茶，清香回甘\n", encoding="utf-8")
    run("copy", "edit", candidate_id, "--file", source)
    assert library.candidate(candidate_id).text == "明前绿茶，清香回甘"
    run("copy", "edit", candidate_id, "--file", "-", input="新茶上市\n")
    assert library.candidate(candidate_id).text == "新茶上市"
    both = run("copy", "edit", candidate_id, "--text", "x", "--file", source, code=1)
    assert "exactly one of --text or --file" in both.output
    assert "empty" in run("copy", "edit", candidate_id, "--text", "  ", code=1).output
    (tmp_path / "gbk.txt").write_bytes("绿茶".encode("gbk"))
    assert "not UTF-8" in run("copy", "edit", candidate_id, "--file", tmp_path / "gbk.txt", code=1).output


def test_unknown_ids_are_clear_errors_and_change_nothing(library):
    (candidate_id,) = add_copy(library, "Lamp", ["Warm lamp"])
    for args in (("show", 404), ("accept", candidate_id, 404), ("reject", 404), ("edit", 404, "--text", "x")):
        result = run("copy", *args, code=1)
        assert "There is no candidate #404 in the library" in result.output, args
        assert "adcopy copy list" in result.output and "Traceback" not in result.output
    assert library.candidate(candidate_id).decision is None  # accept 7 404: nothing accepted
    assert "ID" in run("copy", "accept", code=2).output


def test_plugins_hear_cli_decisions_like_the_apps(library, monkeypatch):
    from adcopy_desktop.core.plugins import PluginManager

    heard = []
    monkeypatch.setattr(PluginManager, "candidate_accepted", lambda self, c: heard.append(("accepted", c.text)))
    monkeypatch.setattr(PluginManager, "candidate_rejected",
                        lambda self, c, reason=None: heard.append(("rejected", c.text, reason)))
    monkeypatch.setattr(PluginManager, "candidate_edited",
                        lambda self, c, previous: heard.append(("edited", c.text, previous)))
    ids = add_copy(library, "Pen", ["Blue pen", "Pen"])
    run("copy", "accept", ids[0])
    run("copy", "reject", ids[1], "--reason", "short")
    run("copy", "edit", ids[0], "--text", "Smooth blue pen")
    assert heard == [("accepted", "Blue pen"), ("rejected", "Pen", "short"), ("edited", "Smooth blue pen", "Blue pen")]


# -- bulk generation -------------------------------------------------------------------------------


def test_batch_accept_top_records_automatic_decisions(tiny_store, library):
    ids = [library.add_product(Product(attributes=[("Type", kind), ("Color", "red")])) for kind in ("mug", "lamp")]
    result = run("batch", "--kind", "title", "-n", "3", "--lang", "en", "--seed", "3", "--accept-top")
    assert "Accepted the top-ranked candidate of 2 items automatically" in result.stdout, result.output
    accepted = json.loads(run("copy", "list", "--status", "accepted", "--format", "json").stdout)
    assert sorted(c["product_id"] for c in accepted) == sorted(ids)
    assert {c["decided_by"] for c in accepted} == {"auto"}
    assert all(c["reason"].startswith("top-ranked of 3") for c in accepted)
    shown = run("copy", "show", accepted[0]["id"]).stdout
    assert "status:  accepted (auto): top-ranked of 3" in shown and "accepted (auto)" in shown
    history = json.loads(run("copy", "show", accepted[0]["id"], "--format", "json").stdout)["history"]
    assert [(h["action"], h["source"]) for h in history] == [("accepted", "auto")]
    # the top-ranked one: no other candidate of the item ranks above it
    pending = json.loads(run("copy", "list", "--status", "pending", "--format", "json").stdout)
    assert len(pending) == 4

    # a person's decision is never overridden; a finished job can still be asked to accept its top
    run("copy", "reject", accepted[0]["id"])
    again = run("batch", "--kind", "title", "-n", "3", "--lang", "en", "--seed", "3", "--accept-top")
    assert "has done all 2 items already" in again.stdout
    assert "of 0 items automatically" in again.stdout
    assert "left alone: 1 items you decided on or edited already" in again.stdout
    assert "left alone: 1 items accepted automatically before" in again.stdout
    assert library.candidate(accepted[0]["id"]).decision == "rejected"


def test_batch_without_accept_top_decides_nothing(tiny_store, library):
    library.add_product(Product(attributes=[("Type", "mug")]))
    run("batch", "--kind", "title", "-n", "2", "--lang", "en", "--seed", "1")
    assert [c.decision for c in library.candidates()] == [None, None]


def test_batch_exits_non_zero_with_a_summary_when_items_fail(tiny_store, library):
    from adcopy_desktop.core.batch import BatchOptions, plan_batch

    ids = [library.add_product(Product(attributes=[("Type", kind)])) for kind in ("mug", "cup", "jar")]
    job_id, _ = plan_batch(library, ids, BatchOptions(kinds=("title",), n=1, language="en"))
    library.delete_product(ids[1])  # its item fails: there is no product to write for
    result = run("batch", "--resume", job_id, code=1)
    assert f"Job {job_id}: 2/3 items done, 1 failed" in result.stdout
    assert "Error: 1 of 3 items failed, 2 done" in result.stderr
    assert f"product #{ids[1]} title" in result.stderr and f"adcopy batch --resume {job_id}" in result.stderr

    for product_id in (ids[0], ids[2]):
        library.delete_product(product_id)
    everything, _ = plan_batch(library, ids, BatchOptions(kinds=("slogan",), n=1, language="en"))
    failed = run("batch", "--resume", everything, code=1)
    assert "Error: 3 of 3 items failed, 0 done" in failed.stderr


# -- import without a terminal -----------------------------------------------------------------------


def test_import_without_a_terminal_explains_instead_of_aborting(tmp_path, library):
    import os
    import subprocess
    import sys

    path = write_csv(tmp_path / "items.csv", ["货号", "商品名称", "颜色"], [["A1", "纯棉T恤", "白色"]])
    result = run("import", path, code=1)  # CliRunner: no terminal, nothing on stdin
    assert "Aborted!" not in result.output
    assert "name:        商品名称" in result.stderr  # the proposed mapping
    assert "--yes" in result.stderr and "--map" in result.stderr
    assert library.list_products() == []
    remapped = run("import", path, "--map", "name=货号", code=1)
    assert "your --map" in remapped.stderr and "--yes" in remapped.stderr

    child = subprocess.run([sys.executable, "-m", "adcopy_desktop", "import", str(path)], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, env={**os.environ}, timeout=120)
    assert child.returncode == 1 and "Aborted!" not in child.stderr, child.stderr
    assert "Column mapping (proposed)" in child.stderr and "--yes" in child.stderr
    assert run("import", path, "--yes").exit_code == 0
    assert [p.product.name for p in library.list_products()] == ["纯棉T恤"]


# -- the headless workflow end to end ----------------------------------------------------------------


def test_headless_round_trip_import_batch_review_export(tiny_store, tmp_path):
    catalog = write_csv(tmp_path / "catalog.csv", ["sku", "name", "color"],
                        [["K1", "Kettle", "white"], ["L2", "Lamp", "brass"]])
    assert "Imported 2 products" in run("import", catalog, "--yes").stdout
    batch = run("batch", "--catalog", catalog, "--kind", "title", "-n", "2", "--lang", "en", "--seed", "5",
                "--accept-top")
    assert "Job 1: 2/2 items done, 0 failed" in batch.stdout
    assert "of 2 items automatically" in batch.stdout

    accepted = json.loads(run("copy", "list", "--status", "accepted", "--format", "json").stdout)
    assert len(accepted) == 2 and {c["decided_by"] for c in accepted} == {"auto"}
    kettle = next(c for c in accepted if c["product"] == "Kettle")
    lamp = next(c for c in accepted if c["product"] == "Lamp")
    other_lamp = next(c for c in json.loads(run("copy", "list", "--product", lamp["product_id"],
                                                "--format", "json").stdout) if c["id"] != lamp["id"])
    run("copy", "edit", kettle["id"], "--text", "White kettle, boils in a minute")
    run("copy", "reject", lamp["id"], "--reason", "gibberish")
    run("copy", "accept", other_lamp["id"])
    run("copy", "edit", other_lamp["id"], "--text", "Brass lamp, warm light")

    out = tmp_path / "export.csv"
    exported = run("export", "--to", "csv", "--out", out, "--json")
    assert json.loads(exported.stdout)["candidates"] == 2
    with out.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert sorted(row["text"] for row in rows) == ["Brass lamp, warm light", "White kettle, boils in a minute"]
