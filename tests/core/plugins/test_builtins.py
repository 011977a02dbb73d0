"""The built-in plugins: the default prompts as the "plain" style, word rules in the prompt, the
compliance scorer, the text importer, the CSV exporter and the ONNX backend."""

import csv

import pytest

from adcopy_desktop.builtin import BUILTIN_PLUGINS, csv_export
from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.errors import ProductParseError
from adcopy_desktop.core.plugins import BrandStyle, Score, hookimpl
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest, build_messages

STYLE = BrandStyle.from_dict({
    "name": "brand",
    "required_words": {"zh": ["青山"], "en": ["Qingshan"]},
    "forbidden_words": {"all": ["cheap"], "zh": ["最好"]},
    "preferred_phrases": {"zh": ["回甘"], "en": ["sweet finish"]},
    "length_rules": {"title": {"en": {"max": 5}}},
}).validate()
EN = CopyRequest(parse_product("Type: tea"), "title", language="en")
ZH = CopyRequest(parse_product("类型#绿茶"), "title", language="zh")


def test_every_builtin_is_a_plugin_of_the_public_hooks(make_manager):
    manager = make_manager()
    infos = {info.name: info for info in manager.plugins()}
    assert set(infos) == {name for name, _ in BUILTIN_PLUGINS}
    assert infos["adcopy.plain-style"].registered == {"style": ["plain"]}
    assert infos["adcopy.csv-export"].registered == {"exporter": ["csv"]}
    assert infos["adcopy.xlsx-export"].registered == {"exporter": ["xlsx"]}
    assert infos["adcopy.json-export"].registered == {"exporter": ["json"]}
    assert infos["adcopy.shopify-csv-export"].registered == {"exporter": ["shopify-csv"]}
    assert infos["adcopy.shop-targets"].registered == {"exporter": ["shopify", "woocommerce"]}
    assert infos["adcopy.text-import"].registered == {"importer": ["text"]}
    assert infos["adcopy.style-compliance"].registered == {"scorer": ["style-compliance"]}
    assert infos["adcopy.onnx-backend"].registered == {"backend": ["onnx"]}
    assert infos["adcopy.style-rules"].hooks == ["adjust_prompt"]
    assert manager.backend("onnx").uses_model_store


def test_the_plain_style_is_the_default_prompts(make_manager):
    manager = make_manager()
    plain = manager.style("plain")
    styled = plain.apply(EN)
    assert build_messages(styled)[0]["content"] == build_messages(EN)[0]["content"]


@pytest.mark.parametrize(
    ("request_", "expected", "absent"),
    [
        (EN, ['Brand words: the copy must include "Qingshan".', '"sweet finish"'], "cheap"),
        (ZH, ["品牌用词：文案中必须出现“青山”。", "“回甘”"], "最好"),
    ],
)
def test_style_rules_put_required_words_and_preferred_phrases_in_the_prompt(make_manager, request_, expected, absent):
    manager = make_manager()
    messages = manager.adjust_prompt(build_messages(request_), request=request_, style=STYLE,
                                     language=request_.language)
    system = messages[0]["content"]
    for text in expected:
        assert text in system
    assert absent not in system  # forbidden words are enforced afterwards, never suggested
    unstyled = manager.adjust_prompt(build_messages(request_), request=request_, style=None, language="en")
    assert unstyled == build_messages(request_)


def test_compliance_scorer(make_manager):
    manager = make_manager()

    def scored(text, language="en"):
        candidate = Candidate(text=text, kind="title", model="m", language=language)
        return manager.score(candidate, style=STYLE, scorers=["style-compliance"])["style-compliance"]

    assert scored("Qingshan green tea") == Score(1.0, "compliant", "No rule problems found.")
    needs = scored("Green tea from the high mountain garden")
    assert needs.value == 0.5 and needs.label == "needs edits" and "Qingshan" in needs.explanation
    assert scored("Qingshan cheap tea").value == 0.0
    assert scored("青山绿茶，口感最好", "zh").label == "violates rules"


def test_text_importer_reads_blocks_attribute_lines_and_json_lines(make_manager, tmp_path):
    manager = make_manager()
    text = tmp_path / "products.txt"
    text.write_text(
        "\ufeff类型#上衣*颜色#白色\n类型#裤子*颜色#蓝色\n\nType: denim jacket\nColor: white\n", encoding="utf-8"
    )
    products = manager.import_products(text)
    assert [p.attributes[0] for p in products] == [("类型", "上衣"), ("类型", "裤子"), ("Type", "denim jacket")]
    assert products[2].attributes[1] == ("Color", "white")
    lines = tmp_path / "products.jsonl"
    lines.write_text('{"title": "Tea"}\n\n{"颜色": ["绿", "白"]}\n', encoding="utf-8")
    assert len(manager.import_products(lines)) == 2


def test_text_importer_errors_name_the_file_and_line(make_manager, tmp_path):
    manager = make_manager()
    bad = tmp_path / "bad.txt"
    bad.write_text("类型#上衣\n\n类型#上衣*材质牛仔布\n", encoding="utf-8")
    with pytest.raises(ProductParseError, match=r"bad.txt, product at line 3: .*材质牛仔布"):
        manager.import_products(bad)
    (tmp_path / "x.pdf").write_text("")
    with pytest.raises(Exception, match=r"No importer reads '.pdf' files. Importers: .*text \(.txt .jsonl\)"):
        manager.import_products(tmp_path / "x.pdf")


def test_csv_export_neutralises_formulas_and_opens_in_excel(make_manager, tmp_path):
    seen = []

    class Listener:
        @hookimpl
        def export_finished(self, exporter, path, count, candidates):
            seen.append((exporter, path, count, [c.text for c in candidates]))

    manager = make_manager()
    manager.add_plugin(Listener(), name="listener")
    candidates = [
        Candidate(text=text, kind="slogan", model="m", language="zh", index=index, style="brand",
                  flags=[{"rule": "forbidden_word", "message": "'=1' is forbidden"}] if index == 0 else [])
        for index, text in enumerate(["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab", "一山一茶，慢慢喝。"])
    ]
    path = manager.export(candidates, tmp_path / "out" / "copy.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == list(csv_export.COLUMNS)
    texts = [row[4] for row in rows[1:]]
    assert texts == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tTab", "一山一茶，慢慢喝。"]
    assert rows[1][5] == "'=1' is forbidden" and rows[1][3] == "brand"
    assert seen == [("csv", path, 6, [c.text for c in candidates])]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_csv_export_options_are_checked(make_manager, tmp_path):
    from adcopy_desktop.core.errors import PluginError

    manager = make_manager()
    candidate = Candidate(text="x", kind="title", model="m", language="en")
    path = manager.export([candidate], tmp_path / "plain.csv", options={"excel_bom": False})
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(PluginError, match="excel_bom' must be true or false"):
        manager.export([candidate], tmp_path / "plain.csv", options={"excel_bom": "yes"})
    with pytest.raises(PluginError, match=r"No exporter writes '.pdf' files. Exporters: csv \(.csv\), xlsx \(.xlsx\)"):
        manager.export([candidate], tmp_path / "copy.pdf")
    with pytest.raises(PluginError, match="use 'adcopy export --to shopify'"):
        manager.export([candidate], tmp_path / "copy.csv", exporter="shopify")


def test_neutralize():
    assert csv_export.neutralize("＝1+1") == "'＝1+1"
    assert csv_export.neutralize("a=b") == "a=b"
    assert csv_export.neutralize(None) == ""
