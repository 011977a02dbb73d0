"""Brand styles: reading, validation, word matching in both languages, length rules, applying a
style to a request."""

import json

import pytest

from adcopy_desktop.core.errors import StyleError
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest, build_messages
from adcopy_desktop.core.styles import (
    BrandStyle,
    LengthRule,
    StyleExample,
    find_word,
    load_style_file,
    text_length,
)

STYLE_TOML = """
name = "qingshan"
label = "Qingshan Tea 青山茶"
languages = ["zh", "en"]

[voice]
zh = "安静、克制。"
en = "Quiet and precise."

[[examples]]
language = "zh"
kind = "title"
text = "青山 高山绿茶"

[[examples]]
language = "zh"
text = "一山一茶。"

[[examples]]
language = "en"
kind = "slogan"
text = "One mountain, one tea."

[required_words]
zh = ["青山"]
en = ["Qingshan"]

[forbidden_words]
all = ["100%"]
zh = ["最好", "第一"]
en = ["best", "cure"]

[preferred_phrases]
en = ["sweet finish"]

[length_rules.title]
zh = { max = 20 }
en = { min = 4, max = 10 }
"""


@pytest.fixture
def style(tmp_path):
    path = tmp_path / "qingshan.toml"
    path.write_text(STYLE_TOML, encoding="utf-8")
    return load_style_file(path)


def test_a_style_file_reads_into_a_validated_style(style):
    assert style.name == "qingshan" and style.languages == ("zh", "en")
    assert style.voice_for("zh") == "安静、克制。"
    assert style.examples_for("zh", "title") == ["青山 高山绿茶", "一山一茶。"]
    assert style.examples_for("zh", "slogan") == ["一山一茶。"]
    assert style.forbidden_for("zh") == ("100%", "最好", "第一")
    assert style.length_rule("title", "en") == LengthRule(min=4, max=10)
    assert style.length_rule("slogan", "en") is None


def test_json_style_files_and_round_trips(tmp_path, style):
    path = tmp_path / "qingshan.json"
    path.write_text(json.dumps(style.to_dict(), ensure_ascii=False), encoding="utf-8")
    assert load_style_file(path) == style


def test_plain_lists_and_a_single_voice_apply_to_every_language():
    style = BrandStyle.from_dict({"name": "simple", "voice": "Warm.", "forbidden_words": ["cheap"]}).validate()
    assert style.voice_for("zh") == style.voice_for("en") == "Warm."
    assert style.forbidden_for("zh") == ("cheap",)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"name": "UPPER"}, "name 'UPPER' must be"),
        ({"name": "x", "languages": []}, "at least one language"),
        ({"name": "x", "languages": ["zh", "zh"]}, "lists a language twice"),
        ({"name": "x", "languages": ["zh"], "voice": {"en": "Hi"}}, "voice has a 'en' entry"),
        ({"name": "x", "voice": {"en": " "}}, "voice 'en' must be non-empty"),
        ({"name": "x", "voice": {"en": "x" * 501}}, "keep it under 500"),
        ({"name": "x", "examples": [{"text": "a", "language": "fr"}]}, "example 1 is in 'fr'"),
        ({"name": "x", "examples": [{"text": "a", "language": "en", "kind": "poem"}]}, "unknown kind 'poem'"),
        ({"name": "x", "forbidden_words": {"en": ["ok", ""]}}, "empty or non-text entry"),
        ({"name": "x", "length_rules": {"poem": {"en": {"max": 3}}}}, "unknown kind 'poem'"),
        ({"name": "x", "length_rules": {"title": {"en": {"max": 0}}}}, "whole numbers from 1 to 2000"),
        ({"name": "x", "max_regenerations": 9}, "max_regenerations must be a whole number from 0 to 5"),
    ],
)
def test_invalid_styles_say_what_is_wrong(data, problem):
    with pytest.raises(StyleError) as raised:
        BrandStyle.from_dict(data).validate()
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"name": "x", "voice": 3}, "voice must be text or a table"),
        ({"name": "x", "examples": "one"}, "examples must be a list"),
        ({"name": "x", "examples": [{"language": "en"}]}, "example 1 needs text"),
        ({"name": "x", "required_words": {"en": "Qingshan"}}, "required_words.en must be a list"),
        ({"name": "x", "length_rules": {"title": {"en": {"most": 3}}}}, "must be { min = N, max = N }"),
    ],
)
def test_malformed_style_data_is_refused_with_the_field(data, problem):
    with pytest.raises(StyleError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        BrandStyle.from_dict(data)


def test_style_file_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ", encoding="utf-8")
    with pytest.raises(StyleError, match="broken.toml is not valid TOML"):
        load_style_file(broken)
    invalid = tmp_path / "invalid.toml"
    invalid.write_text('name = "Bad Name"', encoding="utf-8")
    with pytest.raises(StyleError, match=r"invalid.toml: Style 'Bad Name' is invalid"):
        load_style_file(invalid)
    with pytest.raises(StyleError, match="Cannot read the style file"):
        load_style_file(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "word", "spans"),
    [
        ("The best tea, BEST of all", "best", [(4, 8), (14, 18)]),
        ("Bestselling and second-best", "best", [(23, 27)]),
        ("secure", "cure", []),
        ("这是最好的茶，真的最好", "最好", [(2, 4), (9, 11)]),
        ("100% 纯正", "100%", [(0, 4)]),
        ("1100%", "100%", []),
        ("weight loss tea", "weight loss", [(0, 11)]),
    ],
)
def test_word_matching(text, word, spans):
    assert find_word(text, word) == spans


def test_lengths_count_characters_for_chinese_and_words_for_english():
    assert text_length("青山 高山绿茶", "zh") == 6
    assert text_length("One mountain, one tea.", "en") == 4


def test_check_flags_forbidden_missing_and_length(style):
    flags = style.check("The best tea for a cure, honestly the best thing ever", "en", "title")
    forbidden = [f for f in flags if f["rule"] == "forbidden_word"]
    assert [(f["word"], f["start"], f["end"]) for f in forbidden] == [("best", 4, 8), ("cure", 19, 23), ("best", 38, 42)]
    assert all(f["severity"] == "error" and f["style"] == "qingshan" for f in forbidden)
    assert {f["rule"] for f in flags} == {"forbidden_word", "missing_required_word", "too_long"}
    assert [f["rule"] for f in style.check("Qingshan", "en", "title")] == ["too_short"]
    assert style.check("青山高山绿茶，回甘悠长", "zh", "title") == []


def test_apply_puts_voice_examples_and_length_into_the_request(style):
    request = CopyRequest(parse_product("类型#绿茶"), "title")
    styled = style.apply(request)
    assert styled.language == "zh"
    assert styled.length == 16  # no length asked: a little under the style's maximum of 20
    assert styled.style_notes["voice"] == "安静、克制。"
    assert styled.style_notes["examples"] == ["青山 高山绿茶", "一山一茶。"]
    assert styled.style_notes["required_words"] == ["青山"]
    system = build_messages(styled)[0]["content"]
    assert "品牌语气：安静、克制。" in system and "示例1：\n青山 高山绿茶" in system
    explicit = style.apply(CopyRequest(parse_product("Type: tea"), "title", length="short",
                                       style_notes={"voice": "Loud."}))
    assert explicit.length == "short" and explicit.style_notes["voice"] == "Loud."
    assert style.apply(CopyRequest(parse_product("Type: tea"), "title")).length == 7  # min 4, max 10


def test_a_style_refuses_languages_it_does_not_cover():
    style = BrandStyle(name="zh-only", languages=("zh",), examples=(StyleExample("好茶", "zh"),)).validate()
    with pytest.raises(StyleError, match="written for zh \\(Chinese\\) only"):
        style.apply(CopyRequest(parse_product("Type: tea"), "title"))
