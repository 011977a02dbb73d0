"""What plugins register, and the checks every registration passes before the core accepts it.

Each registration hook hands the plugin a ``register(...)`` callback; the manager turns what the
plugin passes into one of the types below (``validate_registration``), so names, required fields and
settings schemas are checked in one place, and problems name the plugin that caused them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, Protocol, Sequence, TypeVar

from adcopy_desktop.core.languages import SUPPORTED_LANGUAGES
from adcopy_desktop.core.styles import BrandStyle, load_style_file

if TYPE_CHECKING:
    from adcopy_desktop.core.candidates import Candidate, GenerationSettings
    from adcopy_desktop.core.model_store import ModelInfo
    from adcopy_desktop.core.catalog import ImportResult
    from adcopy_desktop.core.product import Product
    from adcopy_desktop.core.progress import CancelToken
    from adcopy_desktop.core.prompts import CopyRequest

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SETTING_TYPES = ("string", "integer", "number", "boolean", "choice")


class RegistrationError(ValueError):
    """A registration the core refuses; the manager adds which plugin made it."""


# -- what plugins register -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreSpan:
    """A stretch of the candidate's text a score points at: ``text[start:end]`` and why."""

    start: int
    end: int
    message: str = ""
    severity: str = "info"  # info | warning | error

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "message": self.message, "severity": self.severity}


SPAN_SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Score:
    """A scorer's verdict: ``value`` in [0, 1] (1 is best), a short label, and why.

    Optional: ``spans`` (``ScoreSpan``) highlight the parts of the text the verdict is about;
    ``hard_fail`` marks a candidate that must not be used as it is (an advertising-law term, a
    forbidden word): ranking sinks it below every other candidate and says why; ``abstained``
    means the scorer has no verdict for this candidate (nothing to check, or a learned scorer not
    trained well enough yet): ranking ignores it and ``value`` is only a placeholder.

    ``label`` and ``explanation`` are English; ``localized`` may give them in other languages,
    ``{"zh": {"label": ..., "explanation": ...}}``, for the interface (``core/texts.py`` builds it)."""

    value: float
    label: str = ""
    explanation: str = ""
    spans: tuple[ScoreSpan, ...] = ()
    hard_fail: bool = False
    abstained: bool = False
    # translations are extras: two verdicts are equal whatever languages they come in
    localized: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        found = {"value": self.value, "label": self.label, "explanation": self.explanation,
                 "spans": [span.to_dict() for span in self.spans], "hard_fail": self.hard_fail,
                 "abstained": self.abstained}
        if self.localized:
            found["localized"] = {language: dict(texts) for language, texts in self.localized.items()}
        return found


@dataclass(frozen=True)
class ScoreContext:
    """What a scorer may look at besides the candidate."""

    request: "CopyRequest | None" = None
    style: BrandStyle | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # the scorer's settings (its schema's values)


@dataclass(frozen=True)
class Scorer:
    """Rates a candidate: ``score(candidate, context)`` returns a ``Score`` (or a number in [0, 1])."""

    name: str
    score: Callable[["Candidate", ScoreContext], "Score | float"]
    label: str = ""
    description: str = ""
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    settings_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # ``label`` in other languages: {"zh": "忠实度"}


@dataclass(frozen=True)
class Importer:
    """Reads products from a file: ``read(path, options)`` returns a list of ``Product``, or an
    ``ImportResult`` (``core/catalog``) that also carries skipped rows with their reasons, the
    encoding and format found, and each product's shop id and source rows. With
    ``takes_context=True`` it is called as ``read(path, options, context)`` and gets an
    ``ImportContext`` (progress callback, cancel token, confirmed column mapping)."""

    name: str
    read: Callable[..., "list[Product] | ImportResult"]
    extensions: tuple[str, ...]  # ".csv", ".xlsx" ... (lower case, with the dot)
    label: str = ""
    description: str = ""
    settings_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    takes_context: bool = False


@dataclass(frozen=True)
class ImportContext:
    """What a ``takes_context`` importer gets besides the path and options."""

    progress: Callable[[Any], None]  # takes ``ProgressEvent``s
    cancel: "CancelToken | None" = None
    mapping: Any = None  # a ``ColumnMapping`` the user confirmed for a generic table, or None


@dataclass(frozen=True)
class Exporter:
    """Where accepted copy goes: a file or a shop.

    - A file exporter has ``write(records, path, options)`` and an ``extension``; the records are
      ``Candidate`` objects (from the library: ``ExportedCandidate``, which adds the product), or,
      with ``products=True``, one ``ProductCopy`` per product with the copy mapped to shop fields
      (``core/product_copy.py``). The return value is ignored.
    - A shop target has ``connect(options, credentials)`` returning a ``ShopClient``
      (``core/shops``) and no ``write``; its items go through the outbox (``core/outbox.py``), so
      each is confirmed by the shop before it counts as done. Its settings must include
      ``shop_url``; ``credentials`` names the secrets it needs, which the core reads from the OS
      keyring (``core/secrets.py``) and passes to ``connect``; they never appear in options.
    """

    name: str
    write: Callable[[Sequence[Any], Path, Mapping[str, Any]], Any] | None = None
    extension: str = ""  # ".csv" (lower case, with the dot); empty for shop targets
    label: str = ""
    description: str = ""
    settings_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    products: bool = False
    connect: Callable[[Mapping[str, Any], Mapping[str, str]], Any] | None = None
    credentials: tuple[str, ...] = ()

    @property
    def is_shop(self) -> bool:
        return self.connect is not None


@dataclass(frozen=True)
class BackendContext:
    """What a backend's ``load`` receives: the chosen model (None when the backend does not use the
    model store), the execution provider asked for, the thread count, and the backend's settings."""

    model: "ModelInfo | None"
    provider: str = "auto"
    threads: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


class GenerationBackend(Protocol):
    """A loaded generator. ``generate`` returns one completion per candidate (``settings.n``), each
    with ``index``, ``text``, ``token_ids``, ``finish_reason``, ``first_token_s``, ``elapsed_s`` and
    ``prompt_tokens`` (``adcopy_desktop.core.runtime.Completion`` has them all); ``on_token``
    receives ``TokenEvent``-like objects (``index``, ``text``) while it runs."""

    provider: str  # what ran it, shown to the user ("CPUExecutionProvider")
    special_tokens: Sequence[str]  # the model's special-token strings, removed from prompt text

    def generate(
        self,
        messages: list[dict[str, str]],
        settings: "GenerationSettings",
        *,
        cancel: "CancelToken | None" = None,
        on_token: Callable[[Any], None] | None = None,
    ) -> list[Any]: ...


@dataclass(frozen=True)
class Backend:
    """A way to run generation: ``load(context)`` returns a ``GenerationBackend``.

    ``uses_model_store``: the backend runs the models in the model store (context.model is the
    active or chosen model and its languages apply); otherwise ``languages`` says what it writes."""

    name: str
    load: Callable[[BackendContext], GenerationBackend]
    label: str = ""
    description: str = ""
    uses_model_store: bool = True
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    settings_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# -- the registries ------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Registered(Generic[T]):
    """A registered item and the plugin that registered it."""

    item: T
    plugin: str


KINDS: dict[str, type] = {
    "style": BrandStyle,
    "scorer": Scorer,
    "importer": Importer,
    "exporter": Exporter,
    "backend": Backend,
}


def validate_registration(kind: str, value: Any) -> Any:
    """Turn what a plugin passed to ``register`` into a checked item of ``kind``, or raise
    RegistrationError saying what is wrong."""
    expected = KINDS[kind]
    if kind == "style":
        return _style_from(value)
    if isinstance(value, Mapping):
        try:
            value = expected(**value)
        except TypeError as error:
            raise RegistrationError(f"cannot build a {expected.__name__} from {dict(value)!r}: {error}") from None
    if not isinstance(value, expected):
        raise RegistrationError(
            f"register() for {kind}s takes a {expected.__name__} (or a dict of its fields), "
            f"not {type(value).__name__}"
        )
    _check_name(value.name, kind)
    if not isinstance(value.label, str) or not isinstance(value.description, str):
        raise RegistrationError(f"{kind} '{value.name}': label and description must be text")
    validate_settings_schema(value.settings_schema, f"{kind} '{value.name}'")
    callable_field = {"scorer": "score", "importer": "read", "exporter": "write", "backend": "load"}[kind]
    if kind == "exporter":
        _check_exporter(value)
    elif not callable(getattr(value, callable_field)):
        raise RegistrationError(f"{kind} '{value.name}': {callable_field} must be callable")
    if kind == "importer":
        _check_extensions(value.extensions, f"importer '{value.name}'")
    if kind == "scorer" and (not isinstance(value.labels, Mapping) or not all(
            isinstance(code, str) and isinstance(label, str) for code, label in value.labels.items())):
        raise RegistrationError(f"scorer '{value.name}': labels must map language codes to text, "
                                "e.g. {'zh': '忠实度'}")
    if kind in ("scorer", "backend"):
        languages = value.languages
        if isinstance(languages, str) or not languages or any(code not in SUPPORTED_LANGUAGES for code in languages):
            raise RegistrationError(
                f"{kind} '{value.name}': languages must list codes from {', '.join(SUPPORTED_LANGUAGES)}"
            )
    return value


def _style_from(value: Any) -> BrandStyle:
    from adcopy_desktop.core.errors import StyleError

    try:
        if isinstance(value, BrandStyle):
            style = value
        elif isinstance(value, Mapping):
            style = BrandStyle.from_dict(value)
        elif isinstance(value, Path) or hasattr(value, "read_text"):
            style = load_style_file(value)
        else:
            raise RegistrationError(
                "register() for styles takes a BrandStyle, a dict of its fields or a style file "
                f"(TOML/JSON), not {type(value).__name__}"
            )
        return style.validate()
    except StyleError as error:
        raise RegistrationError(str(error)) from None


def _check_name(name: Any, kind: str) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise RegistrationError(
            f"{kind} name {name!r} must be 1-64 lowercase letters, digits, '.', '-' or '_', starting with "
            "a letter or digit"
        )


def _check_exporter(value: "Exporter") -> None:
    where = f"exporter '{value.name}'"
    if value.connect is not None:
        if value.write is not None or not callable(value.connect):
            raise RegistrationError(f"{where}: a shop target has a callable connect and no write")
        if "shop_url" not in value.settings_schema:
            raise RegistrationError(f"{where}: a shop target needs a 'shop_url' setting")
        if isinstance(value.credentials, str) or not all(
            isinstance(name, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name) for name in value.credentials
        ):
            raise RegistrationError(f"{where}: credentials must be a list of lower-case names like ['token']")
        if value.extension:
            _check_extensions((value.extension,), where)
        return
    if not callable(value.write):
        raise RegistrationError(f"{where}: write must be callable")
    if value.credentials:
        raise RegistrationError(f"{where}: only shop targets (with connect) take credentials")
    _check_extensions((value.extension,), where)


def _check_extensions(extensions: Any, where: str) -> None:
    if isinstance(extensions, str) or not isinstance(extensions, (tuple, list)) or not extensions:
        raise RegistrationError(f"{where}: extensions must be a list like ['.csv']")
    for extension in extensions:
        if not isinstance(extension, str) or not re.fullmatch(r"\.[a-z0-9]{1,10}", extension):
            raise RegistrationError(f"{where}: extension {extension!r} must look like '.csv' (lower case)")


# -- settings schemas ----------------------------------------------------------------------------


def validate_settings_schema(schema: Any, where: str) -> None:
    """A settings schema maps setting names to ``{"type", "default", "label", ...}``:
    ``type`` is string, integer, number, boolean or choice (with ``choices``); integer and number may
    have ``min``/``max``; ``default`` is required and must be valid itself."""
    if not isinstance(schema, Mapping):
        raise RegistrationError(f"{where}: settings_schema must be a dict of setting name -> spec")
    for key, spec in schema.items():
        at = f"{where}: setting '{key}'"
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", key):
            raise RegistrationError(f"{where}: setting name {key!r} must be a lower-case identifier")
        if not isinstance(spec, Mapping):
            raise RegistrationError(f"{at} must be a dict with type and default")
        unknown = set(spec) - {"type", "default", "label", "description", "choices", "min", "max"}
        if unknown:
            raise RegistrationError(f"{at} has unknown field(s) {', '.join(sorted(unknown))}")
        kind = spec.get("type")
        if kind not in SETTING_TYPES:
            raise RegistrationError(f"{at}: type must be one of {', '.join(SETTING_TYPES)} (got {kind!r})")
        if "default" not in spec:
            raise RegistrationError(f"{at} needs a default")
        if kind == "choice":
            choices = spec.get("choices")
            if not isinstance(choices, (list, tuple)) or not choices:
                raise RegistrationError(f"{at}: a choice needs a non-empty list of choices")
        for bound in ("min", "max"):
            if bound in spec and (kind not in ("integer", "number") or not _is_number(spec[bound])):
                raise RegistrationError(f"{at}: {bound} is only for integer/number settings and must be a number")
        problem = _value_problem(spec, spec["default"])
        if problem:
            raise RegistrationError(f"{at}: default {problem}")


def resolve_options(schema: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """The schema's defaults overridden by ``given``; unknown or invalid values raise RegistrationError."""
    options = {key: spec["default"] for key, spec in schema.items()}
    for key, value in (given or {}).items():
        if key not in schema:
            known = ", ".join(schema) or "none"
            raise RegistrationError(f"{where} has no setting '{key}' (settings: {known})")
        problem = _value_problem(schema[key], value)
        if problem:
            raise RegistrationError(f"{where}: setting '{key}' {problem}")
        options[key] = value
    return options


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _value_problem(spec: Mapping[str, Any], value: Any) -> str | None:
    kind = spec["type"]
    if kind == "string" and not isinstance(value, str):
        return f"must be text, not {value!r}"
    if kind == "boolean" and not isinstance(value, bool):
        return f"must be true or false, not {value!r}"
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"must be a whole number, not {value!r}"
    if kind == "number" and not _is_number(value):
        return f"must be a number, not {value!r}"
    if kind == "choice" and value not in spec["choices"]:
        return f"must be one of {', '.join(map(str, spec['choices']))}, not {value!r}"
    if kind in ("integer", "number"):
        if "min" in spec and value < spec["min"]:
            return f"must be at least {spec['min']} (got {value})"
        if "max" in spec and value > spec["max"]:
            return f"must be at most {spec['max']} (got {value})"
    return None
