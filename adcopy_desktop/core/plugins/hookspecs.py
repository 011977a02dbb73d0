"""Every hook AdCopy calls, in one place. docs/plugins.md documents each with an example.

A plugin is a module (or any object) with functions named after these hooks and decorated with
``@hookimpl`` (``from adcopy_desktop.core.plugins import hookimpl``). An implementation may accept
fewer arguments than the spec lists, by name, never more.

How the core calls them (``core/plugins/manager.py`` is the only caller):

- Registration hooks (``register_*``) run once per plugin when plugins load. They receive a
  ``register`` callback; call it once per thing you provide and return nothing. The core checks
  each registration (unique name, required fields, valid settings schema); a bad one rejects the
  plugin, with a message naming it.
- ``adjust_prompt`` and ``process_candidate`` form chains: each implementation receives what the
  previous one returned.
- Event hooks (``candidate_*``, ``export_finished``) are notifications; return values are ignored
  and they receive copies, so they cannot change the app's data.
- Every implementation runs in its own error boundary: one that raises, or returns the wrong type,
  is skipped, reported (plugin name, version, source, hook, error) and its plugin is disabled for
  the session; the other plugins' results still arrive.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pluggy

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from adcopy_desktop.core.candidates import Candidate
    from adcopy_desktop.core.plugins.registry import Backend, Exporter, Importer, Scorer
    from adcopy_desktop.core.prompts import CopyRequest
    from adcopy_desktop.core.styles import BrandStyle

PROJECT_NAME = "adcopy"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

RegisterStyle = Callable[["BrandStyle | Mapping[str, Any] | Path | Traversable"], None]
RegisterScorer = Callable[["Scorer | Mapping[str, Any]"], None]
RegisterImporter = Callable[["Importer | Mapping[str, Any]"], None]
RegisterExporter = Callable[["Exporter | Mapping[str, Any]"], None]
RegisterBackend = Callable[["Backend | Mapping[str, Any]"], None]
Messages = list[dict[str, str]]


# -- registration --------------------------------------------------------------------------------


@hookspec
def register_styles(register: RegisterStyle) -> None:
    """Provide brand styles.

    Receives ``register``; call ``register(style)`` once per style, where ``style`` is a
    ``BrandStyle``, a dict of its fields, or a ``.toml``/``.json`` style file (a ``Path`` or an
    ``importlib.resources`` file). Returns nothing.

    Called once, when plugins load. The style's name must be unique across all plugins (built-in
    ones load first and keep theirs), its languages, voice, examples, word lists and length rules
    must be valid; otherwise the plugin is rejected and the message names it and the problem.
    """


@hookspec
def register_scorers(register: RegisterScorer) -> None:
    """Provide scoring methods.

    Receives ``register``; call ``register(Scorer(name=..., score=fn, ...))`` once per scorer.
    ``fn(candidate, context)`` gets a copy of a ``Candidate`` and a ``ScoreContext`` (request, style,
    options) and returns a ``Score`` (value in [0, 1], label, explanation) or a number in [0, 1].
    Returns nothing.

    Called once, when plugins load. Scorers run later, each in its own error boundary, whenever the
    app scores candidates (``PluginManager.score``).
    """


@hookspec
def register_importers(register: RegisterImporter) -> None:
    """Provide product import sources.

    Receives ``register``; call ``register(Importer(name=..., read=fn, extensions=(".csv",)))``.
    ``fn(path, options)`` returns a list of ``Product``, or an ``ImportResult``
    (``adcopy_desktop.core.catalog``) with ``ImportedProduct`` items (product, shop id, source
    rows) and the rows it skipped with their reasons (``RowProblem``: row, column, message). With
    ``takes_context=True`` it is called as ``fn(path, options, context)``, ``context`` being an
    ``ImportContext`` (progress callback, cancel token, confirmed column mapping). Raise
    ``ProductParseError`` or ``CatalogError`` (or another ``AdCopyError``) for a file the user
    must fix; report single bad rows in the result instead. Returns nothing.

    Called once, when plugins load; importers run when the user imports a file (``adcopy import``,
    the import dialog, ``PluginManager.import_catalog``/``import_products``), chosen by name or
    by file extension. The built-in ones read Shopify and WooCommerce CSV, generic CSV, XLSX and
    JSON lines (``builtin/catalog_import.py``).
    """


@hookspec
def register_exporters(register: RegisterExporter) -> None:
    """Provide export targets: files or shops.

    Receives ``register``; call it once per target. Returns nothing.

    - A file: ``register(Exporter(name=..., write=fn, extension=".csv"))``;
      ``fn(candidates, path, options)`` writes the copy to ``path``. With ``products=True``, ``fn``
      receives one ``ProductCopy`` per product instead (copy mapped to shop fields, original import
      record included; ``core/product_copy.py``).
    - A shop: ``register(Exporter(name=..., connect=fn, credentials=("token",),
      settings_schema={"shop_url": ..., ...}))``; ``fn(options, credentials)`` returns a
      ``ShopClient`` (``core/shops``: ``batch_size``, ``destination``, ``send(items)`` returning one
      ``ItemResult`` per item, raising ``TransientShopError``/``ShopError``). The core sends
      through the outbox: items are stored before any request, marked done only when the shop
      confirmed them, retried with backoff, resumed after a crash. Credentials come from the OS
      keyring; never log or store them.

    Called once, when plugins load; exporters run when the user exports (``adcopy export --to
    NAME``, the export dialog, ``PluginManager.export``/``export_products``/``connect_shop``,
    ``adcopy generate --export FILE``), chosen by name or, for candidate files, by extension.
    """


@hookspec
def register_backends(register: RegisterBackend) -> None:
    """Provide generation backends (the built-in one runs ONNX models from the model store).

    Receives ``register``; call ``register(Backend(name=..., load=fn))``. ``fn(context)`` gets a
    ``BackendContext`` (model, provider, threads, options) and returns an object with ``provider``,
    ``special_tokens`` and ``generate(messages, settings, *, cancel, on_token)`` (see
    ``GenerationBackend``). Returns nothing.

    Called once, when plugins load; a backend is loaded when a generator first needs it
    (``adcopy generate --backend NAME``; the default is ``onnx``).
    """


# -- generation ----------------------------------------------------------------------------------


@hookspec
def adjust_prompt(
    messages: Messages, request: "CopyRequest", style: "BrandStyle | None", language: str
) -> Messages | None:
    """Change the chat messages before generation.

    Receives ``messages`` (a copy of ``[{"role": "system", "content": ...}, {"role": "user", ...}]``
    as built from the prompt templates, brand voice and examples, and as changed by the plugins
    before this one), the ``CopyRequest`` (style notes applied), the ``BrandStyle`` in use or None,
    and the output ``language`` ("zh" or "en").

    Returns the new list of messages (roles system/user/assistant, text content), or None to keep
    them as they are (edits made in place to the received list are kept too).

    Called once per generation request, after the prompt is built and before it is tokenised;
    implementations form a chain. Product facts in the user message are already sanitised data:
    keep them inside their ``<product>`` block.
    """


@hookspec
def process_candidate(
    candidate: "Candidate", request: "CopyRequest", style: "BrandStyle | None"
) -> "Candidate | None":
    """Post-process one generated candidate.

    Receives a copy of the ``Candidate`` (text already cleaned of labels and quotes), the
    ``CopyRequest`` and the ``BrandStyle`` in use or None.

    Returns a ``Candidate`` (usually the received one with ``text`` or ``flags`` changed), or None to
    keep it (edits made in place are kept). Do not drop meaning silently: flag instead of cutting.

    Called for every candidate, regenerated ones included, before the style's word rules are
    checked; implementations form a chain.
    """


# -- events --------------------------------------------------------------------------------------


@hookspec
def candidate_accepted(candidate: "Candidate") -> None:
    """The user accepted a candidate (kept it for use).

    Receives a copy of the accepted ``Candidate``. Returns nothing (a return value is ignored).
    Called after the acceptance is recorded (``PluginManager.candidate_accepted``).
    """


@hookspec
def candidate_rejected(candidate: "Candidate", reason: str | None) -> None:
    """The user rejected a candidate.

    Receives a copy of the ``Candidate`` and the reason the user gave, or None. Returns nothing
    (a return value is ignored). Called after the rejection is recorded
    (``PluginManager.candidate_rejected``).
    """


@hookspec
def candidate_edited(candidate: "Candidate", previous_text: str) -> None:
    """The user edited a candidate's text.

    Receives a copy of the ``Candidate`` with the new text and the text before the edit. Returns
    nothing (a return value is ignored). Called after the edit is saved
    (``PluginManager.candidate_edited``).
    """


@hookspec
def export_finished(exporter: str, path: Path, count: int, candidates: "Sequence[Candidate]") -> None:
    """A file export completed.

    Receives the exporter's name, the written ``path``, the number of candidates written and copies
    of them. Returns nothing (a return value is ignored). Called after a file exporter returned
    without error (``PluginManager.export``/``export_products``); not after a failed export, and
    not for shop targets (their results are in the outbox).
    """
