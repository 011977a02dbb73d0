import pytest

from adcopy_desktop.core.errors import UnsupportedLanguageError
from adcopy_desktop.core.languages import (
    SUPPORTED_LANGUAGES,
    count_scripts,
    detect_language,
    has_letters,
    language_name,
    normalize_language,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("类型#上衣*材质#牛仔布", "zh"),
        ("Nike 运动鞋 男款", "zh"),
        ("iPhone 15 手机壳 硅胶 防摔", "zh"),
        ("华为 Mate 60 Pro 手机 黑色 12GB", "zh"),
        ("这款白色牛仔布上衣版型宽松，日常百搭。", "zh"),
        ("Cotton T-shirt, 100% cotton", "en"),
        ("Li-Ning running shoes 李宁", "en"),
        ("Waterproof hiking boots with a cushioned sole", "en"),
        ("１２３ 456 99.9%", "en"),
        ("", "en"),
        ("ＡＢＣＤＥＦＧ 上", "en"),
        ("Café crème à la française", "en"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_count_scripts_ignores_digits_and_punctuation():
    assert count_scripts("T恤 100% 纯棉！") == (3, 1)
    assert count_scripts("× ÷ 123") == (0, 0)
    assert count_scripts("𠀀") == (1, 0)  # Extension B ideograph


def test_has_letters():
    assert not has_letters("123 - 45%")
    assert has_letters("M")
    assert has_letters("棉")


def test_supported_languages():
    assert SUPPORTED_LANGUAGES == ("zh", "en")


@pytest.mark.parametrize(
    "code, in_language, expected",
    [("zh", "en", "Chinese"), ("en", "en", "English"), ("zh", "zh", "中文"), ("en", "zh", "英文")],
)
def test_language_name(code, in_language, expected):
    assert language_name(code, in_language=in_language) == expected


def test_language_name_defaults_to_english():
    assert language_name("zh") == "Chinese"


@pytest.mark.parametrize(
    "code, expected",
    [
        ("zh", "zh"),
        ("ZH-cn", "zh"),
        ("zh_Hans", "zh"),
        ("Chinese", "zh"),
        ("中文", "zh"),
        ("en-US", "en"),
        ("English", "en"),
        (" en ", "en"),
    ],
)
def test_normalize_language(code, expected):
    assert normalize_language(code) == expected


@pytest.mark.parametrize("code", ["fr", "ja", "", "klingon"])
def test_unsupported_language_names_the_choices(code):
    with pytest.raises(UnsupportedLanguageError) as info:
        normalize_language(code)
    assert "zh" in str(info.value) and "en" in str(info.value)


def test_language_name_never_fails_for_display():
    assert language_name("ja") == "ja"
    assert language_name("zh-CN", in_language="中文") == "中文"
    assert language_name("zh", in_language="fr") == "Chinese"
