"""Fast checks of everything in packaging/ (no freezing): the bundles' exclude lists, the spec
that uses them, the .deb control files and maintainer scripts, the desktop entry
(desktop-file-validate when installed), the AppRun, the NSIS script (makensis -NOCONFIG -DSTUB
when installed), the build scripts and the release workflow."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def bundle_config():
    spec = importlib.util.spec_from_file_location("bundle_config", PACKAGING / "bundle_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lite_leaves_out_the_training_stack_and_full_keeps_it():
    config = bundle_config()
    lite, full = set(config.excludes("lite")), set(config.excludes("full"))
    for name in ("torch", "transformers", "peft", "optimum", "accelerate", "gguf"):
        assert name in lite
        assert name not in full
    for runtime in ("onnxruntime", "tokenizers", "numpy", "PySide6", "PySide6.QtWidgets", "PySide6.QtGui",
                    "PySide6.QtCore", "onnx", "pyqtgraph", "jinja2", "keyring", "httpx"):
        assert runtime not in lite, f"{runtime} is needed at run time"
    for needed in config.QT_MODULES_NEEDED:  # pyqtgraph imports QtOpenGL(Widgets) unconditionally
        assert needed not in lite
    with pytest.raises(ValueError):
        config.excludes("medium")


def test_every_edition_drops_unused_qt_parts_and_foreign_translations():
    config = bundle_config()
    for edition in config.EDITIONS:
        excluded = set(config.excludes(edition))
        assert {"PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtMultimedia",
                "tkinter", "pytest", "PyInstaller"} <= excluded
    assert config.dropped("PySide6/Qt/lib/libQt6WebEngineCore.so.6")
    assert config.dropped("PySide6/Qt/plugins/sqldrivers/libqsqlite.so")
    assert config.dropped("PySide6/Qt/translations/qtbase_de.qm")
    assert not config.dropped("PySide6/Qt/translations/qtbase_zh_CN.qm")
    assert not config.dropped("PySide6/Qt/lib/libQt6Widgets.so.6")
    assert not config.dropped("PySide6/Qt/plugins/platforms/libqxcb.so")
    assert not config.dropped("PySide6/Qt/plugins/platforms/libqoffscreen.so")
    assert not config.dropped("resources/translations/adcopy_zh_CN.ts")
    assert config.LITE_SIZE_LIMIT_MB == 350


def test_the_full_edition_drops_torchs_test_programs_but_not_its_libraries():
    config = bundle_config()
    for test_file in ("torch/test/c10_Synchronized_test", "torch/bin/test_api", "torch/bin/TCPStoreTest",
                      "torch/bin/protoc-3.13.0.0", "torch/lib/libtorchbind_test.so",
                      "torch\\lib\\libjitbackend_test.so"):
        assert config.dropped(test_file), test_file
    for needed in ("torch/lib/libtorch_cpu.so", "torch/lib/libc10.so", "torch/lib/libgomp.so.1",
                   "torch/bin/torch_shm_manager", "torch/testing/_comparison.py", "torch/lib/libshm.so"):
        assert not config.dropped(needed), needed
    for edition in config.EDITIONS:
        assert {"onnxruntime_genai", "hf_xet"} <= set(config.excludes(edition))


def test_the_full_edition_finds_onnxruntimes_top_level_imports():
    # onnxruntime.quantization -> onnxruntime.transformers.onnx_utils -> `from fusion_utils import`:
    # without the folder on the analysis path the frozen model build failed at its int8 step
    config = bundle_config()
    assert config.top_level_folders("lite") == []
    onnxruntime = pytest.importorskip("onnxruntime")
    site_packages = Path(onnxruntime.__file__).resolve().parents[1]
    for rel in config.top_level_folders("full"):
        assert (site_packages / rel).is_dir(), rel
    onnx_utils = site_packages / "onnxruntime" / "transformers" / "onnx_utils.py"
    if onnx_utils.is_file():
        assert "onnxruntime/transformers" in config.top_level_folders("full")
    text = (PACKAGING / "adcopy.spec").read_text(encoding="utf-8")
    assert "bundle_config.top_level_folders(EDITION)" in text


def test_the_full_edition_bundles_every_transformers_model_package():
    # AutoTokenizer on a Llama folder imports transformers.models.ernie4_5 first (its mapping lists
    # LlamaTokenizerFast too): the frozen trainer failed there while it was not bundled
    config = bundle_config()
    transformers = pytest.importorskip("transformers")
    site_packages = Path(transformers.__file__).resolve().parents[1]
    packages = config.transformers_model_packages(site_packages)
    assert {"transformers.models.llama", "transformers.models.qwen2", "transformers.models.auto"} <= set(packages)
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES
    from transformers.models.auto.configuration_auto import model_type_to_module_name

    for model_type in TOKENIZER_MAPPING_NAMES:
        module = model_type_to_module_name(model_type)
        if (site_packages / "transformers" / "models" / module / "__init__.py").is_file():
            assert f"transformers.models.{module}" in packages
    assert config.transformers_model_packages(site_packages / "nowhere") == []
    assert "bundle_config.transformers_model_packages(site_packages)" in (PACKAGING / "adcopy.spec").read_text()


def test_the_helper_modules_started_by_name_are_bundled():
    config = bundle_config()
    assert "adcopy_desktop.core.plugins.host" in config.hidden_imports("lite")
    full = config.hidden_imports("full")
    assert {"adcopy_desktop.core.model_store.builder", "adcopy_desktop.core.training.trainer"} <= set(full)
    from adcopy_desktop.core.plugins import remote

    assert remote.HOST_MODULE in config.hidden_imports("lite")
    assert "adcopy-desktop" in config.metadata("lite")  # importlib.metadata.version("adcopy-desktop")


def test_every_module_listed_exists():
    config = bundle_config()
    for name in config.HIDDEN_IMPORTS_ALL + config.HIDDEN_IMPORTS_FULL:
        if name.startswith("keyring.backends.Windows") and sys.platform != "win32":
            continue
        assert importlib.util.find_spec(name) is not None, name


def test_the_spec_takes_its_lists_from_bundle_config():
    text = (PACKAGING / "adcopy.spec").read_text(encoding="utf-8")
    compile(text, "adcopy.spec", "exec")
    for use in ("bundle_config.excludes(EDITION)", "bundle_config.hidden_imports(EDITION)",
                "bundle_config.dropped(", "bundle_config.metadata(EDITION)", "adcopy_main.py", "edition.txt"):
        assert use in text


def _rendered_control(template: str, **values: str) -> dict[str, str]:
    text = (PACKAGING / "linux" / "debian" / template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    assert "@" not in re.sub(r"<[^>]+>", "", text), "a placeholder build.sh does not fill"
    fields, last = {}, None
    for line in text.splitlines():
        if line.startswith(" "):
            fields[last] += "\n" + line
        else:
            last, _, value = line.partition(":")
            fields[last] = value.strip()
    return fields


def test_the_deb_control_file_has_the_required_fields_and_the_qt_libraries():
    fields = _rendered_control("control.in", PACKAGE="adcopy", VERSION="0.1.0", ARCH="amd64", GLIBC="2.35",
                               INSTALLED_SIZE="320000", CONFLICTS="adcopy-full", RECOMMENDS="adcopy-model-default",
                               EDITION="lite", EDITION_TEXT="lite")
    for field in ("Package", "Version", "Architecture", "Maintainer", "Description", "Depends", "Installed-Size"):
        assert fields.get(field), field
    depends = {d.strip().split(" ")[0] for d in fields["Depends"].split(",")}
    # what the Qt wheels need on a bare Debian 12 (README, System packages)
    assert {"libglib2.0-0", "libegl1", "libgl1", "libxkbcommon0", "libfontconfig1", "libdbus-1-3",
            "libxkbcommon-x11-0", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0"} <= depends
    # Chinese text needs a CJK font: a clean Debian 12 root has none (the window showed boxes)
    assert any("fonts-wqy-microhei" in d and "fonts-noto-cjk" in d for d in fields["Depends"].split(","))
    assert "user's data" in fields["Description"] or "user data" in fields["Description"].lower()
    model = _rendered_control("model-control.in", VERSION="0.1.0", INSTALLED_SIZE="1", MODEL_ID="m",
                              PRECISION="int8", LICENCE="Apache-2.0")
    assert model["Architecture"] == "all" and model["Package"] == "adcopy-model-default"


def test_the_build_script_fills_every_placeholder():
    script = (PACKAGING / "build.sh").read_text(encoding="utf-8")
    for template in ("control.in", "model-control.in"):
        for placeholder in set(re.findall(r"@([A-Z_]+)@", (PACKAGING / "linux" / "debian" / template).read_text())):
            assert f"s/@{placeholder}@/" in script or f"s|@{placeholder}@|" in script, placeholder


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell scripts")
@pytest.mark.parametrize("script", ["linux/debian/postinst", "linux/debian/prerm", "linux/appimage/AppRun",
                                    "build.sh"])
def test_the_shell_scripts_parse_and_are_executable(script):
    path = PACKAGING / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    shell = "bash" if script.endswith(".sh") else "sh"
    subprocess.run([shell, "-n", str(path)], check=True, timeout=30)


def test_removing_the_deb_leaves_user_data_and_says_so():
    prerm = (PACKAGING / "linux" / "debian" / "prerm").read_text(encoding="utf-8")
    assert "rm " not in prerm and "rm -" not in prerm
    assert "Your data stays in place" in prerm and "~/.local/share/adcopy" in prerm
    postinst = (PACKAGING / "linux" / "debian" / "postinst").read_text(encoding="utf-8")
    assert "rm " not in postinst


def test_the_desktop_entry():
    parser = ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(PACKAGING / "linux" / "adcopy.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Exec"] == "adcopy" and entry["Icon"] == "adcopy"
    assert entry["Terminal"] == "false" and "Name[zh_CN]" in entry
    for size in (48, 128, 256):
        assert (ROOT / "resources" / "icons" / f"adcopy-{size}.png").is_file()
    assert (ROOT / "resources" / "icons" / "adcopy.svg").is_file()
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(PACKAGING / "linux" / "adcopy.desktop")], capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_the_icons_are_small_real_pngs():
    for path in (ROOT / "resources" / "icons").iterdir():
        assert path.stat().st_size < 1_000_000, path
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


NSIS = PACKAGING / "windows" / "adcopy.nsi"


def test_the_nsis_uninstaller_keeps_user_data_and_says_so():
    text = NSIS.read_text(encoding="utf-8")
    uninstall = text.split('Section "Uninstall"', 1)[1]
    assert "$LOCALAPPDATA\\adcopy" not in uninstall.replace("%LOCALAPPDATA%", "")
    assert "$APPDATA" not in uninstall
    assert "RMDir /r \"$INSTDIR\"" not in uninstall  # never the whole folder blindly
    assert "KeptData" in uninstall and "stay in place" in text
    assert "SimpChinese" in text and "RequestExecutionLevel user" in text


@pytest.mark.skipif(shutil.which("makensis") is None, reason="makensis (Debian's nsis package) is not installed")
@pytest.mark.parametrize("edition", ["lite", "full"])
def test_makensis_builds_the_installer_script_against_a_stub_payload(tmp_path, edition):
    out = tmp_path / f"stub-{edition}.exe"
    result = subprocess.run(["makensis", "-NOCONFIG", "-DSTUB", f"-DEDITION={edition}", f"-DOUTFILE={out}",
                             str(NSIS)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert out.read_bytes()[:2] == b"MZ"
    assert "warning" not in result.stdout.lower().replace("0 warnings", "")


def test_build_ps1_calls_pyinstaller_and_makensis():
    text = (PACKAGING / "windows" / "build.ps1").read_text(encoding="utf-8")
    assert "packaging\\adcopy.spec" in text and "makensis" in text and "ADCOPY_EDITION" in text


def test_the_release_workflow_builds_both_editions_on_both_systems():
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    assert "ubuntu-22.04" in text and "windows-latest" in text
    assert "edition: [lite, full]" in text
    for step in ("packaging/build.sh", "build.ps1", "makensis -NOCONFIG -DSTUB", "QT_QPA_PLATFORM",
                 "generate", "offscreen"):
        assert step in text, step
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(text)
    assert set(workflow["jobs"]) >= {"bundle", "nsis-script"}


def test_no_build_outputs_are_tracked():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "build/" in ignored and "/dist/" in ignored
