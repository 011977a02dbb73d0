"""Channel rules: limits per channel and kind, units, hard limits, style overrides."""

import pytest

from adcopy_desktop.core.channels import ChannelError, check_copy, load_channels, measure
from adcopy_desktop.core.plugins import BrandStyle
from adcopy_desktop.core.errors import StyleError


def test_the_issue_limits_are_in_the_rules():
    book = load_channels()
    assert book.version
    assert book.rule("taobao", "title", "zh").max == 30 and book.rule("tmall", "title", "zh").max == 30
    assert book.rule("jd", "title", "zh").max == 45
    assert book.rule("amazon", "title", "en").max == 200
    assert book.rule("shopify", "title", "en").max == 70 and book.rule("shopify", "description", "en").max == 160
    assert book.rule("amazon", "selling_points", "en").max_items == 5
    assert book.rule(None, "slogan", "zh") is not None  # generic fallback


def test_units():
    assert measure("白色T恤", "cjk2") == 3.5  # 3 wide + 1 narrow (half)
    assert measure("白色T恤", "chars") == 4
    assert measure("a white tee", "words") == 3


def test_a_taobao_title_over_30_characters_breaks_a_hard_limit():
    fits = check_copy("白色牛仔布上衣宽松简约百搭日常通勤休闲外套", "title", "zh", channel="taobao")
    assert fits.value == 1.0 and fits.problems == ()
    title = "白" * 31
    over = check_copy(title, "title", "zh", channel="taobao")
    assert over.value == 0.0 and over.hard_problems
    assert (over.problems[0].start, over.problems[0].end) == (30, 31)
    advice = check_copy(title, "title", "zh", channel="taobao", enforce_hard=False)
    assert 0 < advice.value < 1 and not advice.hard_problems
    assert check_copy("白" * 40 + "ab", "title", "zh", channel="jd").value == 1.0  # 42 <= 45


def test_format_rules():
    amazon = check_copy("Denim Jacket! 😀\nsecond line", "title", "en", channel="amazon")
    messages = " ".join(p.message for p in amazon.problems)
    assert "'!'" in messages and "emoji" in messages and "one line" in messages
    bullets = check_copy("- one\n- two\n- three\n- four\n- five\n- six", "selling_points", "en", channel="amazon")
    assert any("6 bullets; at most 5" in p.message for p in bullets.problems)
    few = check_copy("- 轻便", "selling_points", "zh", channel="taobao")
    assert any("at least 3" in p.message for p in few.problems)


def test_style_overrides_and_validation():
    checked = check_copy("白" * 29, "title", "zh", channel="taobao", overrides={"max": 28})
    assert checked.value == 0.0
    style = BrandStyle(name="shop", channels=("taobao",), channel_rules={"taobao": {"title": {"max": 28}}}).validate()
    assert style.channels == ("taobao",)
    with pytest.raises(StyleError, match="unknown channel 'ebay'"):
        BrandStyle(name="shop", channels=("ebay",)).validate()
    with pytest.raises(StyleError, match="unknown field 'maximum'"):
        BrandStyle(name="shop", channel_rules={"jd": {"title": {"maximum": 3}}}).validate()
    with pytest.raises(ChannelError, match="Channels: "):
        load_channels().channel("ebay")
