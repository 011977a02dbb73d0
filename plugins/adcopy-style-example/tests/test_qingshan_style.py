"""Tests for the Qingshan style plugin: the style loads and validates, its rules catch what they
should in both languages, and generation applies it (with a scripted backend instead of a model)."""

import importlib.metadata

import pytest

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.plugins.testing import plugin_manager_for, scripted_backend
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest

from adcopy_style_qingshan import plugin

ZH_PRODUCT = parse_product("类型#绿茶*产地#高山茶园*采摘#明前*规格#250g罐装")
EN_PRODUCT = parse_product("Type: green tea\nOrigin: high-mountain garden\nPicked: before Qingming\nSize: 250 g tin")


@pytest.fixture
def manager():
    manager = plugin_manager_for(plugin)
    yield manager
    manager.close()


def test_the_style_registers_without_problems(manager):
    assert manager.problems == []
    style = manager.style("qingshan")
    assert style.languages == ("zh", "en")
    assert "短句" in style.voice_for("zh") and "short sentences" in style.voice_for("en")
    assert style.examples_for("zh", "title")[0].startswith("青山")
    assert style.examples_for("en", "slogan")[0] == "One mountain, one tea. Take your time."
    assert style.required_for("zh") == ("青山",) and style.required_for("en") == ("Qingshan",)
    assert "100%" in style.forbidden_for("zh") and "100%" in style.forbidden_for("en")


@pytest.mark.parametrize(
    ("text", "language", "words"),
    [
        ("青山明前绿茶，口感最好，还能减肥。", "zh", ["最好", "减肥"]),
        ("The BEST tea for a detox.", "en", ["BEST", "detox"]),
        ("Bestselling tea, best-in-class.", "en", ["best"]),  # "Bestselling" is another word
        ("100% 高山茶", "zh", ["100%"]),
    ],
)
def test_forbidden_words_are_found_with_their_spans(manager, text, language, words):
    hits = manager.style("qingshan").forbidden_hits(text, language)
    assert [hit["found"] for hit in hits] == words
    for hit in hits:
        assert text[hit["start"]:hit["end"]] == hit["found"]


def test_required_words_and_length_rules_are_flagged(manager):
    style = manager.style("qingshan")
    flags = style.check("高山明前绿茶 豆香清甜 回甘悠长 春茶新品 罐装礼盒 送礼自饮两相宜 精选好茶", "zh", "title")
    rules = sorted(flag["rule"] for flag in flags)
    assert rules == ["missing_required_word", "too_long"]
    assert style.check("Qingshan green tea, take your time.", "en", "slogan") == []


def test_house_rule_fixes_the_brand_spelling_only_for_this_style(manager):
    backend = scripted_backend([["qing shan green tea, picked early", "青 山高山绿茶"]])
    manager.add_plugin(backend, name="test.scripted")
    generator = CopyGenerator(plugins=manager, backend="scripted")
    styled = generator.generate(CopyRequest(EN_PRODUCT, "title"), GenerationSettings(n=2, seed=1), style="qingshan")
    assert [c.text for c in styled] == ["Qingshan green tea, picked early", "青山高山绿茶"]
    plain = generator.generate(CopyRequest(EN_PRODUCT, "title"), GenerationSettings(n=2, seed=1), style="plain")
    assert plain[0].text == "qing shan green tea, picked early"


@pytest.mark.parametrize(("product", "voice"), [(ZH_PRODUCT, "像山里的茶农"), (EN_PRODUCT, "like a grower")])
def test_generation_puts_the_voice_and_examples_in_the_prompt(manager, product, voice):
    backend = scripted_backend([["青山高山明前绿茶 慢慢喝"]])
    manager.add_plugin(backend, name="test.scripted")
    generator = CopyGenerator(plugins=manager, backend="scripted")
    [candidate] = generator.generate(CopyRequest(product, "promo"), GenerationSettings(n=1, seed=3), style="qingshan")
    system = backend.calls[0]["messages"][0]["content"]
    assert voice in system
    assert ("清明前三天" in system) if product is ZH_PRODUCT else ("Picked in the three days" in system)
    assert candidate.style == "qingshan"


def test_a_forbidden_word_is_regenerated_then_flagged(manager):
    backend = scripted_backend([["青山绿茶，国内第一。", "青山高山绿茶。"], ["青山绿茶，依然第一。"]])
    manager.add_plugin(backend, name="test.scripted")
    generator = CopyGenerator(plugins=manager, backend="scripted")
    candidates = generator.generate(CopyRequest(ZH_PRODUCT, "slogan"), GenerationSettings(n=2, seed=5),
                                    style="qingshan")
    assert len(backend.calls) == 3  # the batch, then two rounds for the one offending candidate
    first, second = candidates
    assert first.text == "青山绿茶，依然第一。"  # kept, never cut
    [flag] = [f for f in first.flags if f["rule"] == "forbidden_word"]
    assert flag["word"] == "第一" and first.text[flag["start"]:flag["end"]] == "第一"
    assert flag["regenerations"] == 2
    assert not [f for f in second.flags if f["severity"] == "error"]


def test_the_package_declares_its_entry_point():
    try:
        distribution = importlib.metadata.distribution("adcopy-style-qingshan")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the plugin is not installed (pip install -e plugins/adcopy-style-example)")
    [entry_point] = [ep for ep in distribution.entry_points if ep.group == "adcopy"]
    assert entry_point.load() is plugin
