"""The plugin commands and plugin options of the adcopy command, and the example plugin end to end."""

import csv
import importlib.metadata
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.core.plugins import BrandStyle, hookimpl, reset_plugin_manager, set_plugin_manager
from adcopy_desktop.core.plugins.testing import plugin_manager_for, scripted_backend
from adcopy_desktop.paths import user_folders

from tests.core.plugins.helpers import build_wheel, folder_plugin, style_plugin_code
from tests.model_factory import build_tiny_model

EN_PRODUCT = "Type: green tea\nOrigin: high mountain"
ZH_PRODUCT = "类型#绿茶*产地#高山*采摘#明前"
EXAMPLE_PLUGIN = "adcopy-style-qingshan"


def run(*args: str, keep_manager: bool = False):
    """One adcopy invocation; like a new process, it starts with a fresh plugin manager unless the
    test installed its own (set_plugin_manager)."""
    if not keep_manager:
        reset_plugin_manager()
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="session")
def long_context_models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with room for a styled prompt: its byte-level vocabulary of 600 tokens makes a
    prompt with brand voice, examples and word rules longer than the usual tiny model's 1024."""
    from adcopy_desktop.core.model_store import ModelStore

    hf = build_tiny_model(tmp_path_factory.mktemp("tiny-long-hf") / "tiny-llama-long", context_length=4096)
    root = tmp_path_factory.mktemp("tiny-long-store") / "models"
    ModelStore(root).import_model(hf, name="tiny-llama-long", languages=["en", "zh"], activate=True)
    return root


@pytest.fixture
def long_context_store(long_context_models_root: Path, isolated_home: Path):
    from adcopy_desktop.core.model_store import ModelStore

    models = user_folders().models
    models.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(long_context_models_root, models)
    return ModelStore(models)


def listed(*args):
    result = run(*args, "plugins", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return {info["name"]: info for info in json.loads(result.stdout)}, result


def test_help_lists_the_plugin_commands():
    assert "--safe-mode" in run("--help").output
    assert {"list", "install", "remove"} <= set(run("plugins", "--help").output.split())
    generate_help = run("generate", "--help").output
    for option in ("--style", "--backend", "--export", "--exporter"):
        assert option in generate_help


def test_plugins_list_shows_name_version_source_hooks_and_status():
    plugins, _ = listed()
    csv_plugin = plugins["adcopy.csv-export"]
    assert csv_plugin["source"] == "built-in" and csv_plugin["status"] == "active"
    assert csv_plugin["hooks"] == ["register_exporters"] and csv_plugin["registered"] == {"exporter": ["csv"]}
    assert csv_plugin["version"]
    text = run("plugins", "list").stdout
    assert "adcopy.plain-style" in text and "built-in" in text and "hooks: register_styles" in text


def test_a_failed_plugin_is_listed_and_warned_about_on_stderr(monkeypatch):
    folder_plugin(user_folders().plugins, "adcopy-broken", "raise RuntimeError('missing licence file')", "0.1")
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-broken")
    plugins, result = listed()
    assert plugins["adcopy-broken"]["status"] == "failed"
    assert plugins["adcopy-broken"]["source"] == "plugin folder" and plugins["adcopy-broken"]["version"] == "0.1"
    assert "missing licence file" in plugins["adcopy-broken"]["reason"]
    assert ("warning: plugin 'adcopy-broken' 0.1 (plugin folder) failed in import: RuntimeError: missing licence "
            "file; it is disabled for this session") in result.stderr
    styles = run("styles", "list")
    assert styles.exit_code == 0 and "plain" in styles.stdout and "adcopy-broken" in styles.stderr


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_safe_mode_starts_without_third_party_plugins(monkeypatch, how):
    folder_plugin(user_folders().plugins, "adcopy-style-folder", style_plugin_code("folderstyle"))
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-folder")
    plugins, _ = listed()
    assert plugins["adcopy-style-folder"]["status"] == "active"
    if how == "flag":
        plugins, _ = listed("--safe-mode")
        text = run("--safe-mode", "plugins", "list").stdout
        assert "(safe mode: third-party plugins are not loaded)" in text
    else:
        monkeypatch.setenv("ADCOPY_SAFE_MODE", "1")
        plugins, _ = listed()
    assert plugins["adcopy-style-folder"]["status"] == "disabled"
    assert "safe mode" in plugins["adcopy-style-folder"]["reason"]
    assert all(info["status"] == "active" for info in plugins.values() if info["source"] == "built-in")


def test_install_list_and_remove_a_wheel(tmp_path, monkeypatch):
    wheel, _ = build_wheel(tmp_path, "adcopy-style-throwaway", "1.0")
    result = run("plugins", "install", str(wheel), "--yes")
    assert result.exit_code == 0, result.output
    assert "Installed adcopy-style-throwaway 1.0 into" in result.stdout
    assert "It loads and provides styles: wheelstyle." in result.stdout
    assert (user_folders().plugins / "adcopy-style-throwaway").is_dir()
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-throwaway")
    plugins, _ = listed()
    assert plugins["adcopy-style-throwaway"]["source"] == "plugin folder"
    assert plugins["adcopy-style-throwaway"]["status"] == "active"
    assert "wheelstyle" in run("styles", "list").stdout
    result = run("plugins", "remove", "adcopy-style-throwaway")
    assert result.exit_code == 0 and "Removed adcopy-style-throwaway" in result.stdout
    assert "adcopy-style-throwaway" not in listed()[0]
    again = run("plugins", "remove", "adcopy-style-throwaway")
    assert again.exit_code != 0 and "No plugin 'adcopy-style-throwaway'" in again.output


def test_install_refuses_a_bad_wheel_and_reports_a_broken_one(tmp_path):
    platform_wheel, _ = build_wheel(tmp_path, tag="cp311-cp311-win_amd64")
    refused = run("plugins", "install", str(platform_wheel))
    assert refused.exit_code != 0 and "only pure-Python wheels" in refused.output
    package = "adcopy_broken_wheel_pkg"
    broken, _ = build_wheel(tmp_path, "adcopy-broken-wheel", files={f"{package}.py": "raise ImportError('no')"},
                            entry_points=f"[adcopy]\nbroken = {package}\n")
    result = run("plugins", "install", str(broken), "--yes")
    assert result.exit_code != 0
    assert "is installed but does not load: import: ImportError: no" in result.output
    assert "adcopy plugins remove adcopy-broken-wheel" in result.output


def test_styles_list_shows_languages_and_provider():
    result = run("styles", "list", "--format", "json")
    [plain] = [style for style in json.loads(result.stdout) if style["name"] == "plain"]
    assert plain["plugin"] == "adcopy.plain-style" and plain["languages"] == ["zh", "en"]


def test_generate_with_an_unknown_style_lists_the_available_ones():
    result = run("generate", "--product", EN_PRODUCT, "--style", "nope")
    assert result.exit_code != 0
    assert "Unknown style 'nope'. Available styles: plain" in result.output


class TeaStyle:
    @hookimpl
    def register_styles(self, register):
        register(BrandStyle.from_dict({"name": "teabrand", "voice": "Calm.", "forbidden_words": {"en": ["best"]}}))


def test_generate_flags_forbidden_words_and_exports_csv(tmp_path):
    backend = scripted_backend([["The best tea.", "Calm tea."], ["Still the best."]])
    set_plugin_manager(plugin_manager_for(TeaStyle(), backend))
    export = tmp_path / "copy.csv"
    result = run("generate", "--product", EN_PRODUCT, "--backend", "scripted", "--style", "teabrand", "-n", "2",
                 "--seed", "1", "--format", "json", "--export", str(export), keep_manager=True)
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.stdout)
    assert first["text"] == "Still the best." and first["style"] == "teabrand" and first["model"] == "scripted"
    assert first["flags"][0]["rule"] == "forbidden_word" and first["flags"][0]["word"] == "best"
    assert second["flags"] == []
    rows = list(csv.DictReader(export.read_text(encoding="utf-8-sig").splitlines()))
    assert [row["text"] for row in rows] == ["Still the best.", "Calm tea."]
    assert "'best' is forbidden" in rows[0]["flags"]
    assert f"exported 2 candidate(s) to {export}" in result.stderr
    text = run("generate", "--product", EN_PRODUCT, "--backend", "scripted", "--style", "teabrand", "-n", "1",
               keep_manager=True)
    assert "! 'best' is forbidden by the style 'teabrand'" in text.stdout
    assert "model: scripted on scripted, style teabrand" in text.stderr


def test_generate_refuses_an_export_nobody_can_write_before_generating():
    backend = scripted_backend([["x"]])
    set_plugin_manager(plugin_manager_for(backend))
    result = run("generate", "--product", EN_PRODUCT, "--backend", "scripted", "--export", "copy.docx",
                 keep_manager=True)
    assert result.exit_code != 0 and "No exporter writes '.docx' files" in result.output
    assert backend.calls == []


def test_a_wheel_installed_style_is_used_by_generate(tiny_store, tmp_path, monkeypatch):
    wheel, _ = build_wheel(tmp_path, "adcopy-style-throwaway", "1.0")
    assert run("plugins", "install", str(wheel), "--yes").exit_code == 0
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-throwaway")
    result = run("generate", "--product", EN_PRODUCT, "--style", "wheelstyle", "--kind", "title", "-n", "1",
                 "--max-new-tokens", "4", "--seed", "2", "--format", "json", "--show-prompt")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["style"] == "wheelstyle"
    assert "Brand voice: Calm and wheelstyle." in result.stderr


# -- the example plugin in plugins/, installed by the README test command -------------------------


@pytest.fixture
def example_plugin(monkeypatch):
    try:
        importlib.metadata.distribution(EXAMPLE_PLUGIN)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{EXAMPLE_PLUGIN} is not installed: run bash scripts/setup.sh (it installs plugins/*)")
    monkeypatch.setenv("ADCOPY_PLUGINS", EXAMPLE_PLUGIN)


def test_the_example_plugin_is_found_through_its_entry_point(example_plugin):
    plugins, result = listed()
    info = plugins[EXAMPLE_PLUGIN]
    assert info["source"] == "entry point" and info["status"] == "active" and info["version"] == "1.0.0"
    assert info["hooks"] == ["process_candidate", "register_styles"]
    assert info["registered"] == {"style": ["qingshan"]}
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("product", "language", "voice", "example"),
    [
        (EN_PRODUCT, "en", "Quiet, warm and precise, like a grower", "One mountain, one tea. Take your time."),
        (ZH_PRODUCT, "zh", "安静、克制、有温度", "一山一茶，慢慢喝。"),
    ],
)
def test_the_example_style_is_applied_by_generate(example_plugin, long_context_store, product, language, voice,
                                                  example):
    result = run("generate", "--product", product, "--style", "qingshan", "--kind", "slogan", "--lang", language,
                 "-n", "2", "--max-new-tokens", "6", "--seed", "5", "--format", "json", "--show-prompt")
    assert result.exit_code == 0, result.output
    candidates = json.loads(result.stdout)
    assert len(candidates) == 2
    assert all(c["style"] == "qingshan" and c["language"] == language for c in candidates)
    assert all(isinstance(c["flags"], list) for c in candidates)
    assert voice in result.stderr and example in result.stderr
    assert "style: qingshan" in result.stderr
    required = "Qingshan" if language == "en" else "青山"
    assert required in result.stderr  # the required brand word, from the built-in word-rules plugin


def test_the_example_style_is_not_loaded_in_safe_mode(example_plugin, tiny_store):
    result = run("--safe-mode", "generate", "--product", EN_PRODUCT, "--style", "qingshan")
    assert result.exit_code != 0
    assert "Unknown style 'qingshan'" in result.output and "safe mode" in result.output


def test_install_warns_before_an_unsigned_wheel_and_list_shows_its_provenance(tmp_path, monkeypatch):
    import hashlib

    wheel, _ = build_wheel(tmp_path, "adcopy-style-throwaway", "1.0")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    refused = run("plugins", "install", str(wheel))
    assert refused.exit_code != 0
    assert f"is not signed, so AdCopy cannot tell who built it. sha256 {digest}" in refused.stderr
    assert "Run again with --yes" in refused.output
    assert not (user_folders().plugins / "adcopy-style-throwaway").exists()
    assert run("plugins", "install", str(wheel), "--yes").exit_code == 0
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-throwaway")
    plugins, _ = listed()
    provenance = plugins["adcopy-style-throwaway"]["provenance"]
    assert provenance["sha256"] == digest and provenance["source"] == str(wheel.resolve())
    assert provenance["installed"] and provenance["signed"] is False
    assert plugins["adcopy-style-throwaway"]["runs_in"] == "plugin host"
    text = run("plugins", "list").stdout
    assert f"from: {wheel.resolve()} (sha256 {digest}, installed " in text and "runs in: plugin host" in text


def test_keygen_sign_trust_then_install_a_signed_wheel_without_the_warning(tmp_path, monkeypatch):
    import hashlib

    key = tmp_path / "publisher.pem"
    made = run("plugins", "keygen", str(key))
    assert made.exit_code == 0, made.output
    public = made.stdout.strip().rsplit(" ", 1)[-1]
    assert run("plugins", "keygen", str(key)).exit_code != 0  # never overwritten
    wheel, _ = build_wheel(tmp_path, "adcopy-style-throwaway", "1.0")
    signed = run("plugins", "sign", str(wheel), "--key", str(key))
    assert signed.exit_code == 0 and (tmp_path / (wheel.name + ".sig")).is_file(), signed.output
    # a signature but no trusted key: unsigned, so it asks
    unsure = run("plugins", "install", str(wheel))
    assert unsure.exit_code != 0 and "no trusted keys are set" in unsure.stderr
    trusted = run("plugins", "trust", "Acme Agency", public)
    assert trusted.exit_code == 0 and "Trusting wheels signed by Acme Agency" in trusted.stdout
    installed = run("plugins", "install", str(wheel))  # no --yes, no terminal: it does not ask
    assert installed.exit_code == 0, installed.output
    assert "is signed by Acme Agency (key " in installed.stderr and "warning" not in installed.stderr
    monkeypatch.setenv("ADCOPY_PLUGINS", "adcopy-style-throwaway")
    plugins, _ = listed()
    provenance = plugins["adcopy-style-throwaway"]["provenance"]
    assert provenance["signed"] is True and provenance["signer"] == "Acme Agency"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f"sha256 {digest}, installed " in run("plugins", "list").stdout
    assert ", signed by Acme Agency (key " in run("plugins", "list").stdout
    # changed after signing: refused
    with wheel.open("ab") as stream:
        stream.write(b"\0")
    refused = run("plugins", "install", str(wheel), "--yes")
    assert refused.exit_code != 0 and "does not match" in refused.output
    assert run("plugins", "trust", "Acme Agency", "--remove").exit_code == 0
    assert run("plugins", "trust", "Acme Agency", "--remove").exit_code != 0


CRASHING_SCORER = """
import os
from adcopy_desktop.core.plugins import Scorer, hookimpl

def crash(candidate, context):
    os._exit(3)

@hookimpl
def register_scorers(register):
    register(Scorer(name="crash", score=crash))

@hookimpl
def process_candidate(candidate):
    os._exit(3)
"""


def test_a_hook_that_calls_os_exit_does_not_end_the_command(tmp_path):
    from adcopy_desktop.core.plugins import PluginManager

    from tests.core.plugins.helpers import wheel_from_source

    wheel = wheel_from_source(tmp_path, "adcopy-crasher", {"plugin": CRASHING_SCORER})
    assert run("plugins", "install", str(wheel), "--yes").exit_code == 0
    manager = PluginManager(entry_points=[], allow=["adcopy-crasher"], disabled=[], safe_mode=False)
    manager.add_plugin(scripted_backend([["Green tea one", "Green tea two"]]), name="test.scripted")
    set_plugin_manager(manager)
    result = run("generate", "--product", EN_PRODUCT, "--backend", "scripted", "-n", "2", "--format", "json",
                 keep_manager=True)
    assert result.exit_code == 0, result.output
    assert [c["text"] for c in json.loads(result.stdout)] == ["Green tea one", "Green tea two"]
    assert ("warning: plugin 'adcopy-crasher' 1.0 (plugin folder) failed in process_candidate: its plugin host "
            "died (exit code 3); it is started again for the next call") in result.stderr
    assert "died (exit code 3); it is disabled for this session" in result.stderr


def test_after_the_app_died_in_plugin_work_the_next_run_names_the_plugin_and_offers_safe_mode(tmp_path):
    """With the plugin in the app's process (plugin_isolation "in-process"), os._exit takes the app
    down; the marker names it at the next start, once."""
    import subprocess
    import sys

    from adcopy_desktop.core.settings import Settings, save_settings

    from tests.core.plugins.helpers import wheel_from_source

    wheel = wheel_from_source(tmp_path, "adcopy-crasher", {"plugin": CRASHING_SCORER})
    assert run("plugins", "install", str(wheel), "--yes").exit_code == 0
    save_settings(Settings(plugin_isolation="in-process"))
    env = {**os.environ, "ADCOPY_PLUGINS": "adcopy-crasher"}
    died = subprocess.run([sys.executable, "-m", "adcopy_desktop", "score", "--product", EN_PRODUCT, "--kind",
                           "title", "--text", "Green tea"], env=env, capture_output=True, text=True, timeout=120)
    assert died.returncode == 3, died.stderr
    result = run("plugins", "list")
    assert ("warning: AdCopy stopped unexpectedly last time while plugin 'adcopy-crasher' 1.0 (plugin folder) "
            "was working in scorer 'crash'. If AdCopy stops again, run it with --safe-mode") in result.stderr
    assert "crash" not in run("plugins", "list").stderr  # reported once
    assert "--safe-mode" in run("--help").output


def test_in_a_plugin_host_the_same_crash_leaves_the_command_standing(tmp_path):
    import subprocess
    import sys

    from tests.core.plugins.helpers import wheel_from_source

    wheel = wheel_from_source(tmp_path, "adcopy-crasher", {"plugin": CRASHING_SCORER})
    assert run("plugins", "install", str(wheel), "--yes").exit_code == 0
    env = {**os.environ, "ADCOPY_PLUGINS": "adcopy-crasher"}
    survived = subprocess.run([sys.executable, "-m", "adcopy_desktop", "score", "--product", EN_PRODUCT, "--kind",
                               "title", "--text", "Green tea"], env=env, capture_output=True, text=True, timeout=120)
    assert survived.returncode == 0, survived.stderr
    assert "faithfulness" in survived.stdout
    assert "plugin 'adcopy-crasher' 1.0 (plugin folder) failed in scorer 'crash': its plugin host died" \
        in survived.stderr
    assert "stopped unexpectedly" not in run("plugins", "list").stderr
