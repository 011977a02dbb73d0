"""The interface language: Simplified Chinese or English, following the system unless set.

Translations live in ``resources/translations/adcopy_<lang>.ts`` (Qt Linguist XML; contexts are
the widget class names that call ``self.tr``, plus "Labels" for shared words). At run time the
compiled ``.qm`` next to it is used when it is at least as new as the ``.ts`` (``pyside6-lrelease``
makes it; packaging does); otherwise ``TsTranslator`` reads the ``.ts`` directly, so a checkout
without Qt's tools still shows Chinese. The English source text is the English interface.

Update the catalogue after changing strings::

    .venv/bin/pyside6-lupdate adcopy_desktop/gui/*.py -ts resources/translations/adcopy_zh_CN.ts
    # translate in pyside6-linguist (or the XML), then optionally:
    .venv/bin/pyside6-lrelease resources/translations/adcopy_zh_CN.ts
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from adcopy_desktop.paths import resources_dir

log = logging.getLogger("adcopy.gui.i18n")

ENGLISH = "en"
CHINESE = "zh_CN"
# setting value -> name shown in its own language
INTERFACE_LANGUAGES: dict[str, str] = {ENGLISH: "English", CHINESE: "简体中文"}


def translations_dir() -> Path:
    return resources_dir() / "translations"


def normalize_interface_language(value: str | None) -> str | None:
    """"zh", "zh-CN", "zh_Hans", "简体中文" -> "zh_CN"; "en_US" -> "en"; unknown or empty -> None."""
    if not value:
        return None
    text = str(value).strip().replace("-", "_").lower()
    if text in ("简体中文", "中文") or text.startswith("zh"):
        return CHINESE
    if text in ("english",) or text.startswith("en"):
        return ENGLISH
    return None


def resolve_interface_language(setting: str | None, system: QLocale | None = None) -> str:
    """The language to show: the setting when it names one we have, else the system's: Chinese for
    any Chinese locale (zh_CN, zh_TW, zh_HK, zh_SG), English for every other.

    The system's is ``QLocale()``: the platform's locale (on Unix LC_ALL, LC_MESSAGES, LANG and
    LANGUAGE, as ``core.languages.system_language`` reads them) unless ``QLocale.setDefault`` chose
    another."""
    chosen = normalize_interface_language(setting)
    if chosen is not None:
        return chosen
    locale = system if system is not None else QLocale()
    return CHINESE if locale.language() == QLocale.Language.Chinese else ENGLISH


def interface_copy_language() -> str:
    """The core's language code ("zh"/"en") of the interface: for the words the core gives in each
    language, and the copy language of facts in no language (the user's, unless they chose another
    interface language in settings)."""
    return kind_label_language(current_interface_language())


def kind_label_language(interface_language: str) -> str:
    """The core's label language ("zh"/"en") for an interface language."""
    return "zh" if interface_language == CHINESE else "en"


class TsTranslator(QTranslator):
    """A QTranslator over a Qt Linguist ``.ts`` file: finished translations only."""

    def __init__(self, path: Path, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self.messages: dict[tuple[str, str, str], str] = {}
        self._language = ""
        self._load()

    def _load(self) -> None:
        root = ET.parse(self.path).getroot()
        self._language = root.get("language", "")
        for context in root.iter("context"):
            name = context.findtext("name") or ""
            for message in context.iter("message"):
                source = message.findtext("source")
                translation = message.find("translation")
                if source is None or translation is None:
                    continue
                if translation.get("type") in ("unfinished", "obsolete", "vanished"):
                    continue
                forms = translation.findall("numerusform")
                text = (forms[0].text if forms else translation.text) or ""
                if text:
                    self.messages[(name, source, message.findtext("comment") or "")] = text

    def translate(self, context, source_text, disambiguation=None, n=-1):  # noqa: N802 - Qt API
        return self.messages.get((context or "", source_text, disambiguation or ""))

    def isEmpty(self) -> bool:  # noqa: N802 - Qt API
        return not self.messages

    def language(self) -> str:
        return self._language


def load_translator(language: str) -> QTranslator | None:
    """The app's translator for ``language`` (None for English, the source language)."""
    if language == ENGLISH:
        return None
    ts = translations_dir() / f"adcopy_{language}.ts"
    qm = ts.with_suffix(".qm")
    if qm.is_file() and (not ts.is_file() or qm.stat().st_mtime >= ts.stat().st_mtime):
        translator = QTranslator()
        if translator.load(str(qm)):
            return translator
        log.warning("could not load %s; reading %s instead", qm, ts)
    if ts.is_file():
        return TsTranslator(ts)
    log.warning("no translation for %s in %s; the interface stays in English", language, translations_dir())
    return None


_installed: list[QTranslator] = []
_current = ENGLISH


def install_interface_language(language: str) -> str:
    """Install the translators for ``language`` (the app's and Qt's own, for standard buttons),
    replacing any installed before; returns the language installed."""
    global _current
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication before installing a language")
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    if language != ENGLISH:
        qt_translator = QTranslator()
        qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt_translator.load(f"qtbase_{language}", qt_folder):
            _installed.append(qt_translator)
        ours = load_translator(language)
        if ours is not None:
            _installed.append(ours)
    for translator in _installed:
        app.installTranslator(translator)
    _current = language
    log.info("interface language: %s", language)
    return language


def current_interface_language() -> str:
    return _current
