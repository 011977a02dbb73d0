"""The interface in Simplified Chinese and English: follows the system by default, switchable in
settings; every translatable string has a Chinese translation that Qt's own tools accept."""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from adcopy_desktop.core.library import Library
from adcopy_desktop.core.product import Product
from adcopy_desktop.core.settings import Settings, load_settings, save_settings
from adcopy_desktop.gui.app import AppController
from adcopy_desktop.gui.i18n import (
    CHINESE,
    ENGLISH,
    TsTranslator,
    interface_copy_language,
    current_interface_language,
    install_interface_language,
    load_translator,
    normalize_interface_language,
    resolve_interface_language,
    translations_dir,
)
from adcopy_desktop.gui.write_page import copy_request

REPO = Path(__file__).resolve().parents[2]
TS = translations_dir() / "adcopy_zh_CN.ts"
GUI_SOURCES = sorted(str(p) for p in (REPO / "adcopy_desktop" / "gui").glob("*.py"))


def qt_tool(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else shutil.which(name)


def messages(path: Path) -> dict[tuple[str, str], ET.Element]:
    found = {}
    for context in ET.parse(path).getroot().iter("context"):
        for message in context.iter("message"):
            found[(context.findtext("name"), message.findtext("source"))] = message.find("translation")
    return found


def test_the_system_language_is_followed_unless_a_setting_says_otherwise():
    assert resolve_interface_language(None, QLocale("zh_CN")) == CHINESE
    assert resolve_interface_language(None, QLocale("zh_TW")) == CHINESE
    assert resolve_interface_language(None, QLocale("en_US")) == ENGLISH
    assert resolve_interface_language(None, QLocale("de_DE")) == ENGLISH
    assert resolve_interface_language("en", QLocale("zh_CN")) == ENGLISH
    assert resolve_interface_language("zh_CN", QLocale("en_US")) == CHINESE
    assert normalize_interface_language("zh-Hans") == CHINESE and normalize_interface_language("") is None


@pytest.fixture
def system_locale():
    """set(name): the locale Qt reports as the system's (QLocale()) is ``name`` for this test."""
    yield lambda name: QLocale.setDefault(QLocale(name))
    QLocale.setDefault(QLocale.system())


@pytest.mark.parametrize("name", ["zh_CN", "zh_TW", "zh_HK", "zh_SG"])
def test_a_chinese_system_locale_is_followed_without_a_setting(system_locale, name):
    system_locale(name)
    assert resolve_interface_language(None) == CHINESE
    assert resolve_interface_language("en") == ENGLISH  # the user's choice wins
    system_locale("en_US")
    assert resolve_interface_language(None) == ENGLISH


def open_controller(qtbot):
    library = Library()
    controller = AppController(library=library)
    window = controller.open_window()
    qtbot.addWidget(window)
    return controller, window, library


NEUTRAL = Product([("42", "43 / 44")])  # facts in no language: the user's language decides


@pytest.mark.parametrize("setting, interface, tab, copy_language", [
    (None, CHINESE, "撰写", "zh"),
    ("en", ENGLISH, "Writer", "en"),
])
def test_a_chinese_system_writes_in_chinese_unless_the_user_chose_english(qtbot, tiny_store, system_locale,
                                                                           setting, interface, tab, copy_language):
    system_locale("zh_CN")
    save_settings(Settings(interface_language=setting))
    controller, window, library = open_controller(qtbot)
    try:
        assert current_interface_language() == interface and window.tabs.tabText(0) == tab
        assert interface_copy_language() == copy_language
        assert copy_request(NEUTRAL, "title", language=None, length=None, tone=None).language == copy_language
        # facts with a language, and a language chosen in the writer, keep theirs
        facts = Product([("colour", "white"), ("material", "cotton")])
        assert copy_request(facts, "title", language=None, length=None, tone=None).language == "en"
        assert copy_request(NEUTRAL, "title", language="en", length=None, tone=None).language == "en"
    finally:
        window.close()
        controller.shutdown()
        library.close()


def test_an_english_system_gets_english(qtbot, tiny_store, system_locale):
    system_locale("en_US")
    controller, window, library = open_controller(qtbot)
    try:
        assert current_interface_language() == ENGLISH and window.tabs.tabText(0) == "Writer"
        assert copy_request(NEUTRAL, "title", language=None, length=None, tone=None).language == "en"
    finally:
        window.close()
        controller.shutdown()
        library.close()


LOCALE_PROBE = (
    "import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication(sys.argv); "
    "from adcopy_desktop.gui.i18n import resolve_interface_language; "
    "from adcopy_desktop.core.languages import system_language; "
    "print(resolve_interface_language(None), system_language())"
)


@pytest.mark.parametrize("variables, expected", [
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN zh"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh_CN zh"),
    ({"LANG": "zh_HK.UTF-8", "LC_ALL": "C.UTF-8"}, "en en"),
    ({"LANG": "en_US.UTF-8"}, "en en"),
])
def test_qt_and_the_core_read_the_locale_variables_alike(variables, expected):
    env = {name: value for name, value in os.environ.items()
           if name not in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")}
    result = subprocess.run([sys.executable, "-c", LOCALE_PROBE], env={**env, **variables}, cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split("\n")[-2] == expected, result.stderr


def test_every_string_of_the_window_has_a_chinese_translation(tmp_path):
    lupdate = qt_tool("pyside6-lupdate")
    if lupdate is None:
        pytest.skip("pyside6-lupdate is not installed")
    copy = tmp_path / "check.ts"
    shutil.copy(TS, copy)
    subprocess.run([lupdate, *GUI_SOURCES, "-locations", "none", "-no-obsolete", "-ts", str(copy)],
                   check=True, capture_output=True)
    current, shipped = messages(copy), messages(TS)
    assert set(current) == set(shipped), "update the .ts: see adcopy_desktop/gui/i18n.py"
    unfinished = [key for key, translation in current.items()
                  if translation.get("type") == "unfinished" or not (translation.text or "").strip()]
    assert unfinished == []
    for (context, source), translation in shipped.items():  # every {placeholder} kept, none added
        assert sorted(re.findall(r"{[^}]*}", source)) == sorted(re.findall(r"{[^}]*}", translation.text)), \
            (context, source)


def test_lrelease_compiles_the_catalogue_and_agrees_with_the_ts_reader(tmp_path, qapp):
    lrelease = qt_tool("pyside6-lrelease")
    if lrelease is None:
        pytest.skip("pyside6-lrelease is not installed")
    qm = tmp_path / "adcopy_zh_CN.qm"
    result = subprocess.run([lrelease, str(TS), "-qm", str(qm)], check=True, capture_output=True, text=True)
    assert "0 unfinished" in result.stdout
    compiled = QTranslator()
    assert compiled.load(str(qm))
    from_ts = TsTranslator(TS)
    for (context, source), translation in messages(TS).items():
        assert compiled.translate(context, source) == translation.text == from_ts.translate(context, source)


def test_a_fresh_compiled_catalogue_is_preferred(tmp_path, monkeypatch, qapp):
    resources = tmp_path / "resources"
    shutil.copytree(REPO / "resources", resources)
    monkeypatch.setenv("ADCOPY_RESOURCES", str(resources))
    assert isinstance(load_translator(CHINESE), TsTranslator)
    lrelease = qt_tool("pyside6-lrelease")
    if lrelease is None:
        pytest.skip("pyside6-lrelease is not installed")
    ts = resources / "translations" / "adcopy_zh_CN.ts"
    subprocess.run([lrelease, str(ts)], check=True, capture_output=True)
    translator = load_translator(CHINESE)
    assert type(translator) is QTranslator and translator.translate("MainWindow", "Library") == "文案库"
    assert load_translator(ENGLISH) is None


def test_the_window_speaks_chinese(qtbot, open_window):
    install_interface_language(CHINESE)
    window = open_window()
    assert [window.tabs.tabText(i) for i in range(4)] == ["撰写", "文案库", "插件", "模型"]
    assert window.writer.panel.generate_button.text() == "生成"
    assert window.writer.panel.kind_box.itemText(0) == "标题"  # copy kinds in Chinese too
    assert QCoreApplication.translate("QDialogButtonBox", "Cancel") in ("取消", "Cancel")


def test_changing_the_language_in_settings_rebuilds_the_window(qtbot, tiny_store):
    save_settings(Settings(interface_language="en"))
    library = Library()
    controller = AppController(library=library)
    window = controller.open_window()
    qtbot.addWidget(window)
    try:
        assert current_interface_language() == ENGLISH and window.tabs.tabText(0) == "Writer"
        dialog = window.open_settings()
        dialog.language_box.setCurrentIndex(dialog.language_box.findData(CHINESE))
        dialog.provider_box.setCurrentIndex(dialog.provider_box.findData("cpu"))
        dialog.threads_spin.setValue(2)
        dialog.accept()
        qtbot.waitUntil(lambda: controller.window is not window)
        saved = load_settings()
        assert (saved.interface_language, saved.execution_provider, saved.threads) == (CHINESE, "cpu", 2)
        assert current_interface_language() == CHINESE
        assert controller.window.tabs.tabText(0) == "撰写"
        assert controller.window.context is window.context  # same library, model and plugins
    finally:
        controller.window.close()
        controller.shutdown()
        library.close()


def test_the_system_default_is_stored_as_no_setting(qtbot, open_window):
    window = open_window()
    dialog = window.open_settings()
    assert dialog.language_box.currentData() is None
    dialog.provider_box.setCurrentIndex(dialog.provider_box.findData("cpu"))
    dialog.accept()
    assert load_settings().interface_language is None and load_settings().execution_provider == "cpu"
    assert current_interface_language() == ENGLISH  # nothing changed


def test_score_lines_show_the_scorers_words_in_the_interface_language():
    from adcopy_desktop.gui.tasks import ScoreLine

    entry = {"scorer": "faithfulness", "name": "Faithfulness", "value": 0.4, "label": "unsupported claims",
             "explanation": "Not supported by the product's facts: 'black' (colour).",
             "localized": {"zh": {"name": "忠实度", "label": "无依据的说法", "explanation": "商品属性不支持这些说法：“黑色”（颜色）。"}}}
    chinese = ScoreLine.from_entry(entry, "zh")
    assert (chinese.name, chinese.verdict) == ("忠实度", "无依据的说法") and "黑色" in chinese.explanation
    english = ScoreLine.from_entry(entry, "en")
    assert (english.name, english.verdict) == ("Faithfulness", "unsupported claims")
    plugin = ScoreLine.from_entry({"scorer": "brand-voice", "name": "Brand voice", "label": "on voice"}, "zh")
    assert (plugin.name, plugin.verdict) == ("Brand voice", "on voice")  # a plugin's own words
