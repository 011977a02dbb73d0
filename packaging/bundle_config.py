"""What goes into each bundle: one place for the PyInstaller spec, the build scripts and the tests.

``lite`` generates only (onnxruntime, tokenizers, PySide6); ``full`` adds torch CPU, transformers,
peft and Optimum for building models and training. Plain data, no PyInstaller import, so
``tests/packaging`` can check the lists without building anything.
"""

from __future__ import annotations

EDITIONS = ("lite", "full")

# Never in the lite bundle: the model-building and training stack (and what only it pulls in).
BUILD_STACK = (
    "torch", "torchvision", "torchaudio", "transformers", "peft", "optimum", "accelerate", "gguf",
    "safetensors", "huggingface_hub", "datasets", "trl", "sympy", "networkx", "triton",
    "onnxruntime_genai", "onnx_ir",
)

# Never in any bundle: development tools and heavy libraries nothing at run time needs.
ALWAYS_EXCLUDED = (
    "tkinter", "_tkinter", "matplotlib", "scipy", "pandas", "IPython", "jupyter", "notebook",
    "pytest", "pytestqt", "_pytest", "PyInstaller", "setuptools", "pip", "wheel", "sphinx",
    "llama_cpp", "cv2", "PIL", "pyarrow", "lxml", "docutils",
    # onnxruntime-genai: only a row of `adcopy bench` (skipped when absent), 34 MB; hf_xet:
    # huggingface_hub's download backend (imported only to download; the app is offline), 11 MB
    "onnxruntime_genai", "hf_xet",
    # Qt modules the app never imports (it uses QtCore, QtGui, QtWidgets; pyqtgraph imports
    # QtOpenGL and QtOpenGLWidgets unconditionally and QtSvg if present: those three stay)
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel", "PySide6.QtWebSockets", "PySide6.QtQml", "PySide6.QtQuick",
    "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2", "PySide6.Qt3DCore", "PySide6.Qt3DRender",
    "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets", "PySide6.QtCharts",
    "PySide6.QtDataVisualization", "PySide6.QtGraphs", "PySide6.QtPdf", "PySide6.QtPdfWidgets",
    "PySide6.QtBluetooth", "PySide6.QtNfc", "PySide6.QtPositioning", "PySide6.QtLocation",
    "PySide6.QtSensors", "PySide6.QtSerialPort", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtDesigner", "PySide6.QtUiTools", "PySide6.QtHelp", "PySide6.QtXml",
    "PySide6.QtConcurrent", "PySide6.QtDBus", "PySide6.QtNetwork", "PySide6.QtSvgWidgets",
    "PySide6.QtPrintSupport",
    "PySide6.QtRemoteObjects", "PySide6.QtScxml", "PySide6.QtStateMachine", "PySide6.QtTextToSpeech",
    "PySide6.QtSpatialAudio", "PySide6.QtHttpServer", "PySide6.QtAxContainer",
    "pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter", "OpenGL",
)

# Shared libraries and Qt plugin files dropped after analysis (substring match on the bundle path):
# what the PySide6 hooks collect by default but a widgets app on xcb/windows does not load.
DROPPED_FILES = (
    "Qt6WebEngine", "QtWebEngine", "Qt6Quick", "Qt6Qml", "Qt6Pdf", "Qt6VirtualKeyboard",
    "Qt6Designer", "Qt6Multimedia", "Qt6Charts", "Qt6Graphs", "Qt6Sql", "Qt6Test",
    "plugins/qmltooling", "plugins/designer", "plugins/sqldrivers", "plugins/multimedia",
    "plugins/wayland-", "plugins/virtualkeyboard", "plugins/sceneparsers",
    "plugins/platforminputcontexts/libqtvirtualkeyboardplugin",
    # full edition: torch's own C++ test programs and test libraries (~130 MB), and protoc
    "torch/test/", "torch/bin/test_", "torch/bin/FileStoreTest", "torch/bin/HashStoreTest",
    "torch/bin/TCPStoreTest", "torch/bin/protoc", "torch/lib/libtorchbind_test",
    "torch/lib/libjitbackend_test", "torch/lib/libbackend_with_compiler", "torch/lib/libaoti_custom_ops",
)

# Folders whose modules import each other as top-level modules (the package puts its own folder on
# sys.path at import time, which a frozen app cannot do): given to the analysis as search paths.
# onnxruntime.quantization (int8 weights when building a model) imports onnxruntime.transformers,
# whose onnx_utils does `from fusion_utils import ...`.
TOP_LEVEL_FOLDERS_FULL = ("onnxruntime/transformers",)

# Qt's own translations kept (standard buttons in Chinese); every other language is dropped.
KEPT_QT_TRANSLATIONS = ("qtbase_zh_CN.qm", "qt_zh_CN.qm", "qtbase_en.qm", "qt_en.qm")

# Imported by name only (child processes run "-m module"; plugins import by entry point).
HIDDEN_IMPORTS_ALL = (
    "adcopy_desktop.core.plugins.host",
    "adcopy_desktop.bench.peers",
    "keyring.backends.SecretService",
    "keyring.backends.Windows",
    "keyring.backends.fail",
    "keyring.backends.null",
    # the standard library a plugin wheel may reasonably expect (a frozen app has only what it imports)
    "csv", "sqlite3", "xml.etree.ElementTree", "html.parser", "urllib.request", "dataclasses",
    "decimal", "fractions", "statistics", "difflib", "textwrap", "unicodedata", "zipfile", "uuid",
)
HIDDEN_IMPORTS_FULL = (
    "adcopy_desktop.core.model_store.builder",
    "adcopy_desktop.core.model_store.exporter",
    "adcopy_desktop.core.training.trainer",
)

# Distributions whose metadata must travel (importlib.metadata versions and entry points).
METADATA = ("adcopy-desktop", "keyring", "onnxruntime", "tokenizers", "numpy", "PySide6-Essentials",
            "httpx", "starlette", "uvicorn", "pluggy", "click", "jinja2", "platformdirs", "openpyxl",
            "jieba", "pyqtgraph", "onnx", "psutil")
METADATA_FULL = ("torch", "transformers", "peft", "optimum", "optimum-onnx", "accelerate", "gguf",
                 "safetensors", "huggingface_hub", "tqdm", "regex", "requests", "packaging",
                 "filelock", "pyyaml")

# imported at run time (the Insights charts: pyqtgraph): never excluded
QT_MODULES_NEEDED = ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtOpenGL",
                     "PySide6.QtOpenGLWidgets", "PySide6.QtSvg")

LITE_SIZE_LIMIT_MB = 350


def excludes(edition: str) -> list[str]:
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    names = list(ALWAYS_EXCLUDED)
    if edition == "lite":
        names += BUILD_STACK
    return names


def hidden_imports(edition: str) -> list[str]:
    names = list(HIDDEN_IMPORTS_ALL)
    if edition == "full":
        names += HIDDEN_IMPORTS_FULL
    return names


def metadata(edition: str) -> list[str]:
    return list(METADATA) + (list(METADATA_FULL) if edition == "full" else [])


def top_level_folders(edition: str) -> list[str]:
    """Paths relative to site-packages to add to the analysis' search path."""
    return list(TOP_LEVEL_FOLDERS_FULL) if edition == "full" else []


def transformers_model_packages(site_packages) -> list[str]:
    """Every package of transformers.models in that site-packages folder (the full edition's hidden
    imports: transformers finds tokenizer and model classes by importing model packages by name)."""
    from pathlib import Path

    models = Path(site_packages) / "transformers" / "models"
    if not models.is_dir():
        return []
    return [f"transformers.models.{d.name}" for d in sorted(models.iterdir()) if (d / "__init__.py").is_file()]


def dropped(dest: str) -> bool:
    """True for a collected file (its path inside the bundle) the bundle leaves out."""
    path = dest.replace("\\", "/")
    if any(part in path for part in DROPPED_FILES):
        return True
    if "/translations/" in path and path.endswith(".qm") and "PySide6" in path:
        return path.rsplit("/", 1)[-1] not in KEPT_QT_TRANSLATIONS
    return False
