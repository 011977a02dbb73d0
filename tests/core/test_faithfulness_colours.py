"""Faithfulness: a colour the product's attributes do not name is an unsupported claim; words that
only contain a colour character, and the colours of items suggested for pairing, are not."""

import pytest

from adcopy_desktop.builtin.copy_scorers import score_faithfulness
from adcopy_desktop.core.faithfulness import (
    CLAIM_NAMES, check_faithfulness, colour_mentions, describe, faithfulness_value, load_lexicon)

WHITE_TEE_ZH = [("类型", "T恤"), ("颜色", "白色"), ("材质", "纯棉")]
WHITE_TEE_EN = [("Type", "t-shirt"), ("Color", "white"), ("Material", "cotton")]


def unsupported(text, language, attributes):
    return [(c.kind, c.text) for c in check_faithfulness(text, language, attributes).unsupported]


def colours(text, language, attributes):
    return [c.text for c in check_faithfulness(text, language, attributes).unsupported if c.kind == "colour"]


def test_a_contradicted_colour_is_flagged_in_chinese_and_english():
    text = "黑色纯棉T恤，简单百搭。"
    assert unsupported(text, "zh", WHITE_TEE_ZH) == [("colour", "黑色")]
    claim = check_faithfulness(text, "zh", WHITE_TEE_ZH).unsupported[0]
    assert text[claim.start:claim.end] == "黑色"
    assert unsupported("A black cotton t-shirt.", "en", WHITE_TEE_EN) == [("colour", "black")]
    # the attribute in the other language: 颜色#白色 does not support "black" either
    assert unsupported("A black cotton t-shirt.", "en", WHITE_TEE_ZH) == [("colour", "black")]


def test_the_given_colour_is_supported_in_either_language():
    assert unsupported("白色纯棉T恤", "zh", WHITE_TEE_ZH) == []
    assert unsupported("白T恤配小白鞋", "zh", WHITE_TEE_ZH) == []
    assert unsupported("A white cotton tee.", "en", WHITE_TEE_ZH) == []
    assert unsupported("白色棉T恤", "zh", WHITE_TEE_EN) == []
    report = check_faithfulness("白色纯棉T恤", "zh", WHITE_TEE_ZH)
    assert [c.text for c in report.supported if c.kind == "colour"] == ["白色"]
    # any key may carry the colour: the type, the pattern
    assert unsupported("白衬衫", "zh", [("类型", "白衬衫")]) == []


def test_a_general_colour_covers_its_shades_but_not_the_other_way_round():
    assert colours("白色亚麻衬衫", "zh", [("颜色", "米白色")]) == []
    assert colours("A white linen shirt.", "en", [("颜色", "米白色")]) == []
    assert colours("An ivory linen shirt.", "en", [("颜色", "米白色")]) == []
    assert colours("蓝色阔腿裤", "zh", [("颜色", "藏青色")]) == []
    # a shade the product does not name narrows its colour: a buyer reading 米白 expects cream
    assert colours("米白衬衫", "zh", [("颜色", "白色")]) == ["米白"]
    assert colours("藏青色阔腿裤", "zh", [("颜色", "蓝色")]) == ["藏青色"]
    assert colours("A navy blue shirt.", "en", [("Color", "blue")]) == ["navy blue"]
    # and a sibling shade is another colour
    assert colours("墨绿色外套", "zh", [("颜色", "薄荷绿")]) == ["墨绿色"]


def test_the_longest_colour_wins():
    lexicon = load_lexicon()
    assert [(text, colour.name) for s, e, colour in colour_mentions("米白色和酒红色", lexicon)
            for text in ["米白色和酒红色"[s:e]]] == [("米白色", "off-white"), ("酒红色", "burgundy")]


@pytest.mark.parametrize("pattern", ["黑白条纹", "黑白", "黑白拼接"])
def test_a_two_colour_attribute_supports_both_colours(pattern):
    attrs = [("类型", "T恤"), ("图案", pattern)]
    assert colours("黑色条纹，白色底", "zh", attrs) == []
    assert colours("黑白条纹T恤", "zh", attrs) == []
    assert colours("红色条纹", "zh", attrs) == ["红色"]


def test_blue_and_white_supports_blue_and_white_in_both_languages():
    attrs = [("颜色", "蓝白拼色")]
    assert colours("蓝色与白色拼接", "zh", attrs) == []
    assert colours("Blue and white panels.", "en", attrs) == []
    assert colours("Blue and black panels.", "en", attrs) == ["black"]


@pytest.mark.parametrize("text", [
    "白领通勤必备", "黑科技面料", "网红同款", "红人都在穿", "蓝天白云下出游", "绿色环保材质", "绿色健康的生活",
    "上身显白", "衬得肌肤白皙", "今年的黑马单品", "晒单返红包", "粉丝福利", "金属扣设计", "支持银行卡支付",
    "黄金比例剪裁", "青春活力", "白天黑夜都能穿", "一看就明白", "领口留有空白", "不沾灰尘", "紫外线强也不怕", "红外感应",
    "连接蓝牙", "新手小白也能穿好", "穿久了不易发黄", "富含蛋白质",
])
def test_words_that_only_contain_a_colour_are_not_claims_zh(text):
    # a product with no colour at all, so any colour found would be flagged
    assert unsupported(text, "zh", [("类型", "T恤")]) == []


@pytest.mark.parametrize("text", [
    "A white-collar essential.", "Our Black Friday deal.", "Cut to the golden ratio.", "Shot at golden hour.",
    "Go green with reusable bags.", "Made for green living.", "Every cloud has a silver lining.",
    "A blue-light filter for late nights.", "Read our white paper.", "Keeps your budget in the black.",
    "A white label brand.", "Brew green tea in it.",
])
def test_words_that_only_contain_a_colour_are_not_claims_en(text):
    assert unsupported(text, "en", [("Type", "mug")]) == []


def test_colours_of_the_items_to_pair_with_are_not_claims():
    assert colours("白色T恤，搭配黑色裤子很好看。", "zh", WHITE_TEE_ZH) == []
    assert colours("白色T恤，配上一条蓝色牛仔裤。", "zh", WHITE_TEE_ZH) == []
    assert colours("白色T恤，与黑色半身裙搭配也很利落。", "zh", WHITE_TEE_ZH) == []
    assert colours("A white tee that pairs well with black jeans.", "en", WHITE_TEE_EN) == []
    assert colours("Wear it with navy chinos.", "en", WHITE_TEE_EN) == []
    # 百搭 ("goes with anything") and 配色 ("colour scheme") describe the product itself
    assert colours("百搭黑色T恤", "zh", WHITE_TEE_ZH) == ["黑色"]
    assert colours("经典配色：黑色", "zh", WHITE_TEE_ZH) == ["黑色"]
    # and a colour of the product next to a pairing is still checked
    assert colours("黑色T恤，搭配牛仔裤。", "zh", WHITE_TEE_ZH) == ["黑色"]


def test_a_colour_for_a_product_without_one_is_invented():
    assert unsupported("白色保温杯", "zh", [("类型", "保温杯"), ("容量", "500ml")]) == [("colour", "白色")]
    assert unsupported("A red mug.", "en", [("Type", "mug")]) == [("colour", "red")]


def test_a_colour_attribute_without_a_known_colour_cannot_be_checked():
    assert colours("黑色T恤", "zh", [("类型", "T恤"), ("颜色分类", "图片色")]) == []
    assert colours("A black tee.", "en", [("Type", "t-shirt"), ("Colour", "as shown")]) == []


def test_gold_and_silver_are_one_claim_whether_metal_or_colour():
    assert unsupported("A gold ring.", "en", [("Type", "ring"), ("Material", "gold")]) == []
    assert unsupported("金色戒指", "zh", [("类型", "戒指"), ("材质", "18K金")]) == []
    assert unsupported("A silver ring.", "en", [("Type", "ring"), ("Material", "sterling silver")]) == []
    assert unsupported("A gold ring.", "en", [("Type", "ring"), ("Material", "titanium")]) == [("material", "gold")]
    assert unsupported("黄金戒指", "zh", [("类型", "戒指"), ("材质", "钛合金")]) == [("material", "黄金")]
    assert unsupported("黄金戒指", "zh", [("类型", "戒指"), ("材质", "足金")]) == []


def test_an_invented_colour_lowers_the_value_and_is_explained():
    faithful = check_faithfulness("白色纯棉T恤", "zh", WHITE_TEE_ZH)
    invented = check_faithfulness("黑色纯棉T恤", "zh", WHITE_TEE_ZH)
    assert faithfulness_value(invented, "title") < faithfulness_value(faithful, "title")
    label, explanation = describe(invented, "title")
    assert label == "unsupported claims"
    assert "'黑色' (colour)" in explanation and "shade" in explanation
    assert CLAIM_NAMES["colour"] == "colour"
    assert "shade" not in describe(faithful, "title")[1]
    assert invented.to_dict()["unsupported"] == [{"kind": "colour", "text": "黑色", "start": 0, "end": 2}]


def test_the_scorer_marks_the_colour():
    from types import SimpleNamespace

    from adcopy_desktop.core.candidates import Candidate
    from adcopy_desktop.core.product import Product

    context = SimpleNamespace(request=SimpleNamespace(product=Product.from_attributes(WHITE_TEE_ZH)))
    score = score_faithfulness(Candidate("黑色纯棉T恤", "title", "m", "zh"), context)
    assert score.label == "unsupported claims"
    assert [(s.start, s.end, s.message) for s in score.spans if s.severity == "error"] == [
        (0, 2, "not in the product's facts (colour)")]
