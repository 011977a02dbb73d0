"""User settings: one JSON file in the config folder, read with defaults, written atomically."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from adcopy_desktop.core.model_store.manifest import write_json_atomically
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.settings")

EXECUTION_PROVIDER_CHOICES = ("auto", "cpu", "cuda", "directml")
PLUGIN_ISOLATION_CHOICES = ("process", "in-process")


@dataclass
class Settings:
    execution_provider: str = "auto"
    threads: int | None = None  # None: one per physical core
    interface_language: str | None = None  # None: follow the system
    disabled_plugins: list[str] = field(default_factory=list)  # plugin names not to load
    auto_training_after: int = 0  # train by itself after this many newly accepted copies (0: off)
    keep_model_versions: int = 3  # trained versions kept per model and style (active ones and their parents too)
    # shops the user connected: [{"target": "shopify", "shop_url": ..., "api_version": ...}]; no secrets
    # (tokens and keys live in the OS keyring, core/secrets.py)
    shops: list[dict] = field(default_factory=list)
    export_retry_base_s: float = 1.0  # first wait after a failed shop request (doubles, with jitter)
    export_retry_max_s: float = 60.0  # longest wait between tries
    export_max_attempts: int = 8  # tries per item per run; unfinished items stay in the outbox
    training: dict = field(default_factory=dict)  # TrainingConfig values the user changed, by name
    # OpenAI-compatible inference servers (core/endpoints.py): [{"name": "gpu-box", "base_url": ...,
    # "model": ..., "timeout_s": ..., ...}]; names and options only, API keys live in the OS keyring
    backends: list[dict] = field(default_factory=list)
    # how long plugin calls may take, by kind (core/plugins/deadlines.py: scorer, hook, backend, ...;
    # null or 0: no deadline); a call past it is abandoned and its plugin disabled for the session
    plugin_deadlines: dict = field(default_factory=dict)
    # where third-party plugins run: "process" (a plugin host process each, without the app's
    # secrets) or "in-process" (with the app's rights; for debugging a plugin)
    plugin_isolation: str = "process"
    # public keys whose wheel signatures (FILE.whl.sig) make a plugin "signed" (core/plugins/signing.py):
    # [{"name": "Acme Agency", "key": "<base64 Ed25519 public key>"}]
    trusted_plugin_keys: list = field(default_factory=list)


def load_settings(path: Path | None = None) -> Settings:
    path = path or user_folders().settings_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable settings file %s (%s); using defaults", path, exc)
        return Settings()
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in data.items() if k in known}) if isinstance(data, dict) else Settings()
    if settings.execution_provider not in EXECUTION_PROVIDER_CHOICES:
        log.warning("unknown execution_provider %r in %s; using auto", settings.execution_provider, path)
        settings.execution_provider = "auto"
    if not isinstance(settings.disabled_plugins, list) or not all(
        isinstance(name, str) for name in settings.disabled_plugins
    ):
        log.warning("disabled_plugins in %s must be a list of plugin names; ignoring it", path)
        settings.disabled_plugins = []
    if not isinstance(settings.auto_training_after, int) or settings.auto_training_after < 0:
        log.warning("auto_training_after in %s must be a whole number (0 = off); using 0", path)
        settings.auto_training_after = 0
    if not isinstance(settings.keep_model_versions, int) or settings.keep_model_versions < 1:
        log.warning("keep_model_versions in %s must be at least 1; using 3", path)
        settings.keep_model_versions = 3
    if not isinstance(settings.backends, list) or not all(isinstance(entry, dict) for entry in settings.backends):
        log.warning("backends in %s must be a list of server entries; ignoring it", path)
        settings.backends = []
    if not isinstance(settings.plugin_deadlines, dict):
        log.warning("plugin_deadlines in %s must be a table of kind -> seconds; ignoring it", path)
        settings.plugin_deadlines = {}
    from adcopy_desktop.core.plugins.deadlines import deadline_problem

    for kind, value in list(settings.plugin_deadlines.items()):
        problem = deadline_problem(kind, value)
        if problem:
            log.warning("plugin_deadlines in %s: %s; using the default", path, problem)
            del settings.plugin_deadlines[kind]
    if settings.plugin_isolation not in PLUGIN_ISOLATION_CHOICES:
        log.warning("plugin_isolation in %s must be one of %s; using process", path,
                    ", ".join(PLUGIN_ISOLATION_CHOICES))
        settings.plugin_isolation = "process"
    if not isinstance(settings.trusted_plugin_keys, list):
        log.warning("trusted_plugin_keys in %s must be a list of {name, key} entries; ignoring it", path)
        settings.trusted_plugin_keys = []
    if not isinstance(settings.training, dict):
        log.warning("training in %s must be a table of training settings; ignoring it", path)
        settings.training = {}
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> None:
    path = path or user_folders().settings_file
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, asdict(settings))
