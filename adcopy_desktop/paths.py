"""Every user folder the app uses, resolved in one place.

``ADCOPY_HOME`` puts config, data and cache under one folder (tests and scripts rely on it);
otherwise the platform's conventions apply (platformdirs).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "adcopy"
HOME_ENV = "ADCOPY_HOME"


@dataclass(frozen=True)
class UserFolders:
    config: Path
    data: Path
    cache: Path
    log_dir: Path | None = None  # the platform's log folder; None: <data>/logs (ADCOPY_HOME)

    @property
    def models(self) -> Path:
        """Built and imported models, one sub-folder each."""
        return self.data / "models"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def logs(self) -> Path:
        """Rotating log files (``core/logs.py``): the Help menu opens it, diagnostics bundle it."""
        return self.log_dir if self.log_dir is not None else self.data / "logs"

    @property
    def plugins(self) -> Path:
        """Plugins installed from wheels without pip (``adcopy plugins install``), one folder each."""
        return self.data / "plugins"

    def ensure(self) -> "UserFolders":
        for folder in (self.config, self.data, self.cache, self.models, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def user_folders() -> UserFolders:
    """The folders for this process, read fresh each call so tests can change ``ADCOPY_HOME``."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        return UserFolders(config=root / "config", data=root / "data", cache=root / "cache")
    import platformdirs

    return UserFolders(
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def resources_dir() -> Path:
    """The read-only resources shipped with the app (prompt templates, word lists, samples)."""
    override = os.environ.get("ADCOPY_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "resources"


BUNDLED_MODELS_ENV = "ADCOPY_BUNDLED_MODELS"


def bundled_models_dirs() -> list[Path]:
    """Read-only folders an installer puts prebuilt models in (the lite edition cannot build the
    default model: packaging/ ships it as a data package beside the app). The first start copies
    the default model from here instead of building it. ``ADCOPY_BUNDLED_MODELS`` (os.pathsep
    separated) comes first; a frozen app adds ``<its folder>/models`` and, on Linux, the .deb's
    ``/usr/share/adcopy/models`` and the AppImage's ``$APPDIR/usr/share/adcopy/models``."""
    folders = [Path(p) for p in os.environ.get(BUNDLED_MODELS_ENV, "").split(os.pathsep) if p]
    if getattr(sys, "frozen", False):
        folders.append(Path(sys.executable).resolve().parent / "models")
        if sys.platform.startswith("linux"):
            appdir = os.environ.get("APPDIR")
            if appdir:
                folders.append(Path(appdir) / "usr" / "share" / "adcopy" / "models")
            folders.append(Path("/usr/share/adcopy/models"))
    return folders
