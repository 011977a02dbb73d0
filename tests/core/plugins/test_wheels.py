"""Installing plugins from wheels without pip: checks, atomic unpacking, loading, removal."""

import zipfile

import pytest

from adcopy_desktop.core.errors import PluginError
from adcopy_desktop.core.plugins import ACTIVE, SOURCE_FOLDER
from adcopy_desktop.core.plugins.wheels import inspect_wheel, install_wheel, installed_plugins, remove_plugin

from .helpers import build_wheel, style_plugin_code


def test_install_load_and_remove(tmp_path, plugins_dir, make_manager):
    wheel, package = build_wheel(tmp_path, "adcopy-style-throwaway", "1.0")
    info = inspect_wheel(wheel, plugins_dir)
    assert (info.name, info.version) == ("adcopy-style-throwaway", "1.0")
    assert info.entry_points == (f"wheelstyle = {package}.plugin",) and info.top_level == (package,)
    installed = install_wheel(wheel, plugins_dir)
    assert installed.folder == plugins_dir / "adcopy-style-throwaway" and installed.replaced_version is None
    assert (installed.folder / package / "plugin.py").is_file()
    assert (installed.folder / "adcopy_style_throwaway-1.0.dist-info" / "INSTALLER").read_text() == "adcopy\n"
    assert installed_plugins(plugins_dir) == ["adcopy-style-throwaway"]
    assert not [p for p in plugins_dir.iterdir() if p.name.startswith(".")]  # no staging left behind

    manager = make_manager()
    plugin = next(i for i in manager.plugins() if i.name == "adcopy-style-throwaway")
    assert (plugin.source, plugin.version, plugin.status) == (SOURCE_FOLDER, "1.0", ACTIVE)
    assert "wheelstyle" in manager.styles()
    manager.close()

    assert remove_plugin("adcopy_style_throwaway", plugins_dir) == plugins_dir / "adcopy-style-throwaway"
    assert installed_plugins(plugins_dir) == []
    assert "wheelstyle" not in make_manager().styles()


def test_a_new_version_replaces_the_old_one(tmp_path, plugins_dir):
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    old, package = build_wheel(tmp_path / "v1", "adcopy-style-throwaway", "1.0")
    install_wheel(old, plugins_dir)
    new, new_package = build_wheel(tmp_path / "v2", "adcopy-style-throwaway", "1.1")
    installed = install_wheel(new, plugins_dir)
    assert installed.replaced_version == "1.0" and installed.version == "1.1"
    assert not (installed.folder / package).exists() and (installed.folder / new_package).is_dir()
    assert [p.name for p in installed.folder.glob("*.dist-info")] == ["adcopy_style_throwaway-1.1.dist-info"]


def _zip_with(tmp_path, name, members):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: build_wheel(t, filename="plugin.zip")[0], "is not a wheel file name"),
        (lambda t: build_wheel(t, tag="cp311-cp311-linux_x86_64")[0], "only pure-Python wheels (py3-none-any)"),
        (lambda t: build_wheel(t, tag="py2-none-any")[0], "only pure-Python wheels"),
        (lambda t: build_wheel(t, entry_points=None)[0], "declares no entry point in the 'adcopy' group"),
        (lambda t: build_wheel(t, entry_points="[console_scripts]\nx = y:z\n")[0], "no entry point in the 'adcopy' group"),
        (lambda t: build_wheel(t, metadata_name="something-else")[0], "METADATA says 'something-else'"),
        (lambda t: build_wheel(t, purelib=False)[0], "Root-Is-Purelib: true"),
        (lambda t: build_wheel(t, files={"evil/__init__.py": "", "evil/plugin.py": "x = 1"},
                               corrupt="evil/plugin.py")[0], "does not match its RECORD checksum"),
        (lambda t: build_wheel(t, files={"../escape.py": "x = 1"})[0], "unsafe path '../escape.py'"),
        (lambda t: build_wheel(t, files={"/abs.py": "x = 1"})[0], "unsafe path '/abs.py'"),
        (lambda t: build_wheel(t, files={"pkg/fast.so": "ELF"})[0], "compiled code"),
        (lambda t: build_wheel(t, files={"adcopy_style_throwaway-1.0.data/scripts/run": "#!"})[0], ".data/"),
        (lambda t: build_wheel(t, files={"json/__init__.py": ""}, entry_points="[adcopy]\nx = json\n")[0],
         "provides the module 'json', which already exists"),
        (lambda t: build_wheel(t, files={"adcopy_desktop/__init__.py": ""},
                               entry_points="[adcopy]\nx = adcopy_desktop\n")[0], "module 'adcopy_desktop'"),
        (lambda t: build_wheel(t, "pluggy", files={"pluggy/__init__.py": ""}, entry_points="[adcopy]\nx = pluggy\n")[0],
         "already installed in AdCopy's Python environment"),
        (lambda t: _zip_with(t, "adcopy_x-1.0-py3-none-any.whl", {"a.py": ""}), "exactly one .dist-info"),
        (lambda t: (t / "adcopy_x-1.0-py3-none-any.whl").write_bytes(b"not a zip") and
         t / "adcopy_x-1.0-py3-none-any.whl", "not a valid wheel (zip) file"),
    ],
)
def test_bad_wheels_are_refused_with_a_reason(tmp_path, plugins_dir, make, message):
    wheel = make(tmp_path)
    with pytest.raises(PluginError) as raised:
        install_wheel(wheel, plugins_dir)
    assert message in str(raised.value)
    assert installed_plugins(plugins_dir) == []


def test_a_module_another_folder_plugin_provides_is_refused(tmp_path, plugins_dir):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    files = {"shared_brand_pkg/__init__.py": "", "shared_brand_pkg/plugin.py": style_plugin_code("one")}
    first, _ = build_wheel(tmp_path / "a", "adcopy-style-one", files=files,
                           entry_points="[adcopy]\none = shared_brand_pkg.plugin\n")
    second, _ = build_wheel(tmp_path / "b", "adcopy-style-two", files=files,
                            entry_points="[adcopy]\ntwo = shared_brand_pkg.plugin\n")
    install_wheel(first, plugins_dir)
    with pytest.raises(PluginError, match="the installed plugin 'adcopy-style-one' already provides"):
        install_wheel(second, plugins_dir)


def test_removing_an_unknown_plugin_lists_what_is_installed(tmp_path, plugins_dir):
    install_wheel(build_wheel(tmp_path)[0], plugins_dir)
    with pytest.raises(PluginError, match=r"No plugin 'nope'.*installed there: adcopy-style-throwaway"):
        remove_plugin("nope", plugins_dir)


def test_removing_a_pip_installed_plugin_points_to_pip(plugins_dir):
    with pytest.raises(PluginError, match="pip uninstall pluggy"):
        remove_plugin("pluggy", plugins_dir)


def test_a_failed_unpack_leaves_nothing_behind(tmp_path, plugins_dir, monkeypatch):
    import adcopy_desktop.core.plugins.wheels as wheels

    wheel, _ = build_wheel(tmp_path)

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(wheels.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        install_wheel(wheel, plugins_dir)
    assert list(plugins_dir.iterdir()) == []
