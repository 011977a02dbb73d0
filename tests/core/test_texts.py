"""core/texts.py: every template in every language, and the built-in scorers' verdicts in Chinese."""

from __future__ import annotations

import pytest

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.languages import SUPPORTED_LANGUAGES
from adcopy_desktop.core.plugins import Score, Scorer, get_plugin_manager
from adcopy_desktop.core.plugins.registry import RegistrationError, validate_registration
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest
from adcopy_desktop.core.scoring import ranking_of, score_candidate
from adcopy_desktop.core.texts import (
    TEMPLATES,
    Joined,
    Text,
    Translated,
    flag_message,
    localized_field,
    scorer_labels,
    template_fields,
)

HAN = range(0x4E00, 0xA000)


def has_han(text: str) -> bool:
    return any(ord(ch) in HAN for ch in text)


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_has_every_language_with_the_same_values(key):
    templates = TEMPLATES[key]
    assert set(templates) == set(SUPPORTED_LANGUAGES), key
    # a translation may leave a value out (Chinese needs no plural), never invent one
    assert template_fields(templates["zh"]) <= template_fields(templates["en"]) | {"error"}, key


def test_texts_render_in_each_language_and_nest():
    text = Text("faithfulness.reflects_missing",
                {"reflected": 1, "checked": 3, "missing": Joined(["牛仔布", "白色"])})
    assert text.render("en") == "Reflects 1 of 3 given values (missing: 牛仔布, 白色)."
    assert text.render("zh") == "体现了 3 个给定属性值中的 1 个（缺少：牛仔布、白色）。"
    sentences = Joined([Text("readability.clean"), Text("style.no_problems")], "sentences")
    assert sentences.render("en") == "Reads cleanly. No rule problems found."
    assert sentences.render("zh") == "通顺易读。未发现规则问题。"
    assert Translated({"en": "title"}).render("zh") == "title"  # English stands in for a missing language


def test_built_in_scorers_explain_a_chinese_product_in_chinese():
    product = parse_product("类型#上衣*材质#牛仔布*颜色#白色")
    candidate = Candidate("这款黑色纯棉上衣，国家级品质，最好的选择！", "title", "m", "zh")
    entries = score_candidate(candidate, request=CopyRequest(product, "title", "zh"),
                              plugins=get_plugin_manager())
    by_scorer = {entry["scorer"]: entry for entry in entries}
    faithful = by_scorer["faithfulness"]
    assert faithful["name"] == "Faithfulness" and "Not supported" in faithful["explanation"]  # JSON stays English
    zh = faithful["localized"]["zh"]
    assert zh["name"] == "忠实度" and zh["label"] == "无依据的说法"
    assert "“黑色”（颜色）" in zh["explanation"]  # the contradicted colour, in Chinese words
    for entry in entries:  # every built-in verdict has a Chinese name, label and explanation
        texts = entry["localized"]["zh"]
        assert has_han(texts["name"]) and has_han(texts["label"]), entry["scorer"]
        assert texts["explanation"], entry["scorer"]
    candidate.scores = entries
    ranking = ranking_of(candidate, {})
    assert ranking["sunk"] and ranking["reasons"][0].startswith("Advertising compliance: violation")
    assert ranking["localized_reasons"]["zh"][0].startswith("广告合规：违规")


def test_localized_field_falls_back_to_the_scorers_own_words():
    entry = {"label": "great", "explanation": "Plugin words.", "localized": {"zh": {"label": "很好"}}}
    assert localized_field(entry, "label", "zh") == "很好"
    assert localized_field(entry, "explanation", "zh") == "Plugin words."
    assert localized_field(entry, "label", "en") == "great"
    assert localized_field({"label": "x", "localized": "junk"}, "label", "zh") == "x"


def test_style_flags_of_known_rules_are_translated_and_others_keep_their_message():
    forbidden = {"rule": "forbidden_word", "word": "便宜", "style": "青山", "message": "'便宜' is forbidden"}
    assert flag_message(forbidden, "zh") == "品牌风格“青山”禁止使用“便宜”"
    assert flag_message(forbidden, "en") == "'便宜' is forbidden"
    custom = {"rule": "brand_voice", "message": "Too casual for the brand."}
    assert flag_message(custom, "zh") == "Too casual for the brand."


def test_scorer_labels_are_checked_at_registration():
    assert scorer_labels("faithfulness") == {"zh": "忠实度"} and scorer_labels("a-plugin-scorer") == {}

    def score(candidate, context):
        return Score(1.0)

    validate_registration("scorer", Scorer("ok", score, labels={"zh": "好"}))
    with pytest.raises(RegistrationError, match="labels must map language codes to text"):
        validate_registration("scorer", Scorer("bad", score, labels={"zh": 3}))


def test_a_score_with_malformed_translations_keeps_its_verdict():
    from adcopy_desktop.core.plugins.manager import _to_score

    kept = _to_score(Score(0.5, "fine", "Plugin words.", localized={"zh": {"label": 5}}))
    assert kept.label == "fine" and kept.localized == {}
    good = _to_score(Score(0.5, "fine", localized={"zh": {"label": "好"}}))
    assert good.localized == {"zh": {"label": "好"}} and good.to_dict()["localized"] == {"zh": {"label": "好"}}
