"""The advertising word list: every entry is found, exempt phrases are not flagged, brand styles
extend it, and the list file is versioned and checked."""

import tomllib

import pytest

from adcopy_desktop.core.compliance import TermListError, load_terms, terms_for_style, terms_path
from adcopy_desktop.core.plugins import BrandStyle

TERMS = load_terms()
RAW = tomllib.loads(terms_path().read_text(encoding="utf-8"))


def test_the_list_is_versioned_and_every_entry_has_a_reason():
    assert TERMS.version == RAW["version"] and TERMS.version[:4].isdigit()
    for language in ("zh", "en"):
        assert TERMS.terms[language]
        for term in TERMS.terms[language]:
            assert term.severity in ("error", "warning") and term.reason.strip()


def test_the_issue_examples_are_on_the_list():
    zh = {t.term for t in TERMS.terms["zh"]}
    en = {t.term.lower() for t in TERMS.terms["en"]}
    assert {"最", "第一", "国家级", "顶级", "极致"} <= zh
    assert {"#1", "best-selling", "clinically proven", "guaranteed", "cure"} <= en
    assert "最佳保质期" in TERMS.exempt["zh"]


@pytest.mark.parametrize("term", [t.term for t in TERMS.terms["zh"]])
def test_recall_on_every_chinese_entry(term):
    text = f"这款{term}的产品"
    hits = TERMS.find(text, "zh")
    start = text.index(term)
    assert any(h.start <= start and start + len(term) <= h.end for h in hits), (term, hits)


@pytest.mark.parametrize("term", [t.term for t in TERMS.terms["en"]])
def test_recall_on_every_english_entry(term):
    text = f"Our {term} formula, made with care."
    hits = TERMS.find(text, "en")
    start = text.index(term)
    assert any(h.start <= start and start + len(term) <= h.end for h in hits), (term, hits)


@pytest.mark.parametrize("language,phrase", [("zh", p) for p in TERMS.exempt["zh"]] +
                         [("en", p) for p in TERMS.exempt["en"]])
def test_exempt_phrases_are_not_flagged(language, phrase):
    text = f"这款茶叶{phrase}，请放心" if language == "zh" else f"Made for {phrase} lovers."
    start = text.index(phrase)
    hits = TERMS.find(text, language)
    assert not [h for h in hits if h.start < start + len(phrase) and h.end > start], (phrase, hits)


def test_exemptions_hide_only_what_they_contain():
    hits = TERMS.find("最佳赏味期12个月，口感最佳", "zh")
    assert [(h.found, h.severity) for h in hits] == [("最佳", "error")]
    assert TERMS.find("dog treats that cure boredom", "en")[0].found == "cure"
    assert [h.found for h in TERMS.find("It treats dry skin.", "en")] == ["treats"]


def test_overlapping_hits_report_the_longest():
    [hit] = TERMS.find("本店最新款", "zh")
    assert hit.found == "最新" and hit.severity == "warning"  # not the error for 最 alone
    [hit] = TERMS.find("全网第一的口碑", "zh")
    assert hit.found == "全网第一"


def test_english_terms_match_whole_words_only():
    assert TERMS.find("A secure clasp, procured locally.", "en") == []
    assert TERMS.find("Our #10 model", "en") == []
    assert [h.found for h in TERMS.find("The #1 choice", "en")] == ["#1"]


def test_lists_apply_by_language():
    assert TERMS.find("100% cotton tee", "en") == []
    assert TERMS.find("100%纯棉T恤", "zh") == []
    assert [h.found for h in TERMS.find("100%有效", "zh")] == ["100%"]


def test_a_brand_style_extends_the_list():
    style = BrandStyle(name="acme", ad_terms={"zh": ["秒杀"], "en": ["insane deal"]},
                       ad_exempt={"zh": ["第一泡茶"]}).validate()
    zh = terms_for_style(style, "zh")
    [hit] = zh.find("限时秒杀", "zh")
    assert hit.severity == "error" and "acme" in hit.term.reason and hit.term.source == "style"
    assert zh.find("第一泡茶汤色清亮", "zh") == []
    assert [h.found for h in terms_for_style(style, "en").find("An insane deal!", "en")] == ["insane deal"]
    assert terms_for_style(None, "zh") is load_terms()


def test_a_malformed_list_names_the_entry(tmp_path):
    path = tmp_path / "terms.toml"
    path.write_text('version = "1"\nzh_terms = [{ term = "最", severity = "fatal", reason = "x" }]\n', encoding="utf-8")
    with pytest.raises(TermListError, match="zh_terms entry 1 .*severity"):
        load_terms(path)
    path.write_text('zh_terms = []\n', encoding="utf-8")
    with pytest.raises(TermListError, match="version"):
        load_terms(path)
