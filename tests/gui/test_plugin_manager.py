"""Plugins in the window: a failing plugin shows its error and the app goes on; the manager lists,
enables, disables and installs plugins; safe mode shows a banner."""

import threading

from adcopy_desktop.core.plugins import FAILED, PluginManager, Score, Scorer, hookimpl
from adcopy_desktop.core.plugins.testing import plugin_manager_for
from adcopy_desktop.core.settings import load_settings
from adcopy_desktop.gui.worker import BackgroundJob
from tests.core.plugins.helpers import build_wheel

from .conftest import add_product, generate, wait_for_job


class BrokenPostProcessor:
    """Raises in process_candidate and registers a scorer that raises too."""

    plugin_name = "acme-broken"
    version = "0.3"

    @hookimpl
    def process_candidate(self, candidate, request, style):
        raise RuntimeError("acme licence server unreachable")

    @hookimpl
    def register_scorers(self, register):
        register(Scorer(name="acme-score", label="Acme score", score=self._score))

    @staticmethod
    def _score(candidate, context):
        raise ValueError("acme scorer exploded")


class BrokenAtLoad:
    plugin_name = "acme-styles"
    version = "1.2"

    @hookimpl
    def register_styles(self, register):
        raise ImportError("acme_brand_pack is missing")


class GoodScorer:
    plugin_name = "length-scorer"

    @hookimpl
    def register_scorers(self, register):
        register(Scorer(name="length", label="Length", languages=("en", "zh"),
                        score=lambda c, ctx: Score(min(1.0, len(c.text) / 100), "ok", f"{len(c.text)} characters")))


def test_a_failing_plugin_shows_its_error_and_the_app_goes_on(qtbot, open_window):
    manager = plugin_manager_for(BrokenPostProcessor(), BrokenAtLoad(), GoodScorer())
    window = open_window(plugins=manager)
    qtbot.waitUntil(lambda: any("acme-styles" in text for text in window.message_bar.texts()))
    page = window.plugins_page
    assert page.row_texts("acme-styles")[:4] == ["acme-styles", "1.2", "registered", "failed"]
    assert "acme_brand_pack is missing" in page.row_texts("acme-styles")[4]

    add_product(qtbot, window, "Type: teapot")
    job = generate(qtbot, window, n=2)
    assert job.outcome == "succeeded"
    cards = window.writer.cards
    assert all(card.candidate_id is not None for card in cards)  # generation went on without the plugin
    messages = " | ".join(window.message_bar.texts())
    assert "Plugin 'acme-broken' 0.3 (registered) failed in process_candidate: RuntimeError: acme licence server" \
        in messages
    assert "disabled for this session" in messages
    assert page.info("acme-broken").status == FAILED
    assert "acme licence server unreachable" in page.row_texts("acme-broken")[4]
    # the other scorers still score; the failed plugin's scorer is gone with it
    scorers = {line.scorer for line in cards[0].scores}
    assert scorers == set(window.context.plugins.scorers()) and "length" in scorers and "acme-score" not in scorers
    assert "Length" in cards[0].scores_label.text()

    # and the next generation runs without the broken plugin
    job = generate(qtbot, window, n=1)
    assert job.outcome == "succeeded"


def test_the_manager_lists_name_version_source_status(qtbot, open_window):
    window = open_window()
    page = window.plugins_page
    rows = {info.name: page.row_texts(info.name) for info in page.infos}
    assert rows["adcopy.onnx-backend"][2:4] == ["built-in", "active"]
    assert "backend: onnx" in rows["adcopy.onnx-backend"][4]
    assert page.banner.isHidden() and window.safe_banner.isHidden()


def test_disabling_a_scorer_plugin_removes_its_scores_and_enabling_brings_them_back(qtbot, open_window):
    window = open_window()
    page = window.plugins_page
    page.select("adcopy.style-compliance")
    assert page.disable_button.isEnabled() and not page.enable_button.isEnabled()
    page.disable_button.click()
    assert load_settings().disabled_plugins == ["adcopy.style-compliance"]
    assert page.info("adcopy.style-compliance").status == "disabled"
    add_product(qtbot, window, "Type: candle")
    generate(qtbot, window, n=1)
    card = window.writer.cards[0]
    assert "style-compliance" not in {line.scorer for line in card.scores}
    if not window.context.plugins.scorers():
        assert card.scores == [] and "No scorers active" in card.scores_label.text()

    page.select("adcopy.style-compliance")
    page.enable_button.click()
    assert load_settings().disabled_plugins == []
    assert page.info("adcopy.style-compliance").status == "active"
    generate(qtbot, window, n=1)
    scorers = [line.scorer for line in window.writer.cards[0].scores]
    assert "style-compliance" in scorers and scorers == sorted(window.context.plugins.scorers())


def test_the_buttons_come_back_when_a_generation_ends_while_other_work_still_runs(qtbot, open_window):
    window = open_window()
    page = window.plugins_page
    page.select("adcopy.style-compliance")
    page.disable_button.click()
    release = threading.Event()
    scoring = window.context.jobs.start(BackgroundJob("slow scoring", lambda progress, cancel: release.wait(30),
                                                      kind="scoring"))
    try:
        add_product(qtbot, window, "Type: candle")
        job = window.generate()
        page.select("adcopy.style-compliance")
        assert not page.enable_button.isEnabled()  # no plugin reload under a running generation
        wait_for_job(qtbot, job)
        assert window.context.jobs.busy  # the scoring job is still running
        assert page.enable_button.isEnabled()
    finally:
        release.set()
        wait_for_job(qtbot, scoring)


def test_the_required_backend_cannot_be_disabled(qtbot, open_window):
    window = open_window()
    page = window.plugins_page
    page.select("adcopy.onnx-backend")
    assert not page.disable_button.isEnabled()


def test_install_a_plugin_from_a_wheel_file(qtbot, open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-throwaway")  # tests opt in by name
    window = open_window()
    wheel, _ = build_wheel(tmp_path)
    job = window.plugins_page.install(wheel)
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded", window.message_bar.texts()
    page = window.plugins_page
    assert page.row_texts("adcopy-style-throwaway")[:4] == ["adcopy-style-throwaway", "1.0", "plugin folder", "active"]
    assert "Installed adcopy-style-throwaway 1.0" in window.message_bar.text
    styles = [window.writer.panel.style_box.itemData(i) for i in range(window.writer.panel.style_box.count())]
    assert "wheelstyle" in styles
    page.select("adcopy-style-throwaway")
    assert page.remove_button.isEnabled()
    assert page.remove_selected()
    assert page.info("adcopy-style-throwaway") is None


def test_a_broken_wheel_is_refused_with_a_message(qtbot, open_window, tmp_path):
    window = open_window()
    wheel, _ = build_wheel(tmp_path, corrupt="adcopy_style_throwaway-1.0.dist-info/METADATA")
    job = window.plugins_page.install(wheel)
    wait_for_job(qtbot, job)
    assert job.outcome == "failed"
    assert window.message_bar.text.startswith("Installing adcopy_style_throwaway-1.0-py3-none-any.whl failed")


def test_safe_mode_shows_a_banner(qtbot, open_window):
    manager = PluginManager(entry_points=[], plugin_folder=False, safe_mode=True, allow="*", disabled=[])
    window = open_window(plugins=manager)
    assert not window.safe_banner.isHidden() and not window.plugins_page.banner.isHidden()
    assert "Safe mode" in window.safe_banner.text()


def test_with_no_scorer_the_cards_say_so(qtbot, open_window):
    manager = PluginManager(builtins=[("adcopy.onnx-backend", "adcopy_desktop.builtin.onnx_backend")],
                            entry_points=[], plugin_folder=False, safe_mode=False, allow="*", disabled=[])
    window = open_window(plugins=manager)
    add_product(qtbot, window, "Type: candle")
    generate(qtbot, window, n=1)
    card = window.writer.cards[0]
    assert card.scores == [] and "No scorers active" in card.scores_label.text()


SLEEPY_SCORER = '''
import time
from adcopy_desktop.core.plugins import Score, Scorer, hookimpl

def sleep_forever(candidate, context):
    time.sleep(3600)

@hookimpl
def register_scorers(register):
    register(Scorer(name="sleepy", score=sleep_forever))
'''


def test_the_window_stays_responsive_while_a_plugin_hangs(qtbot, open_window, tmp_path):
    from adcopy_desktop.core.plugins.wheels import install_wheel
    from adcopy_desktop.gui.responsiveness import StallMeter
    from tests.core.plugins.helpers import wheel_from_source

    install_wheel(wheel_from_source(tmp_path, "adcopy-scorer-sleepy", {"plugin": SLEEPY_SCORER}))
    manager = PluginManager(entry_points=[], safe_mode=False, allow=["adcopy-scorer-sleepy"], disabled=[],
                            deadlines={"scorer": 3.0})
    window = open_window(plugins=manager)
    # the window's start (the model's preload, its spare cards built one per loop turn) is over
    # before the plugin's hang is measured: importing ONNX Runtime holds the GIL for 40-70 ms
    # even on the preload's worker thread
    with qtbot.waitSignal(window.context.provider_loaded, timeout=60_000):
        window.show()
        qtbot.waitExposed(window)
    writer = window.writer
    qtbot.waitUntil(lambda: len(writer._pool) >= writer.panel.count_spin.maximum(), timeout=10_000)
    add_product(qtbot, window, "Type: teapot")
    qtbot.wait(100)
    meter = StallMeter(interval_ms=5)
    meter.start()
    qtbot.wait(50)
    job = generate(qtbot, window, n=2)
    report = meter.stop()
    print(f"\nGUI responsiveness while a scorer hangs for its 3 s deadline: {report.describe()}")
    assert job.outcome == "succeeded"
    assert report.seconds >= 3.0 and report.ticks > 100
    # target: every stall under 50 ms; 13-27 ms measured on a 2-core machine with a benchmark beside
    # it (docs/benchmarks.md); the longest one may reach 100 ms only when other work starves this test
    assert report.p99_gap_ms - report.interval_ms < 50 and report.longest_stall_ms < 100, report.describe()
    messages = " | ".join(window.message_bar.texts())
    assert "Plugin 'adcopy-scorer-sleepy' 1.0 (plugin folder) failed in scorer 'sleepy': did not answer within 3 s" \
        in messages
    assert all(card.candidate_id is not None for card in window.writer.cards)
    assert window.plugins_page.info("adcopy-scorer-sleepy").status == FAILED


def test_the_plugins_tab_shows_provenance_and_asks_before_an_unsigned_wheel(qtbot, open_window, tmp_path,
                                                                           monkeypatch):
    import hashlib

    from adcopy_desktop.core.plugins.wheels import install_wheel

    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-throwaway")
    wheel, _ = build_wheel(tmp_path)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    window = open_window()
    page = window.plugins_page
    seen = {}

    def cancel(dialog):
        seen["text"] = dialog.text() + "\n" + dialog.informativeText()
        return None

    assert not page.confirm_unsigned(wheel, ask=cancel)
    assert "is not signed" in seen["text"] and digest in seen["text"]
    assert page.confirm_unsigned(wheel, ask=lambda dialog: dialog.buttons()[0])
    install_wheel(wheel)
    page.reload()
    cell = page.table.item(page.infos.index(page.info("adcopy-style-throwaway")), 5)
    assert cell.text() == f"{wheel.name} · {digest[:12]}…"
    assert f"sha256: {digest}" in cell.toolTip() and "Signed: no" in cell.toolTip()
    assert "its own plugin host process" in cell.toolTip()
    assert page.row_texts("adcopy.csv-export")[5] == "part of AdCopy"


def test_a_wheel_signed_by_a_trusted_key_installs_without_asking_and_shows_its_signer(qtbot, open_window, tmp_path,
                                                                                     monkeypatch):
    from adcopy_desktop.core.plugins.signing import generate_key, sign_wheel
    from adcopy_desktop.core.plugins.wheels import install_wheel
    from adcopy_desktop.core.settings import save_settings

    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-throwaway")
    private, public = generate_key()
    wheel, _ = build_wheel(tmp_path)
    sign_wheel(wheel, private)
    settings = load_settings()
    settings.trusted_plugin_keys = [{"name": "Acme Agency", "key": public}]
    save_settings(settings)
    window = open_window()
    page = window.plugins_page
    asked = []
    assert page.confirm_unsigned(wheel, ask=asked.append) and not asked
    install_wheel(wheel)
    page.reload()
    cell = page.table.item(page.infos.index(page.info("adcopy-style-throwaway")), 5)
    assert "Signed: yes, by Acme Agency (key " in cell.toolTip()
    with wheel.open("ab") as stream:  # changed after signing: refused with a message, nothing asked
        stream.write(b"\0")
    assert not page.confirm_unsigned(wheel, ask=asked.append) and not asked
    assert "does not match" in window.message_bar.text


def test_after_a_crash_in_plugin_work_the_app_offers_safe_mode(qtbot, tmp_path):
    import json

    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.plugins.safe_mode import marker_folder
    from adcopy_desktop.gui.plugin_manager import offer_safe_mode_after_crash

    def plant_marker():
        marker_folder().mkdir(parents=True, exist_ok=True)
        (marker_folder() / "999999999.json").write_text(json.dumps({"pid": 999999999, "work": [
            {"plugin": "adcopy-crasher", "version": "1.0", "source": "plugin folder", "hook": "process_candidate",
             "since": 1.0}]}))

    plant_marker()
    seen = {}

    def press_safe(dialog):
        seen["text"] = dialog.text()
        return dialog.safe_button

    assert offer_safe_mode_after_crash(ask=press_safe)
    assert "'adcopy-crasher' 1.0 was working (process_candidate)" in seen["text"]
    assert get_plugin_manager().safe_mode
    assert not offer_safe_mode_after_crash(ask=press_safe)  # asked once per crash
    plant_marker()
    assert not offer_safe_mode_after_crash(ask=lambda dialog: dialog.normal_button)
