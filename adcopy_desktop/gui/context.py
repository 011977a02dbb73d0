"""What every part of the window shares: the model store, the library, plugins, settings, jobs.

``AppContext`` owns no widgets. Panels talk to each other through its signals (the library changed,
the models changed, ...) instead of holding references to one another, and start long work through
``run()``, which wires a job's failure to the visible message bar.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QSettings, Signal

from adcopy_desktop.core.endpoints import OPENAI_BACKEND, parse_remote_model_choice, resolve_backend_choice
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.plugins import (
    PluginManager,
    PluginProblem,
    configure_plugins,
    get_plugin_manager,
)
from adcopy_desktop.core.settings import Settings, load_settings, save_settings
from adcopy_desktop.gui.labels import source_label
from adcopy_desktop.gui.worker import BackgroundJob, JobTracker, Task
from adcopy_desktop.paths import user_folders

log = logging.getLogger("adcopy.gui")

WINDOW_STATE_FILE = "window.ini"

ERROR, WARNING, INFO = "error", "warning", "info"


def window_settings() -> QSettings:
    """Layout and last choices of the window, in the config folder (``ADCOPY_HOME`` moves it)."""
    folder = user_folders().config
    folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / WINDOW_STATE_FILE), QSettings.Format.IniFormat)


class AppContext(QObject):
    products_changed = Signal()
    candidates_changed = Signal()  # a generation was recorded, a decision or an edit was made
    models_changed = Signal()
    plugins_changed = Signal()
    settings_changed = Signal(object)  # Settings
    message = Signal(str, str)  # level (error | warning | info), text
    show_product = Signal(int)  # a panel asks the writer to open a product
    provider_loaded = Signal(str)  # the ONNX Runtime execution provider the loaded model runs on

    def __init__(
        self,
        store: ModelStore | None = None,
        library: Library | None = None,
        plugins: PluginManager | None = None,
        settings: Settings | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.store = store or ModelStore()
        self.library = library if library is not None else Library()
        self._plugins = plugins
        self.settings = settings if settings is not None else load_settings()
        self.jobs = JobTracker(self)
        self.models_changed.connect(self.drop_generators)  # "Active model" may mean another model now
        self._generators: dict[tuple, CopyGenerator] = {}
        self.model_lock = threading.Lock()  # one thread loads a generator's model at a time
        self._problems_seen = 0
        self._problems_of: PluginManager | None = None
        self.closed = False

    # -- plugins ----------------------------------------------------------------------------------

    @property
    def plugins(self) -> PluginManager:
        """The session's plugin manager (the process-wide one unless one was passed in), loaded."""
        manager = self._plugins if self._plugins is not None else get_plugin_manager()
        return manager.load()

    @property
    def can_reload_plugins(self) -> bool:
        return self._plugins is None

    def reload_plugins(self) -> None:
        """Load the plugins again after enabling, disabling or installing one (the process-wide
        manager is rebuilt from settings); generators are dropped so they use the new plugins."""
        if self.jobs.running("generation"):
            raise RuntimeError("wait for the running generation to finish before reloading plugins")
        if self._plugins is None:
            configure_plugins()
        self._generators.clear()
        self._problems_seen = 0
        self._problems_of = None
        self.plugins  # load now, on the UI thread, so problems show at once
        self.plugins_changed.emit()
        self.report_plugin_problems()

    def report_plugin_problems(self) -> list[PluginProblem]:
        """Show each plugin problem once in the message bar; returns the new ones."""
        manager = self.plugins
        if manager is not self._problems_of:
            self._problems_of, self._problems_seen = manager, 0
        problems = manager.problems
        new = problems[self._problems_seen:]
        self._problems_seen = len(problems)
        for problem in new:
            self.message.emit(WARNING, self.describe_problem(problem))
        if new:
            self.plugins_changed.emit()
        return new

    def describe_problem(self, problem: PluginProblem) -> str:
        text = self.tr("Plugin '{name}'{version} ({source}) failed in {hook}: {error}").format(
            name=problem.name, version=f" {problem.version}" if problem.version else "",
            source=source_label(problem.source),
            hook=problem.hook, error=problem.error)
        if problem.disabled:
            text += self.tr("; it is disabled for this session")
        return text

    # -- generation ------------------------------------------------------------------------------

    def generator(self, model_id: str | None = None) -> CopyGenerator:
        """A generator for ``model_id`` (None: the active model; ``remote:SERVER/MODEL``: that
        server's model through the openai-compatible backend); its model loads on first use, which
        callers do in a worker."""
        manager = self.plugins
        key = (model_id, self.settings.execution_provider, self.settings.threads, id(manager))
        if key not in self._generators:
            self._generators.clear()  # one loaded model at a time
            remote = parse_remote_model_choice(model_id)
            if remote is not None:  # a server's model from the picker: only the model call goes there
                endpoint, model = remote
                self._generators[key] = CopyGenerator(
                    self.store, backend=OPENAI_BACKEND, backend_options={"endpoint": endpoint, "model": model},
                    plugins=manager,
                )
            else:
                self._generators[key] = CopyGenerator(
                    self.store, model_id=model_id, provider=self.settings.execution_provider,
                    threads=self.settings.threads, plugins=manager,
                )
        return self._generators[key]

    def backend_generator(self, choice: str) -> CopyGenerator:
        """A fresh generator on what ``--backend`` would name (a server, ``pool``, ``pool:a,b``, a
        plugin's backend): for bulk jobs, kept apart from the writer's cached (loaded) generators."""
        backend, options = resolve_backend_choice(choice)
        return CopyGenerator(self.store, backend=backend, backend_options=options, plugins=self.plugins,
                             provider=self.settings.execution_provider, threads=self.settings.threads)

    def drop_generators(self) -> None:
        self._generators.clear()

    def preload_model(self, model_id: str | None = None) -> BackgroundJob | None:
        """Load the model in the background before the first Generate (quietly: a missing or
        damaged model is reported when the user generates)."""
        if self.closed or (self.store.active_id() is None and model_id is None):
            return None
        generator = self.generator(model_id)
        lock = self.model_lock

        def task(report, cancel):
            with lock:
                return generator.backend.provider

        return self.run(self.tr("Loading the model"), task, kind="preload", show_errors=False,
                        on_success=lambda provider: self.provider_loaded.emit(str(provider or "")))

    # -- settings -------------------------------------------------------------------------------

    def save_settings(self, settings: Settings) -> None:
        changed_runtime = (settings.execution_provider, settings.threads) != (
            self.settings.execution_provider, self.settings.threads)
        save_settings(settings)
        self.settings = settings
        if changed_runtime and not self.jobs.running("generation"):
            self.drop_generators()
        self.settings_changed.emit(settings)

    # -- background work --------------------------------------------------------------------------

    def run(
        self,
        name: str,
        task: Task,
        *,
        kind: str = "work",
        on_success: Callable[[Any], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        show_errors: bool = True,
        owner: QObject | None = None,
    ) -> BackgroundJob:
        """Start ``task`` off the UI thread; its failure becomes a visible message naming it.

        ``owner``: the widget the callbacks belong to; they are skipped once it is gone (a window
        rebuilt in another language while the job ran)."""
        job = BackgroundJob(name, task, kind=kind)

        def guarded(callback):
            # a job that ends after the window closed must not touch views or the closed library
            if owner is None:
                return lambda *args: None if self.closed else callback(*args)
            return lambda *args: callback(*args) if shiboken6.isValid(owner) and not self.closed else None

        if on_progress is not None:
            job.signals.progress.connect(guarded(on_progress))
        if on_success is not None:
            job.signals.succeeded.connect(guarded(on_success))
        if show_errors:
            job.signals.failed.connect(lambda text: self.message.emit(ERROR, text))
        if on_finished is not None:
            job.signals.finished.connect(guarded(on_finished))
        return self.jobs.start(job)

    def error(self, text: str) -> None:
        self.message.emit(ERROR, text)

    def notice(self, text: str) -> None:
        self.message.emit(INFO, text)

    def close(self) -> None:
        """Stop running work (cancel, then wait briefly for the workers to return)."""
        self.closed = True
        self.jobs.cancel_all()
        self.jobs.wait_all(10.0)
        self.blockSignals(True)  # nothing refreshes a view over the library closed after this
