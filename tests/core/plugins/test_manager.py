"""Discovery and control: built-ins, entry points, the plugin folder, safe mode, the allow-list,
the settings' disabled list, and the process-wide manager."""

import json

import pytest

from adcopy_desktop.core.plugins import (
    ACTIVE,
    DISABLED,
    FAILED,
    SOURCE_BUILTIN,
    SOURCE_ENTRY_POINT,
    SOURCE_FOLDER,
    PluginManager,
    configure_plugins,
    current_plugin_manager,
    get_plugin_manager,
    reset_plugin_manager,
    set_plugin_manager,
)
from adcopy_desktop.builtin import BUILTIN_PLUGINS
from adcopy_desktop.paths import user_folders

from .helpers import entry_point, folder_plugin, style_plugin_code, write_module


def by_name(manager):
    return {info.name: info for info in manager.plugins()}


def test_builtins_load_first_through_the_same_hooks(make_manager):
    manager = make_manager()
    infos = manager.plugins()
    assert [info.name for info in infos] == [name for name, _ in BUILTIN_PLUGINS]
    assert all(info.source == SOURCE_BUILTIN and info.status == ACTIVE and info.hooks for info in infos)
    assert manager.problems == []
    assert "plain" in manager.styles() and "onnx" in manager.backends()
    assert "csv" in manager.exporters() and "text" in manager.importers()
    assert "style-compliance" in manager.scorers()


def test_entry_point_plugins_are_named_after_their_distribution(make_manager, module_dir):
    module = write_module(module_dir, style_plugin_code("alpha"))
    manager = make_manager(entry_points=[entry_point("alpha", module)])
    info = by_name(manager)["alpha"]
    assert info.source == SOURCE_ENTRY_POINT and info.status == ACTIVE
    assert info.hooks == ["register_styles"] and info.registered == {"style": ["alpha"]}
    assert manager.style("alpha").voice_for("en") == "Calm and alpha."


def test_plugin_folder_plugins_load_from_their_dist_info(make_manager, plugins_dir):
    folder_plugin(plugins_dir, "adcopy-style-beta", style_plugin_code("beta"), version="2.3")
    manager = make_manager()
    info = by_name(manager)["adcopy-style-beta"]
    assert (info.source, info.version, info.status) == (SOURCE_FOLDER, "2.3", ACTIVE)
    assert "beta" in manager.styles()
    assert str(plugins_dir / "adcopy-style-beta") in info.location


def test_closing_forgets_plugin_folder_modules(make_manager, plugins_dir):
    import sys

    _, module = folder_plugin(plugins_dir, "adcopy-style-gamma", style_plugin_code("gamma"))
    manager = make_manager(isolation="in-process")  # a plugin host keeps its modules to itself
    manager.load()
    assert module in sys.modules and str(plugins_dir / "adcopy-style-gamma") in sys.path
    manager.close()
    assert module not in sys.modules and str(plugins_dir / "adcopy-style-gamma") not in sys.path


def test_a_folder_without_metadata_is_reported_not_fatal(make_manager, plugins_dir):
    (plugins_dir / "stray").mkdir(parents=True)
    (plugins_dir / ".install-half-done").mkdir()
    manager = make_manager()
    info = by_name(manager)["stray"]
    assert info.status == FAILED and "dist-info" in info.reason
    assert ".install-half-done" not in by_name(manager)
    assert "plain" in manager.styles()


def test_same_name_twice_fails_the_later_one(make_manager, module_dir, plugins_dir):
    module = write_module(module_dir, style_plugin_code("delta"))
    ep = entry_point("delta", module)
    folder_plugin(plugins_dir, "delta", style_plugin_code("delta2"))
    manager = make_manager(entry_points=[ep])
    infos = [info for info in manager.plugins() if info.name == "delta"]
    assert [info.status for info in infos] == [ACTIVE, FAILED]
    assert "already loaded from entry point" in infos[1].reason


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_safe_mode_loads_no_third_party_plugin(make_manager, module_dir, plugins_dir, monkeypatch, how):
    module = write_module(module_dir, style_plugin_code("epsilon"))
    folder_plugin(plugins_dir, "zeta", style_plugin_code("zeta"))
    if how == "environment":
        monkeypatch.setenv("ADCOPY_SAFE_MODE", "1")
        manager = make_manager(entry_points=[entry_point("epsilon", module)], safe_mode=None)
    else:
        manager = make_manager(entry_points=[entry_point("epsilon", module)], safe_mode=True)
    infos = by_name(manager)
    for name in ("epsilon", "zeta"):
        assert infos[name].status == DISABLED and "safe mode" in infos[name].reason
    assert set(manager.styles()) == {"plain"}
    assert all(info.status == ACTIVE for info in infos.values() if info.source == SOURCE_BUILTIN)


def test_allow_list_names_the_third_party_plugins_to_load(make_manager, module_dir, plugins_dir, monkeypatch):
    eta = write_module(module_dir, style_plugin_code("eta"))
    theta = write_module(module_dir, style_plugin_code("theta"))
    folder_plugin(plugins_dir, "Iota_Plugin", style_plugin_code("iota"))
    monkeypatch.setenv("ADCOPY_PLUGINS", " eta , iota-plugin")
    manager = make_manager(entry_points=[entry_point("eta", eta), entry_point("theta", theta)], allow=None)
    infos = by_name(manager)
    assert infos["eta"].status == ACTIVE and infos["iota-plugin"].status == ACTIVE
    assert infos["theta"].status == DISABLED and "ADCOPY_PLUGINS" in infos["theta"].reason
    assert {"eta", "iota"} <= set(manager.styles()) and "theta" not in manager.styles()


def test_empty_allow_list_means_no_third_party_plugins(make_manager, module_dir, monkeypatch):
    kappa = write_module(module_dir, style_plugin_code("kappa"))
    monkeypatch.setenv("ADCOPY_PLUGINS", "")
    manager = make_manager(entry_points=[entry_point("kappa", kappa)], allow=None)
    assert by_name(manager)["kappa"].status == DISABLED
    assert all(info.status == ACTIVE for info in manager.plugins() if info.builtin)


def test_settings_disable_plugins_but_not_required_builtins(make_manager, module_dir):
    from adcopy_desktop.core.settings import Settings, save_settings

    lam = write_module(module_dir, style_plugin_code("lam"))
    save_settings(Settings(disabled_plugins=["lam", "adcopy.csv-export", "adcopy.onnx-backend"]))
    manager = make_manager(entry_points=[entry_point("lam", lam)], disabled=None)
    infos = by_name(manager)
    assert infos["lam"].status == DISABLED and "disabled_plugins" in infos["lam"].reason
    assert infos["adcopy.csv-export"].status == DISABLED and "csv" not in manager.exporters()
    assert infos["adcopy.onnx-backend"].status == ACTIVE and "onnx" in manager.backends()


def test_unknown_names_list_what_is_available(make_manager):
    from adcopy_desktop.core.errors import PluginError, StyleError

    manager = make_manager()
    with pytest.raises(StyleError, match="Unknown style 'nope'. Available styles: plain"):
        manager.style("nope")
    with pytest.raises(PluginError, match="Unknown backend 'gpu'. Available backends: onnx"):
        manager.backend("gpu")


def test_plugin_info_serialises_for_plugins_list(make_manager):
    data = json.loads(json.dumps([info.to_dict() for info in make_manager().plugins()]))
    assert {"name", "version", "source", "hooks", "status", "reason", "registered"} <= set(data[0])


def test_each_manager_is_independent(make_manager, module_dir):
    module = write_module(module_dir, style_plugin_code("mu"))
    first = make_manager(entry_points=[entry_point("mu", module)])
    second = make_manager()
    assert "mu" in first.styles() and "mu" not in second.styles()


def test_the_process_wide_manager_is_replaceable_and_reset(make_manager):
    assert current_plugin_manager() is None
    default = get_plugin_manager()
    assert get_plugin_manager() is default and not default.loaded
    assert default.plugin_folder == user_folders().plugins
    configure_plugins(safe_mode=True)
    assert get_plugin_manager() is not default and get_plugin_manager().safe_mode
    mine = make_manager()
    set_plugin_manager(mine)
    assert get_plugin_manager() is mine
    reset_plugin_manager()
    assert current_plugin_manager() is None
    assert not get_plugin_manager().safe_mode


def test_tests_do_not_see_plugins_installed_on_this_machine():
    manager = PluginManager()
    third_party = [info for info in manager.plugins() if not info.builtin]
    assert all(info.status == DISABLED for info in third_party)
    manager.close()


def test_a_loaded_plugin_folder_is_not_rediscovered_as_an_installed_package(make_manager, plugins_dir):
    folder_plugin(plugins_dir, "adcopy-style-nu", style_plugin_code("nu"))
    first = make_manager()
    first.load()  # puts the plugin's folder on sys.path, where importlib.metadata can see its dist-info
    second = make_manager(entry_points=None)
    sources = [info.source for info in second.plugins() if info.name == "adcopy-style-nu"]
    assert sources == [SOURCE_FOLDER]


def test_a_malformed_disabled_plugins_setting_is_ignored():
    from adcopy_desktop.core.settings import load_settings

    path = user_folders().settings_file
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"disabled_plugins": "adcopy.csv-export"}))
    assert load_settings().disabled_plugins == []
