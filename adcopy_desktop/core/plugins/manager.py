"""Finding, loading and calling plugins: the one place that talks to pluggy.

Discovery order: built-in plugins (``adcopy_desktop/builtin``), then installed packages with an
entry point in the ``adcopy`` group, then wheels unpacked into the plugin folder
(``user_folders().plugins``, see ``wheels.py``). Names are unique: a later plugin with the name of
an earlier one fails to load.

Control: safe mode (``--safe-mode`` / ``ADCOPY_SAFE_MODE=1``) loads no third-party plugin;
``ADCOPY_PLUGINS=a,b`` loads only the named third-party plugins (set but empty: none);
``disabled_plugins`` in settings.json names plugins not to load (any but required built-ins).

Isolation: every hook implementation and every registered callable runs in its own error boundary
and under a deadline (``deadlines.py``, ``plugin_deadlines`` in settings). A plugin that fails to
import, raises, returns the wrong type or misses a deadline is recorded as a ``PluginProblem``
(name, version, source, hook, error) and disabled for the session: its hook implementations and
registrations are removed, and the other plugins' results still arrive. Built-in plugins are part
of the app and are never disabled; their errors are recorded the same way.

Third-party plugins (entry points, the plugin folder) run in a plugin host process each
(``remote.py``, ``host.py``) without the app's secrets; a host that dies is reported and started
again once. Built-ins and plugins added with ``add_plugin`` run in the app's process. While plugin
code runs, ``safe_mode.plugin_work`` marks it, so the next start can name the plugin if the app died.

Call sites use the typed methods below (one per hook); nothing else calls ``pm.hook`` directly.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.metadata
import importlib.util
import logging
import math
import os
import re
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import pluggy

from adcopy_desktop.core.errors import AdCopyError, PluginError, StyleError
from adcopy_desktop.core.plugins import hookspecs
from adcopy_desktop.core.plugins.deadlines import DeadlineExceeded, call_with_deadline, resolve_deadlines
from adcopy_desktop.core.plugins.hookspecs import PROJECT_NAME
from adcopy_desktop.core.plugins.safe_mode import plugin_work
from adcopy_desktop.core.plugins.registry import (
    Backend,
    BackendContext,
    Exporter,
    GenerationBackend,
    ImportContext,
    Importer,
    Registered,
    RegistrationError,
    SPAN_SEVERITIES,
    Score,
    ScoreContext,
    Scorer,
    ScoreSpan,
    resolve_options,
    validate_registration,
)
from adcopy_desktop.core.plugins.provenance import distribution_provenance, folder_provenance
from adcopy_desktop.core.styles import BrandStyle

if TYPE_CHECKING:
    from adcopy_desktop.core.candidates import Candidate, GenerationSettings
    from adcopy_desktop.core.catalog import ImportResult
    from adcopy_desktop.core.product import Product
    from adcopy_desktop.core.progress import CancelToken
    from adcopy_desktop.core.prompts import CopyRequest

log = logging.getLogger("adcopy.plugins")

ENTRY_POINT_GROUP = PROJECT_NAME
SAFE_MODE_ENV = "ADCOPY_SAFE_MODE"
ALLOW_ENV = "ADCOPY_PLUGINS"
ALLOW_ALL = "*"  # allow= value: no allow-list

SOURCE_BUILTIN = "built-in"
SOURCE_ENTRY_POINT = "entry point"
SOURCE_FOLDER = "plugin folder"
SOURCE_REGISTERED = "registered"  # added in-process with add_plugin (tests, embedding)

ACTIVE = "active"
DISABLED = "disabled"
FAILED = "failed"

# registry kind -> registration hook
REGISTRATION_HOOKS: dict[str, str] = {
    "style": "register_styles",
    "scorer": "register_scorers",
    "importer": "register_importers",
    "exporter": "register_exporters",
    "backend": "register_backends",
}
MESSAGE_ROLES = ("system", "user", "assistant")
ISOLATION_PROCESS = "process"
ISOLATION_IN_PROCESS = "in-process"
EVENT_HOOKS = ("candidate_accepted", "candidate_rejected", "candidate_edited", "export_finished")
# more than this is garbage, not a result: refused with a message naming the plugin
MAX_MESSAGES = 100
MAX_SPANS = 1000
MAX_FLAGS = 1000
MAX_REGISTRATIONS = 1000  # per registration hook of one plugin
_COMPLETION_FIELDS = {"index": int, "text": str, "finish_reason": str}


def canonical_name(name: str) -> str:
    """Plugin names compare like package names: case and runs of '-', '_', '.' do not matter."""
    return re.sub(r"[-_.]+", "-", str(name)).strip().lower()


def hook_names() -> list[str]:
    """Every hook in the hookspecs module, in definition order."""
    return [name for name, value in vars(hookspecs).items() if hasattr(value, f"{PROJECT_NAME}_spec")]


@dataclass(frozen=True)
class PluginProblem:
    """Why a plugin failed: which plugin, in which hook (or "import", "register"), and the error."""

    name: str
    version: str
    source: str
    hook: str
    error: str
    disabled: bool = True  # False: the plugin goes on (a built-in; a plugin host started again)

    def describe(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"plugin '{self.name}'{version} ({self.source}) failed in {self.hook}: {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "source": self.source, "hook": self.hook,
                "error": self.error, "disabled": self.disabled}


@dataclass
class PluginInfo:
    """One plugin as ``adcopy plugins list`` shows it."""

    name: str
    version: str
    source: str  # built-in | entry point | plugin folder | registered
    location: str = ""  # module, entry point or folder
    status: str = DISABLED  # active | disabled | failed
    reason: str | None = None  # why disabled or failed
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)  # kind -> names
    required: bool = False  # a built-in the app cannot work without (cannot be disabled)
    aliases: tuple[str, ...] = ()  # other names it answers to (distribution, entry point)
    # where it came from: {"source": wheel or folder, "sha256": the wheel's, "installed": ISO time,
    # "signed": bool} (provenance.py); empty for built-ins
    provenance: dict[str, Any] = field(default_factory=dict)
    runs_in: str = "app"  # app | plugin host

    @property
    def builtin(self) -> bool:
        return self.source == SOURCE_BUILTIN

    def matches(self, names: Iterable[str]) -> bool:
        wanted = {canonical_name(n) for n in names}
        return bool(wanted & {canonical_name(n) for n in (self.name, *self.aliases)})

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "source": self.source, "location": self.location,
            "status": self.status, "reason": self.reason, "hooks": list(self.hooks),
            "registered": {kind: list(names) for kind, names in self.registered.items()},
            "provenance": dict(self.provenance), "runs_in": self.runs_in,
        }


@dataclass
class _Found:
    info: PluginInfo
    load: Callable[[], object]
    host_spec: dict[str, Any] | None = None  # how a plugin host imports it (third-party plugins)


class PluginManager:
    """All plugins of one session. Construct one per test; the app uses ``get_plugin_manager()``.

    ``builtins``: True for the app's built-in plugins, False for none, or a list of
    ``(name, module path or object)``. ``entry_points``: None discovers the ``adcopy`` group of the
    installed packages; a list replaces that (tests). ``plugin_folder``: None is
    ``user_folders().plugins``; False scans none. ``safe_mode``, ``allow`` and ``disabled`` default
    (None) to ``ADCOPY_SAFE_MODE``, ``ADCOPY_PLUGINS`` and the settings' ``disabled_plugins``;
    ``allow="*"`` means no allow-list. ``deadlines`` (kind -> seconds) and ``isolation``
    (``"process"``: third-party plugins in plugin hosts, or ``"in-process"``) default to the
    settings' ``plugin_deadlines`` and ``plugin_isolation``.
    """

    def __init__(
        self,
        *,
        builtins: bool | Sequence[tuple[str, Any]] = True,
        entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
        plugin_folder: Path | None | bool = None,
        safe_mode: bool | None = None,
        allow: Iterable[str] | str | None = None,
        disabled: Iterable[str] | None = None,
        deadlines: Mapping[str, float | None] | None = None,
        isolation: str | None = None,
    ) -> None:
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._builtins = builtins
        self._entry_points = list(entry_points) if entry_points is not None else None
        self._plugin_folder_option = plugin_folder
        self.safe_mode = _env_flag(SAFE_MODE_ENV) if safe_mode is None else bool(safe_mode)
        if allow is None:
            raw = os.environ.get(ALLOW_ENV)
            allow = ALLOW_ALL if raw is None else [part for part in raw.split(",") if part.strip()]
        self.allow: frozenset[str] | None = (
            None if allow == ALLOW_ALL else frozenset(canonical_name(name) for name in allow)
        )
        self._disabled_option = disabled
        self.disabled: frozenset[str] = frozenset()
        self._lock = threading.RLock()
        self._loaded = False
        self._infos: list[PluginInfo] = []
        self._active: dict[str, tuple[PluginInfo, object]] = {}
        self._problems: list[PluginProblem] = []
        self._registries: dict[str, dict[str, Registered[Any]]] = {kind: {} for kind in REGISTRATION_HOOKS}
        self._added_paths: list[str] = []
        self._deadline_option = deadlines
        self._isolation_option = isolation
        self.deadlines: dict[str, float | None] = resolve_deadlines(deadlines)
        self.isolation = isolation or ISOLATION_PROCESS
        self._hosts: list[Any] = []

    # -- discovery and loading -----------------------------------------------------------------

    @property
    def plugin_folder(self) -> Path | None:
        option = self._plugin_folder_option
        if option is False:
            return None
        if option is None or option is True:
            from adcopy_desktop.paths import user_folders

            return user_folders().plugins
        return Path(option)

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> "PluginManager":
        """Discover and load every plugin once; later calls do nothing."""
        with self._lock:
            if self._loaded:
                return self
            self._loaded = True
            if self._disabled_option is None or self._deadline_option is None or self._isolation_option is None:
                from adcopy_desktop.core.settings import load_settings

                settings = load_settings()
                if self._disabled_option is None:
                    self._disabled_option = settings.disabled_plugins
                if self._deadline_option is None:
                    self.deadlines = resolve_deadlines(settings.plugin_deadlines)
                if self._isolation_option is None:
                    self.isolation = settings.plugin_isolation
            self.disabled = frozenset(canonical_name(name) for name in self._disabled_option)
            found_all = [*self._find_builtins(), *self._find_entry_points(), *self._find_folder_plugins()]
            self._start_hosts(found_all)
            for found in found_all:
                self._load_one(found)
            log.info(
                "plugins: %s",
                ", ".join(f"{info.name} ({info.status})" for info in self._infos) or "none",
            )
        return self

    def add_plugin(self, plugin: object, name: str, *, version: str = "", location: str = "") -> PluginInfo:
        """Register a plugin object in-process (tests, embedding); it loads even in safe mode."""
        self.load()
        info = PluginInfo(name=name, version=version, source=SOURCE_REGISTERED,
                          location=location or getattr(plugin, "__name__", type(plugin).__name__))
        with self._lock:
            self._load_one(_Found(info, lambda: plugin))
        return info

    def _find_builtins(self) -> list[_Found]:
        if self._builtins is False:
            return []
        if self._builtins is True:
            from adcopy_desktop.builtin import BUILTIN_PLUGINS, REQUIRED_BUILTINS

            entries: Sequence[tuple[str, Any]] = BUILTIN_PLUGINS
            required = REQUIRED_BUILTINS
        else:
            entries, required = self._builtins, frozenset()
        from adcopy_desktop import __version__

        found = []
        for name, target in entries:
            location = target if isinstance(target, str) else getattr(target, "__name__", repr(target))
            info = PluginInfo(name=name, version=__version__, source=SOURCE_BUILTIN, location=location,
                              required=name in required)
            load = functools.partial(importlib.import_module, target) if isinstance(target, str) else (
                lambda target=target: target
            )
            found.append(_Found(info, load))
        return found

    def _find_entry_points(self) -> list[_Found]:
        entry_points = self._entry_points
        if entry_points is None:
            folder = self.plugin_folder
            entry_points = [
                ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
                if not (folder and _dist_inside(ep.dist, folder))
            ]
        entry_points = [ep for ep in entry_points if ep.group == ENTRY_POINT_GROUP]
        per_dist: dict[str, int] = {}
        for ep in entry_points:
            key = _dist_name(ep) or ep.name
            per_dist[key] = per_dist.get(key, 0) + 1
        found = []
        for ep in sorted(entry_points, key=lambda ep: ((_dist_name(ep) or ep.name).lower(), ep.name)):
            dist_name = _dist_name(ep)
            base = canonical_name(dist_name or ep.name)
            name = base if per_dist[dist_name or ep.name] == 1 else f"{base}:{ep.name}"
            info = PluginInfo(
                name=name, version=(ep.dist.version if ep.dist else "") or "", source=SOURCE_ENTRY_POINT,
                location=f"{ep.name} = {ep.value}", aliases=tuple(n for n in (dist_name, ep.name) if n),
                provenance=distribution_provenance(getattr(ep, "dist", None)),
            )
            found.append(_Found(info, ep.load, {"name": name, "entry_name": ep.name, "value": ep.value,
                                                "folder": None}))
        return found

    def _find_folder_plugins(self) -> list[_Found]:
        root = self.plugin_folder
        if root is None or not root.is_dir():
            return []
        found = []
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            dist_infos = sorted(folder.glob("*.dist-info"))
            if not dist_infos:
                info = PluginInfo(name=canonical_name(folder.name), version="", source=SOURCE_FOLDER,
                                  location=str(folder))
                found.append(_Found(info, _raiser(PluginError(
                    f"{folder} has no .dist-info folder; install plugins with: adcopy plugins install FILE.whl"
                ))))
                continue
            for dist_info in dist_infos:
                dist = importlib.metadata.PathDistribution(dist_info)
                dist_name = dist.metadata["Name"] or folder.name
                entry_points = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
                if not entry_points:
                    info = PluginInfo(name=canonical_name(dist_name), version=dist.version or "",
                                      source=SOURCE_FOLDER, location=str(folder))
                    found.append(_Found(info, _raiser(PluginError(
                        f"it declares no entry point in the '{ENTRY_POINT_GROUP}' group"
                    ))))
                    continue
                for ep in entry_points:
                    base = canonical_name(dist_name)
                    name = base if len(entry_points) == 1 else f"{base}:{ep.name}"
                    info = PluginInfo(name=name, version=dist.version or "", source=SOURCE_FOLDER,
                                      location=str(folder), aliases=(dist_name, ep.name),
                                      provenance=folder_provenance(folder, dist_info))
                    found.append(_Found(info, functools.partial(self._load_from_folder, folder, ep),
                                        {"name": name, "entry_name": ep.name, "value": ep.value,
                                         "folder": str(folder)}))
        return found

    def _start_hosts(self, found_all: list[_Found]) -> None:
        """Start a plugin host for every third-party plugin that will load, all at once (they
        import in parallel); ``_load_one`` then waits for each one's load report."""
        if self.isolation != ISOLATION_PROCESS:
            return
        from adcopy_desktop.core.plugins.remote import PluginHost

        seen: set[str] = {canonical_name(info.name) for info in self._infos}
        for found in found_all:
            key = canonical_name(found.info.name)
            duplicate = key in seen
            seen.add(key)
            if found.host_spec is None or duplicate or self._blocked_reason(found.info):
                continue
            info = found.info
            host = PluginHost([found.host_spec], label=f"{info.name} {info.version}".strip(), deadlines=self.deadlines)
            try:
                host.start()
            except OSError as error:
                found.load = _raiser(PluginError(f"its plugin host could not start: {error}"))
                continue
            self._hosts.append(host)
            info.runs_in = "plugin host"
            found.load = functools.partial(self._finish_host, info, host)

    def _finish_host(self, info: PluginInfo, host: Any) -> object:
        from adcopy_desktop.core.plugins.remote import HostDied, remote_plugin

        try:
            with plugin_work(info.name, info.version, info.source, "import"):
                reports = host.finish_start(self.deadlines.get("load"))
        except (DeadlineExceeded, HostDied) as error:
            host.stop("it failed to load")
            raise PluginError(str(error).replace("; it is started again for the next call", "")) from None
        report = next((r for r in reports if isinstance(r, dict) and r.get("name") == info.name), None)
        if report is None:
            host.stop("it failed to load")
            raise PluginError("its plugin host did not report loading it")
        try:
            return remote_plugin(info.name, host, report)
        except BaseException:
            host.stop("it failed to load")
            raise

    def _load_from_folder(self, folder: Path, ep: importlib.metadata.EntryPoint) -> object:
        entry = str(folder)
        if entry not in sys.path:
            sys.path.append(entry)
            self._added_paths.append(entry)
        top = ep.value.split(":")[0].strip().split(".")[0]
        spec = importlib.util.find_spec(top)
        origin = _spec_location(spec)
        if origin is None or not _is_inside(origin, folder):
            where = f"by {origin}" if origin else "(module not found)"
            raise PluginError(f"its module '{top}' is not in {folder} but shadowed {where}")
        return ep.load()

    def _blocked_reason(self, info: PluginInfo) -> str | None:
        disabled = info.matches(self.disabled)
        if info.builtin:
            if disabled and info.required:
                log.warning("built-in plugin %s is required and cannot be disabled", info.name)
                return None
            return "disabled in settings (disabled_plugins)" if disabled else None
        if info.source == SOURCE_REGISTERED:
            return None
        if self.safe_mode:
            return "safe mode: third-party plugins are not loaded"
        if self.allow is not None and not info.matches(self.allow):
            return f"not listed in {ALLOW_ENV}"
        if disabled:
            return "disabled in settings (disabled_plugins)"
        return None

    def _load_one(self, found: _Found) -> None:
        info = found.info
        other = next((i for i in self._infos if canonical_name(i.name) == canonical_name(info.name)), None)
        self._infos.append(info)
        if other is not None:
            self._fail(info, "load", f"a plugin named '{other.name}' is already loaded from {other.source} "
                                     f"({other.location})", loading=True)
            return
        reason = self._blocked_reason(info)
        if reason:
            info.status, info.reason = DISABLED, reason
            return
        try:
            if info.runs_in == "plugin host" or info.builtin:
                plugin = found.load()  # a host has its own deadline; built-ins are the app's own code
            else:
                with plugin_work(info.name, info.version, info.source, "import"):
                    plugin = call_with_deadline(found.load, seconds=self.deadlines.get("load"), kind="load")
        except (Exception, SystemExit) as error:
            self._fail(info, "import", error, loading=True)
            return
        try:
            self._pm.register(plugin, name=info.name)
        except Exception as error:
            self._fail(info, "register", error, loading=True)
            return
        callers = self._pm.get_hookcallers(plugin) or []
        unknown = sorted(caller.name for caller in callers if caller.spec is None)
        wrappers = sorted(
            caller.name for caller in callers for impl in caller.get_hookimpls()
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper)
        )
        if unknown or wrappers:
            self._pm.unregister(plugin)
            if unknown:
                self._fail(info, "register", _unknown_hooks_message(unknown), loading=True)
            else:
                self._fail(info, "register", f"hook wrappers are not supported ({', '.join(wrappers)}); each "
                                             "implementation runs in its own error boundary", loading=True)
            return
        info.hooks = sorted(caller.name for caller in callers)
        info.status, info.reason = ACTIVE, None
        self._active[canonical_name(info.name)] = (info, plugin)
        self._register_items(info, plugin)

    def _register_items(self, info: PluginInfo, plugin: object) -> None:
        """Run the plugin's registration hooks; commit everything, or nothing if anything is wrong."""
        staged: dict[str, dict[str, Any]] = {kind: {} for kind in REGISTRATION_HOOKS}
        for kind, hook in REGISTRATION_HOOKS.items():
            for impl in self._impls(hook):
                if impl.plugin is not plugin:
                    continue
                collector = _Collector(self, info, kind, staged)
                try:
                    result = self._call_impl(info, hook, "load", impl, {"register": collector})
                except (Exception, SystemExit) as error:
                    self._fail(info, hook, error, loading=True)
                    return
                finally:
                    collector.closed = True
                if result is not None:
                    collector.errors.append(
                        f"it returned {_describe_value(result)}; call register(...) for each item and return nothing"
                    )
                if collector.errors:
                    self._fail(info, hook, "; ".join(collector.errors), loading=True)
                    return
        for kind, items in staged.items():
            for name, item in items.items():
                self._registries[kind][name] = Registered(item, info.name)
            if items:
                info.registered[kind] = sorted(items)

    # -- failures --------------------------------------------------------------------------------

    def _fail(self, info: PluginInfo, hook: str, error: BaseException | str, *, loading: bool = False) -> PluginProblem:
        """Record a problem; disable the plugin unless it is a built-in past loading (or its host
        died for the first time: it is started again)."""
        from adcopy_desktop.core.plugins.remote import HostDied, HostStopped

        if isinstance(error, (DeadlineExceeded, HostDied, HostStopped)):
            text = str(error)  # says what happened without a Python type name
            log.warning("plugin %s failed in %s: %s", info.name, hook, text)
        elif isinstance(error, BaseException):
            name = getattr(error, "remote_type", type(error).__name__)  # the plugin's own type, from a host
            text = f"{name}: {error}" if str(error) else name
            log.warning("plugin %s failed in %s", info.name, hook, exc_info=error)
        else:
            text = error
            log.warning("plugin %s failed in %s: %s", info.name, hook, text)
        goes_on = isinstance(error, HostDied) and error.will_restart and not loading
        disable = (loading or not info.builtin) and not goes_on
        problem = PluginProblem(info.name, info.version, info.source, hook, text, disabled=disable)
        with self._lock:
            self._problems.append(problem)
            host = self._disable(info, f"{hook}: {text}") if disable else None
        if host is not None:  # outside the lock: the window may be reading the plugin list meanwhile
            host.stop("the plugin is disabled for this session")
        return problem

    def _disable(self, info: PluginInfo, reason: str) -> Any:
        """Take the plugin out of the session; returns its plugin host (to stop: nothing will call
        it again), if it has one."""
        info.status, info.reason = FAILED, reason
        entry = self._active.get(canonical_name(info.name))
        host = None
        if entry is not None and entry[0] is info:
            del self._active[canonical_name(info.name)]
            if self._pm.is_registered(entry[1]):
                self._pm.unregister(entry[1])
            host = getattr(entry[1], "adcopy_host", None)
        for registry in self._registries.values():
            for name in [name for name, reg in registry.items() if reg.plugin == info.name]:
                del registry[name]
        info.registered = {}
        return host

    # -- what is loaded ----------------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """Every plugin found, in load order, with its status."""
        self.load()
        return [copy.deepcopy(info) for info in self._infos]

    @property
    def problems(self) -> list[PluginProblem]:
        self.load()
        return list(self._problems)

    def _active_info(self, name: str) -> PluginInfo | None:
        entry = self._active.get(canonical_name(name))
        return entry[0] if entry else None

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        """Implementations in pluggy's call order (last registered first, tryfirst/trylast honoured)."""
        return [impl for impl in reversed(getattr(self._pm.hook, hook).get_hookimpls())
                if not (impl.wrapper or impl.hookwrapper)]

    def _registry(self, kind: str) -> dict[str, Registered[Any]]:
        self.load()
        return self._registries[kind]

    def _lookup(self, kind: str, name: str) -> Registered[Any]:
        registry = self._registry(kind)
        entry = registry.get(name)
        if entry is None:
            available = ", ".join(sorted(registry)) or "none"
            hint = " (safe mode is on: only built-in plugins are loaded)" if self.safe_mode else ""
            message = f"Unknown {kind} '{name}'. Available {kind}s: {available}{hint}. See: adcopy plugins list"
            raise StyleError(message) if kind == "style" else PluginError(message)
        return entry

    def styles(self) -> dict[str, BrandStyle]:
        return {name: entry.item for name, entry in sorted(self._registry("style").items())}

    def style(self, name: str) -> BrandStyle:
        """The style called ``name``; StyleError lists the available ones."""
        return self._lookup("style", name).item

    def scorers(self) -> dict[str, Scorer]:
        return {name: entry.item for name, entry in sorted(self._registry("scorer").items())}

    def importers(self) -> dict[str, Importer]:
        return {name: entry.item for name, entry in sorted(self._registry("importer").items())}

    def exporters(self) -> dict[str, Exporter]:
        return {name: entry.item for name, entry in sorted(self._registry("exporter").items())}

    def backends(self) -> dict[str, Backend]:
        return {name: entry.item for name, entry in sorted(self._registry("backend").items())}

    def backend(self, name: str) -> Backend:
        return self._lookup("backend", name).item

    def provider_of(self, kind: str, name: str) -> PluginInfo | None:
        """The plugin that registered ``name`` as a ``kind`` (style, scorer, ...)."""
        entry = self._registry(kind).get(name)
        return self._active_info(entry.plugin) if entry else None

    # -- hooks: generation -------------------------------------------------------------------------

    def adjust_prompt(
        self, messages: list[dict[str, str]], *, request: "CopyRequest", style: BrandStyle | None, language: str
    ) -> list[dict[str, str]]:
        """Run the ``adjust_prompt`` chain; returns the final messages."""
        self.load()
        current = _copy_messages(messages)
        for impl in self._impls("adjust_prompt"):
            info = self._active_info(impl.plugin_name)
            if info is None:
                continue
            working = _copy_messages(current)
            ok, result = self._guarded(info, "adjust_prompt", impl, messages=working,
                                       request=copy.deepcopy(request), style=style, language=language)
            if not ok:
                continue
            proposed = working if result is None else result
            problem = _messages_problem(proposed)
            if problem:
                self._fail(info, "adjust_prompt", f"returned {problem}")
                continue
            current = _copy_messages(proposed)
        return current

    def process_candidate(
        self, candidate: "Candidate", *, request: "CopyRequest", style: BrandStyle | None
    ) -> "Candidate":
        """Run the ``process_candidate`` chain on one candidate; returns the final candidate."""
        from adcopy_desktop.core.candidates import Candidate

        self.load()
        current = candidate
        for impl in self._impls("process_candidate"):
            info = self._active_info(impl.plugin_name)
            if info is None:
                continue
            working = copy.deepcopy(current)
            ok, result = self._guarded(info, "process_candidate", impl, candidate=working,
                                       request=copy.deepcopy(request), style=style)
            if not ok:
                continue
            proposed = working if result is None else result
            if not isinstance(proposed, Candidate) or not isinstance(proposed.text, str) or not isinstance(
                proposed.flags, list
            ):
                self._fail(info, "process_candidate", f"returned {_describe_value(result)}, not a Candidate "
                                                      "with text and a list of flags (or None)")
                continue
            if len(proposed.flags) > MAX_FLAGS:
                self._fail(info, "process_candidate", f"returned a Candidate with {len(proposed.flags)} flags; "
                                                      f"at most {MAX_FLAGS} are accepted")
                continue
            current = proposed
        return current

    # -- hooks: events -----------------------------------------------------------------------------

    def candidate_accepted(self, candidate: "Candidate") -> None:
        self._notify("candidate_accepted", candidate=candidate)

    def candidate_rejected(self, candidate: "Candidate", reason: str | None = None) -> None:
        self._notify("candidate_rejected", candidate=candidate, reason=reason)

    def candidate_edited(self, candidate: "Candidate", previous_text: str) -> None:
        self._notify("candidate_edited", candidate=candidate, previous_text=previous_text)

    def export_finished(self, exporter: str, path: Path, count: int, candidates: Sequence["Candidate"]) -> None:
        self._notify("export_finished", exporter=exporter, path=Path(path), count=count, candidates=candidates)

    def _notify(self, hook: str, **kwargs: Any) -> None:
        self.load()
        for impl in self._impls(hook):
            info = self._active_info(impl.plugin_name)
            if info is not None:
                self._guarded(info, hook, impl, **copy.deepcopy(kwargs))

    # -- registered things ---------------------------------------------------------------------------

    def score(
        self,
        candidate: "Candidate",
        *,
        request: "CopyRequest | None" = None,
        style: BrandStyle | None = None,
        scorers: Iterable[str] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Score]:
        """Scores from every scorer (or the named ones) that covers the candidate's language; a
        failing scorer is skipped and its plugin disabled, the others' scores still arrive."""
        registry = self._registry("scorer")
        wanted = None if scorers is None else list(scorers)
        for name in wanted or ():
            self._lookup("scorer", name)
        results: dict[str, Score] = {}
        for name, entry in sorted(registry.items()):
            if wanted is not None and name not in wanted:
                continue
            scorer: Scorer = entry.item
            info = self._active_info(entry.plugin)
            if info is None or candidate.language not in scorer.languages:
                continue
            context = ScoreContext(request=request, style=style,
                                   options=self._options(scorer, "scorer", (options or {}).get(name)))
            ok, value = self._guarded_call(info, f"scorer '{name}'", "scorer", scorer.score,
                                           copy.deepcopy(candidate), context)
            if not ok:
                continue
            score = _to_score(value)
            if score is None:
                self._fail(info, f"scorer '{name}'", _score_problem(value))
                continue
            results[name] = score
        return results

    def importer_for(self, path: Path, name: str | None = None) -> Importer:
        if name:
            return self._lookup("importer", name).item
        suffix = Path(path).suffix.lower()
        for importer in self.importers().values():
            if suffix in importer.extensions:
                return importer
        available = ", ".join(f"{i.name} ({' '.join(i.extensions)})" for i in self.importers().values()) or "none"
        raise PluginError(f"No importer reads '{suffix or Path(path).name}' files. Importers: {available}.")

    def exporter_for(self, path: Path, name: str | None = None) -> Exporter:
        if name:
            return self._lookup("exporter", name).item
        suffix = Path(path).suffix.lower()
        file_exporters = [e for e in self.exporters().values() if not e.is_shop and not e.products]
        for exporter in file_exporters:
            if suffix == exporter.extension:
                return exporter
        available = ", ".join(f"{e.name} ({e.extension})" for e in file_exporters) or "none"
        raise PluginError(f"No exporter writes '{suffix or Path(path).name}' files. Exporters: {available}.")

    def import_products(
        self, path: Path, *, importer: str | None = None, options: Mapping[str, Any] | None = None
    ) -> list["Product"]:
        """Products read from ``path`` by the named importer, or the one for its extension."""
        return self.import_catalog(path, importer=importer, options=options).products

    def import_catalog(
        self,
        path: Path,
        *,
        importer: str | None = None,
        options: Mapping[str, Any] | None = None,
        progress: Callable[[Any], None] | None = None,
        cancel: "CancelToken | None" = None,
        mapping: Any = None,
    ) -> "ImportResult":
        """What the named importer (or the one for the extension) read from ``path``, as an
        ``ImportResult``; a plain list of products from an older importer is wrapped in one."""
        from adcopy_desktop.core.catalog import ImportedProduct, ImportResult
        from adcopy_desktop.core.product import Product

        chosen = self.importer_for(path, importer)
        info = self._owner("importer", chosen.name)
        args: list[Any] = [Path(path), self._options(chosen, "importer", options)]
        if chosen.takes_context:
            args.append(ImportContext(progress=progress or (lambda event: None), cancel=cancel, mapping=mapping))
        result = self._run_selected(info, f"importer '{chosen.name}'", "importer", chosen.read, *args)
        if isinstance(result, list) and all(isinstance(p, Product) for p in result):
            result = ImportResult(items=[ImportedProduct(p) for p in result], rows_read=len(result),
                                  format=chosen.name)
        elif not isinstance(result, ImportResult) or not all(
            isinstance(item, ImportedProduct) and isinstance(item.product, Product) for item in result.items
        ):
            problem = self._fail(info, f"importer '{chosen.name}'",
                                 f"returned {_describe_value(result)}, not a list of Product or an ImportResult")
            raise PluginError(_problem_message(problem, info))
        if not result.format:
            result.format = chosen.name
        return result

    def export(
        self,
        candidates: Sequence["Candidate"],
        path: Path,
        *,
        exporter: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write ``candidates`` with the named exporter (or the one for the extension), then fire
        ``export_finished``."""
        chosen = self.exporter_for(path, exporter)
        if chosen.is_shop or chosen.products:
            raise PluginError(f"The exporter '{chosen.name}' does not write candidates to a file; "
                              f"use 'adcopy export --to {chosen.name}'.")
        info = self._owner("exporter", chosen.name)
        path = Path(path)
        copies = copy.deepcopy(list(candidates))
        self._run_selected(info, f"exporter '{chosen.name}'", "exporter", chosen.write, copies, path,
                           self._options(chosen, "exporter", options))
        self.export_finished(chosen.name, path, len(copies), copies)
        return path

    def export_products(
        self,
        products: Sequence[Any],
        path: Path,
        *,
        exporter: str,
        options: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write ``ProductCopy`` records with a file exporter that takes products (``products=True``),
        then fire ``export_finished`` with their candidates."""
        chosen = self._lookup("exporter", exporter).item
        if chosen.is_shop or not chosen.products:
            raise PluginError(f"The exporter '{chosen.name}' does not take products.")
        info = self._owner("exporter", chosen.name)
        path = Path(path)
        copies = copy.deepcopy(list(products))
        self._run_selected(info, f"exporter '{chosen.name}'", "exporter", chosen.write, copies, path,
                           self._options(chosen, "exporter", options))
        candidates = [candidate for record in copies for candidate in getattr(record, "candidates", [])]
        self.export_finished(chosen.name, path, len(candidates), candidates)
        return path

    def shop_options(self, exporter: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """A shop target's settings: its schema's defaults, overridden by ``options`` (checked)."""
        chosen = self._lookup("exporter", exporter).item
        return self._options(chosen, "exporter", options)

    def connect_shop(self, exporter: str, options: Mapping[str, Any], credentials: Mapping[str, str]) -> Any:
        """A ``ShopClient`` from the named shop target; errors name the plugin."""
        chosen = self._lookup("exporter", exporter).item
        if not chosen.is_shop:
            raise PluginError(f"The exporter '{chosen.name}' writes files, not to a shop.")
        info = self._owner("exporter", chosen.name)
        options = self._options(chosen, "exporter", options)
        credentials = dict(credentials)
        host = getattr(chosen.connect, "_host", None)
        if host is not None:  # the plugin gets placeholders; the app sends its requests with the keys
            credentials = host.seal(credentials, str(options.get("shop_url", "")))
        client = self._run_selected(info, f"exporter '{chosen.name}' connect", "shop", chosen.connect,
                                    options, credentials)
        if not callable(getattr(client, "send", None)) or not isinstance(getattr(client, "batch_size", None), int):
            problem = self._fail(info, f"exporter '{chosen.name}' connect",
                                 f"returned {_describe_value(client)}, not a ShopClient with send() and batch_size")
            raise PluginError(_problem_message(problem, info))
        if info.builtin:
            return client
        return _GuardedShopClient(self, info, chosen.name, client)

    def load_backend(self, name: str, context: BackendContext) -> GenerationBackend:
        """Load the backend called ``name``; errors name the plugin that provides it."""
        backend = self.backend(name)
        info = self._owner("backend", name)
        context = BackendContext(model=context.model, provider=context.provider, threads=context.threads,
                                 options=self._options(backend, "backend", context.options))
        loaded = self._run_selected(info, f"backend '{name}' load", "backend_load", backend.load, context)
        generate = getattr(loaded, "generate", None)
        special = getattr(loaded, "special_tokens", None)
        if not callable(generate) or not isinstance(getattr(loaded, "provider", None), str) or isinstance(
            special, str
        ) or not isinstance(special, (list, tuple)):
            problem = self._fail(info, f"backend '{name}' load",
                                 f"returned {_describe_value(loaded)}, not an object with provider, "
                                 "special_tokens and generate()")
            raise PluginError(_problem_message(problem, info))
        return loaded

    def run_backend(
        self,
        name: str,
        backend: GenerationBackend,
        messages: list[dict[str, str]],
        settings: "GenerationSettings",
        *,
        cancel: "CancelToken | None" = None,
        on_token: Callable[[Any], None] | None = None,
    ) -> list[Any]:
        """Run a loaded backend; checks it returned one completion per candidate."""
        info = self._owner("backend", name)
        completions = self._run_selected(info, f"backend '{name}' generate", "backend", backend.generate,
                                         _copy_messages(messages), settings, cancel=cancel, on_token=on_token)
        problem_text = _completions_problem(completions, settings.n)
        if problem_text:
            problem = self._fail(info, f"backend '{name}' generate", problem_text)
            raise PluginError(_problem_message(problem, info))
        return completions

    # -- error boundaries ----------------------------------------------------------------------------

    def _call(self, info: PluginInfo, what: str, kind: str, fn: Callable[..., Any], args: Sequence[Any] = (),
              kwargs: Mapping[str, Any] | None = None) -> Any:
        """Run plugin code under its kind's deadline, marked as plugin work: in its host when it
        lives in one, else on a worker thread that is abandoned at the deadline."""
        seconds = self.deadlines.get(kind)
        with plugin_work(info.name, info.version, info.source, what):
            remote = getattr(fn, "call_remote", None)
            if remote is not None:
                return remote(tuple(args), kwargs, seconds=seconds, kind=kind)
            return call_with_deadline(fn, tuple(args), kwargs, seconds=seconds, kind=kind)

    def _call_impl(self, info: PluginInfo, hook: str, kind: str, impl: pluggy.HookImpl,
                   kwargs: Mapping[str, Any]) -> Any:
        return self._call(info, hook, kind, impl.function, [kwargs[name] for name in impl.argnames])

    def _guarded(self, info: PluginInfo, hook: str, impl: pluggy.HookImpl, **kwargs: Any) -> tuple[bool, Any]:
        kind = "event" if hook in EVENT_HOOKS else "hook"
        try:
            return True, self._call_impl(info, hook, kind, impl, kwargs)
        except (Exception, SystemExit) as error:
            self._fail(info, hook, error)
            return False, None

    def _guarded_call(self, info: PluginInfo, what: str, kind: str, fn: Callable[..., Any],
                      *args: Any) -> tuple[bool, Any]:
        try:
            return True, self._call(info, what, kind, fn, args)
        except (Exception, SystemExit) as error:
            self._fail(info, what, error)
            return False, None

    def _run_selected(self, info: PluginInfo, what: str, kind: str, fn: Callable[..., Any], *args: Any,
                      **kwargs: Any) -> Any:
        """Call something the user chose (an exporter, importer, backend): their own errors
        (AdCopyError, OSError) pass through, anything else (a missed deadline, a dead host too)
        becomes a PluginError naming the plugin."""
        from adcopy_desktop.core.plugins.remote import HostDied, HostStopped

        try:
            return self._call(info, what, kind, fn, args, kwargs)
        except (HostDied, HostStopped) as error:
            problem = self._fail(info, what, error)
            raise PluginError(_problem_message(problem, info)) from None
        except (AdCopyError, OSError):
            raise
        except (Exception, SystemExit) as error:
            problem = self._fail(info, what, error)
            raise PluginError(_problem_message(problem, info)) from error

    def _owner(self, kind: str, name: str) -> PluginInfo:
        info = self.provider_of(kind, name)
        if info is None:
            self._lookup(kind, name)  # raises
            raise PluginError(f"The {kind} '{name}' belongs to a plugin that is no longer active.")
        return info

    def _options(self, item: Any, kind: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
        try:
            return resolve_options(item.settings_schema, given, f"{kind} '{item.name}'")
        except RegistrationError as error:
            raise PluginError(str(error)) from None

    # -- teardown -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Unregister everything, stop the plugin hosts and forget modules imported from plugin
        folders (tests, reload)."""
        with self._lock:
            for host in self._hosts:
                host.stop("the session ended")
            self._hosts.clear()
            for _, plugin in list(self._active.values()):
                if self._pm.is_registered(plugin):
                    self._pm.unregister(plugin)
            self._active.clear()
            for registry in self._registries.values():
                registry.clear()
            for entry in self._added_paths:
                while entry in sys.path:
                    sys.path.remove(entry)
                for module_name, module in list(sys.modules.items()):
                    location = _module_location(module)
                    if location is not None and _is_inside(location, Path(entry)):
                        del sys.modules[module_name]
            self._added_paths.clear()
            importlib.invalidate_caches()


class _GuardedShopClient:
    """A plugin's shop client whose ``send`` runs under the ``shop`` deadline in its error
    boundary: a send that hangs (a shop that never answers) ends at the deadline, the plugin is
    reported and disabled, and the outbox keeps the items to send again."""

    def __init__(self, manager: PluginManager, info: PluginInfo, exporter: str, client: Any):
        self._manager, self._info, self._exporter, self._client = manager, info, exporter, client
        self.batch_size = client.batch_size

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._client, name)

    def send(self, items: Sequence[Any]) -> Any:
        return self._manager._run_selected(self._info, f"exporter '{self._exporter}' send", "shop",
                                           self._client.send, list(items))

    def __repr__(self) -> str:
        return f"<{self._client!r} of plugin {self._info.name}>"


class _Collector:
    """The ``register`` callback handed to one plugin for one registration hook."""

    def __init__(self, manager: PluginManager, info: PluginInfo, kind: str, staged: dict[str, dict[str, Any]]):
        self._manager = manager
        self._info = info
        self._kind = kind
        self._staged = staged
        self.errors: list[str] = []
        self.closed = False

    def __call__(self, item: Any = None, /, **fields: Any) -> None:
        if self.closed:
            raise PluginError(
                f"plugin '{self._info.name}' called register() after {REGISTRATION_HOOKS[self._kind]} returned; "
                "register everything inside the hook"
            )
        if fields:
            if item is not None:
                self.errors.append("pass register() one object or keyword fields, not both")
                return
            item = fields
        if len(self._staged[self._kind]) >= MAX_REGISTRATIONS:
            if len(self._staged[self._kind]) == MAX_REGISTRATIONS and not self.errors:
                self.errors.append(f"it registered more than {MAX_REGISTRATIONS} {self._kind}s")
            return
        try:
            value = validate_registration(self._kind, item)
        except RegistrationError as error:
            self.errors.append(str(error))
            return
        existing = self._manager._registries[self._kind].get(value.name)
        if existing is not None:
            self.errors.append(f"{self._kind} '{value.name}' is already registered by plugin '{existing.plugin}'")
        elif value.name in self._staged[self._kind]:
            self.errors.append(f"{self._kind} '{value.name}' is registered twice")
        else:
            self._staged[self._kind][value.name] = value


# -- helpers ---------------------------------------------------------------------------------------


def _problem_message(problem: PluginProblem, info: PluginInfo) -> str:
    tail = "" if info.builtin else "; it is disabled for this session"
    return f"The {problem.describe()}{tail}. See: adcopy plugins list"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _raiser(error: Exception) -> Callable[[], object]:
    def load() -> object:
        raise error

    return load


def _dist_name(ep: importlib.metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None
    try:
        return dist.metadata["Name"] or getattr(dist, "name", None)
    except Exception:  # a broken METADATA file
        return None


def _dist_inside(dist: Any, folder: Path) -> bool:
    try:
        location = Path(dist.locate_file(""))
    except Exception:
        return False
    return _is_inside(location, folder)


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except (ValueError, OSError):
        return False


def _spec_location(spec: Any) -> Path | None:
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("built-in", "frozen", "namespace"):
        return Path(spec.origin)
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]) if locations else None


def _module_location(module: Any) -> Path | None:
    file = getattr(module, "__file__", None)
    if file:
        return Path(file)
    paths = list(getattr(module, "__path__", None) or [])
    return Path(paths[0]) if paths else None


def _unknown_hooks_message(names: list[str]) -> str:
    import difflib

    parts = []
    for name in names:
        close = difflib.get_close_matches(name, hook_names(), n=1)
        parts.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return f"it implements unknown hook(s) {', '.join(parts)}"


def _describe_value(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(value).__name__} {text}"


def _copy_messages(messages: Any) -> list[dict[str, str]]:
    return [dict(message) for message in messages]


def _messages_problem(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return f"{_describe_value(messages)}, not a non-empty list of messages"
    if len(messages) > MAX_MESSAGES:
        return f"{len(messages)} messages; at most {MAX_MESSAGES} are accepted"
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            return f"message {number} as {_describe_value(message)}, not {{'role': ..., 'content': ...}}"
        if message["role"] not in MESSAGE_ROLES or not isinstance(message["content"], str):
            return f"message {number} with role {message['role']!r}; roles are {', '.join(MESSAGE_ROLES)} with text content"
    return None


def _to_score(value: Any) -> Score | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = Score(float(value))
    if not isinstance(value, Score):
        return None
    number = value.value
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        return None
    if not 0.0 <= number <= 1.0 or not isinstance(value.label, str) or not isinstance(value.explanation, str):
        return None
    if not isinstance(value.hard_fail, bool) or not isinstance(value.abstained, bool):
        return None
    spans = value.spans
    if isinstance(spans, list):
        spans = tuple(spans)
    if not isinstance(spans, tuple) or len(spans) > MAX_SPANS or not all(_valid_span(span) for span in spans):
        return None
    if spans is not value.spans:
        value = replace(value, spans=spans)
    # translations are extras: malformed ones are dropped, the verdict stays
    return value if _valid_localized(value.localized) else replace(value, localized={})


def _score_problem(value: Any) -> str:
    """Why a scorer's return value was refused, for the user to read."""
    spans = getattr(value, "spans", None)
    if isinstance(value, Score) and isinstance(spans, (list, tuple)) and len(spans) > MAX_SPANS:
        return f"returned a Score with {len(spans)} spans; at most {MAX_SPANS} are accepted"
    number = getattr(value, "value", value)
    if isinstance(number, float) and not math.isfinite(number):
        return f"returned {_describe_value(value)}, not a Score with a value from 0 to 1 (the value is {number})"
    return f"returned {_describe_value(value)}, not a Score with a value from 0 to 1"


def _valid_localized(localized: Any) -> bool:
    return isinstance(localized, Mapping) and all(
        isinstance(language, str) and isinstance(texts, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in texts.items())
        for language, texts in localized.items())


def _valid_span(span: Any) -> bool:
    return (
        isinstance(span, ScoreSpan)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in (span.start, span.end))
        and 0 <= span.start <= span.end
        and isinstance(span.message, str)
        and span.severity in SPAN_SEVERITIES
    )


def _completions_problem(completions: Any, expected: int) -> str | None:
    if not isinstance(completions, list):
        return f"returned {_describe_value(completions)}, not a list of completions"
    if len(completions) != expected:
        return f"returned {len(completions)} completions for {expected} candidates"
    for completion in completions:
        for attribute, kind in _COMPLETION_FIELDS.items():
            if not isinstance(getattr(completion, attribute, None), kind):
                return f"returned a completion without a valid '{attribute}': {_describe_value(completion)}"
    return None


# -- the session's manager ---------------------------------------------------------------------------

_default_lock = threading.Lock()
_default_manager: PluginManager | None = None
_default_options: dict[str, Any] = {}


def get_plugin_manager() -> PluginManager:
    """The process-wide manager the CLI and GUI use, created (not loaded) on first call."""
    global _default_manager
    with _default_lock:
        if _default_manager is None:
            _default_manager = PluginManager(**_default_options)
        return _default_manager


def current_plugin_manager() -> PluginManager | None:
    """The process-wide manager if one was created, without creating it."""
    return _default_manager


def configure_plugins(**options: Any) -> None:
    """Options for the process-wide manager (``safe_mode=True`` ...); replaces a created one."""
    global _default_manager
    with _default_lock:
        _default_options.update(options)
        if _default_manager is not None:
            _default_manager.close()
            _default_manager = None


def set_plugin_manager(manager: PluginManager | None) -> None:
    """Use ``manager`` as the process-wide manager (tests, embedding)."""
    global _default_manager
    with _default_lock:
        _default_manager = manager


def reset_plugin_manager() -> None:
    """Close and forget the process-wide manager and its options (tests call this after each test)."""
    global _default_manager
    with _default_lock:
        if _default_manager is not None:
            _default_manager.close()
        _default_manager = None
        _default_options.clear()
