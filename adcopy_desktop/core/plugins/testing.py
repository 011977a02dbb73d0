"""Helpers for testing plugins, for AdCopy's own tests and for plugin authors.

    from adcopy_desktop.core.plugins.testing import plugin_manager_for, scripted_backend

    def test_my_style():
        manager = plugin_manager_for(my_plugin, scripted_backend([["first", "second"]]))
        assert manager.problems == []
        generator = CopyGenerator(plugins=manager, backend="scripted")
        candidates = generator.generate(request, GenerationSettings(n=2), style="mybrand")

A manager from ``plugin_manager_for`` sees the built-in plugins and the ones you pass, never the
plugins installed on the machine or in the user's plugin folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from adcopy_desktop.core.plugins.hookspecs import hookimpl
from adcopy_desktop.core.plugins.manager import PluginManager
from adcopy_desktop.core.plugins.registry import Backend, BackendContext


def plugin_manager_for(*plugins: object, builtins: bool = True) -> PluginManager:
    """An isolated manager: built-ins (unless ``builtins=False``) plus ``plugins``, loaded."""
    manager = PluginManager(builtins=builtins, entry_points=[], plugin_folder=False, safe_mode=False,
                            allow="*", disabled=[])
    manager.load()
    for number, plugin in enumerate(plugins, start=1):
        name = getattr(plugin, "plugin_name", None) or getattr(plugin, "__name__", None) or f"test-plugin-{number}"
        manager.add_plugin(plugin, name=name, version=getattr(plugin, "version", "") or "")
    return manager


@dataclass
class FakeCompletion:
    """What a backend returns per candidate (the fields of ``core.runtime.Completion``)."""

    index: int
    text: str
    token_ids: list[int] = field(default_factory=list)
    finish_reason: str = "eos"
    first_token_s: float = 0.0
    elapsed_s: float = 0.0
    prompt_tokens: int = 0


@dataclass(frozen=True)
class FakeTokenEvent:
    index: int
    token_id: int
    text: str
    finish_reason: str | None = None


class ScriptedBackend:
    """A backend that returns prepared texts: batch k of ``batches`` for the k-th ``generate`` call
    (the last batch repeats). Records every call's messages and settings in ``calls``."""

    provider = "scripted"
    special_tokens: tuple[str, ...] = ("<|im_start|>", "<|im_end|>")

    def __init__(self, batches: Sequence[Sequence[str]] | Callable[[int, Any, Any], Sequence[str]]):
        self.batches = batches
        self.calls: list[dict[str, Any]] = []

    def generate(self, messages, settings, *, cancel=None, on_token=None):
        number = len(self.calls)
        self.calls.append({"messages": messages, "settings": settings})
        if callable(self.batches):
            texts = list(self.batches(number, messages, settings))
        else:
            texts = list(self.batches[min(number, len(self.batches) - 1)])
        texts = (texts * settings.n)[: settings.n] if texts else [""] * settings.n
        completions = []
        for index, text in enumerate(texts):
            if on_token is not None:
                on_token(FakeTokenEvent(index=index, token_id=0, text=text, finish_reason="eos"))
            completions.append(FakeCompletion(index=index, text=text, token_ids=[0] * max(1, len(text.split())),
                                              prompt_tokens=sum(len(m["content"]) for m in messages)))
        return completions


class scripted_backend:  # noqa: N801 - reads as a function in tests
    """A plugin registering a ``ScriptedBackend`` called ``name`` (no model store needed)."""

    def __init__(self, batches, *, name: str = "scripted", languages: tuple[str, ...] = ("zh", "en")):
        self.backend = ScriptedBackend(batches)
        self.plugin_name = f"test.{name}-backend"
        self._name = name
        self._languages = languages

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self.backend.calls

    @hookimpl
    def register_backends(self, register):
        register(Backend(name=self._name, load=self._load, uses_model_store=False, languages=self._languages,
                         label="Scripted test backend"))

    def _load(self, context: BackendContext) -> ScriptedBackend:
        return self.backend
