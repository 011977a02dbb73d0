"""The output languages the app writes, and guessing which one a merchant's text is in.

Detection rule: count Han characters (CJK Unified Ideographs) and Latin letters. The text is
Chinese when it has at least one Han character and ``han * HAN_WEIGHT >= latin``; otherwise,
including text with no letters at all, it is English. A Han character carries about as much as a
short English word, so each one weighs as three Latin letters: Latin brand and model names inside
Chinese listings ("Nike 运动鞋 男款", "iPhone 15 手机壳") stay Chinese, while a Chinese brand name
inside an English sentence ("Li-Ning running shoes 李宁") stays English.

The system's language (``system_language``) is Chinese for any Chinese locale (zh_CN, zh_TW,
zh_HK, zh_SG ...) and English otherwise; it is the default where nothing else says which language
to use (the interface, copy for facts that are in no language).
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

from .errors import UnsupportedLanguageError

SUPPORTED_LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "en"
HAN_WEIGHT = 3

_LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {"zh": "Chinese", "en": "English"},
    "zh": {"zh": "中文", "en": "英文"},
}

_ALIASES: dict[str, str] = {
    "chinese": "zh",
    "mandarin": "zh",
    "cn": "zh",
    "中文": "zh",
    "汉语": "zh",
    "漢語": "zh",
    "简体中文": "zh",
    "english": "en",
    "英文": "en",
    "英语": "en",
}

_HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # Unified Ideographs
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x20000, 0x323AF),  # Extensions B to H
)

_LATIN_RANGES: tuple[tuple[int, int], ...] = (
    (0x41, 0x5A),
    (0x61, 0x7A),
    (0xC0, 0x24F),  # accented letters (Latin-1 Supplement, Extended-A/B); × and ÷ excluded below
    (0xFF21, 0xFF3A),  # full-width A-Z, typed by Chinese input methods
    (0xFF41, 0xFF5A),  # full-width a-z
)
_NOT_LETTERS = {0xD7, 0xF7}


def _in_ranges(code_point: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code_point <= high for low, high in ranges)


def count_scripts(text: str) -> tuple[int, int]:
    """``(han, latin)``: how many Han characters and Latin letters the text holds."""
    han = latin = 0
    for char in text:
        code_point = ord(char)
        if code_point < 0x41:
            continue
        if _in_ranges(code_point, _HAN_RANGES):
            han += 1
        elif code_point not in _NOT_LETTERS and _in_ranges(code_point, _LATIN_RANGES):
            latin += 1
    return han, latin


def detect_language(text: str) -> str:
    """``"zh"`` or ``"en"`` by the rule in this module's docstring; English when in doubt."""
    han, latin = count_scripts(text)
    if han >= 1 and han * HAN_WEIGHT >= latin:
        return "zh"
    return DEFAULT_LANGUAGE


def has_letters(text: str) -> bool:
    """Whether the text says anything about its language (numbers and symbols do not)."""
    return any(count_scripts(text))


def normalize_language(code: str) -> str:
    """Map what users and settings write ("zh-CN", "English", "中文") to a supported code."""
    cleaned = str(code).strip().casefold().replace("_", "-")
    if cleaned in SUPPORTED_LANGUAGES:
        return cleaned
    if cleaned in _ALIASES:
        return _ALIASES[cleaned]
    base = cleaned.split("-", 1)[0]
    if base in SUPPORTED_LANGUAGES:
        return base
    raise UnsupportedLanguageError(
        f"Language {code!r} is not supported; choose one of: "
        + ", ".join(f"{lang} ({language_name(lang)})" for lang in SUPPORTED_LANGUAGES)
        + "."
    )


def language_name(code: str, in_language: str = "en") -> str:
    """The language's name for display, written in ``in_language`` ("Chinese" or "中文").

    A display helper never fails: an unknown ``code`` (say "ja" in a model's manifest) comes back
    as it is, and an unknown ``in_language`` falls back to English names."""
    names = _LANGUAGE_NAMES[_normalized_or_none(in_language) or DEFAULT_LANGUAGE]
    normalized = _normalized_or_none(code)
    return names[normalized] if normalized else str(code)


def _normalized_or_none(code: str) -> str | None:
    try:
        return normalize_language(code)
    except UnsupportedLanguageError:
        return None


# POSIX order: LC_ALL beats LC_MESSAGES beats LANG (man 7 locale); Qt's QLocale.system() reads the same.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
_NO_LOCALE = ("", "c", "posix")


def locale_language(name: str | None) -> str | None:
    """"zh" or "en" for a locale name ("zh_CN.UTF-8", "zh-Hant-TW", "Chinese (Simplified)_China.936",
    "en_US"); None for no locale or the C/POSIX locale, which names no language."""
    cleaned = str(name or "").strip().split(".", 1)[0].split("@", 1)[0].casefold()
    if cleaned in _NO_LOCALE:
        return None
    base = cleaned.replace("-", "_").split("_", 1)[0]
    if base == "zh" or base.startswith("chinese"):
        return "zh"
    return "en"


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """The user's language: "zh" when their locale is Chinese, otherwise "en".

    The locale variables decide (the first of LC_ALL, LC_MESSAGES, LANG that is set; LANGUAGE's
    first entry over them unless the locale is C, as gettext does); without them, the operating
    system's (Windows' display language, else Python's locale). A given ``environ`` stands for the
    whole environment: nothing else is asked."""
    env = os.environ if environ is None else environ
    name = next((env[var] for var in LOCALE_VARIABLES if env.get(var, "").strip()), "")
    if name:
        found = locale_language(name)
        if found is None:
            return DEFAULT_LANGUAGE  # LC_ALL=C: set, and not Chinese
        preferred = [part for part in env.get("LANGUAGE", "").split(":") if part.strip()]
        return (locale_language(preferred[0]) if preferred else None) or found
    return (locale_language(_platform_locale()) if environ is None else None) or DEFAULT_LANGUAGE


def _platform_locale() -> str | None:
    import locale

    if sys.platform == "win32":
        try:
            import ctypes

            # the display language the user chose, which the C runtime's locale need not follow
            return locale.windows_locale.get(ctypes.windll.kernel32.GetUserDefaultUILanguage())
        except (AttributeError, OSError):
            pass
    try:
        return locale.getlocale()[0]
    except ValueError:
        return None
