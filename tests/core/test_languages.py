import pytest

from adcopy_desktop.core.errors import UnsupportedLanguageError
from adcopy_desktop.core.languages import (
    SUPPORTED_LANGUAGES,
    count_scripts,
    detect_language,
    has_letters,
    language_name,
    locale_language,
    normalize_language,
    system_language,
)
from adcopy_desktop.core.product import Product
from adcopy_desktop.core.prompts import CopyRequest, resolve_language

LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


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


@pytest.mark.parametrize(
    "name, expected",
    [
        ("zh_CN.UTF-8", "zh"), ("zh_TW", "zh"), ("zh_HK.Big5-HKSCS", "zh"), ("zh_SG.GB2312", "zh"),
        ("zh-Hant-TW", "zh"), ("Chinese (Simplified)_China.936", "zh"), ("zh_CN.UTF-8@pinyin", "zh"),
        ("en_US.UTF-8", "en"), ("de_DE", "en"), ("C", None), ("C.UTF-8", None), ("POSIX", None), ("", None),
        (None, None),
    ],
)
def test_locale_language(name, expected):
    assert locale_language(name) == expected


@pytest.fixture
def locale_env(monkeypatch):
    """set(**variables): the process's locale variables are exactly these."""
    def set_(**variables):
        for name in LOCALE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
    return set_


@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "zh_TW.UTF-8", "zh_HK.UTF-8", "zh_SG.UTF-8"])
def test_a_chinese_lang_makes_chinese_the_system_language(locale_env, lang):
    locale_env(LANG=lang)
    assert system_language() == "zh"


@pytest.mark.parametrize(
    "variables, expected",
    [
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),  # messages beat LANG
        ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW.UTF-8"}, "zh"),  # LC_ALL beats everything
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),  # the C locale is set, and not Chinese
        ({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"}, "zh"),  # gettext's preference list
        ({"LC_ALL": "C", "LANGUAGE": "zh_CN"}, "en"),  # ignored under C, as gettext does
    ],
)
def test_the_locale_variables_decide_in_posix_order(locale_env, variables, expected):
    locale_env(**variables)
    assert system_language() == expected


def test_a_given_environment_stands_alone():
    assert system_language({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert system_language({}) == "en"


def test_facts_in_no_language_take_the_fallback_the_app_passes():
    neutral = CopyRequest(Product([("42", "43 / 44")]), "title")
    assert resolve_language(neutral) == "en"
    assert resolve_language(neutral, fallback="zh") == "zh"
    # facts with letters, and an explicit request, are never overruled by the fallback
    assert resolve_language(CopyRequest(Product([("size", "42")]), "title"), fallback="zh") == "en"
    assert resolve_language(CopyRequest(Product([("42", "43")]), "title", language="en"), fallback="zh") == "en"
