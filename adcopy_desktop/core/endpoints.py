"""OpenAI-compatible inference servers the user configured: names and options in settings, API
keys in the OS keyring.

An endpoint is one server (vLLM, llama.cpp's server, Ollama, TGI, another machine's ``adcopy
serve``) that speaks ``POST /v1/chat/completions``. ``settings.backends`` keeps what is not secret
(name, base URL, model, timeouts, retries, how many requests it takes at once); the key, when the
server wants one, is stored with ``core/secrets.py`` under the target ``openai-compatible`` and the
endpoint's name, so it is never in a settings file, a log or an error message.

``resolve_backend_choice`` turns what a user types after ``--backend`` into a registered backend
and its options: ``pool`` (every endpoint, or ``pool:a,b``), ``openai-compatible`` (the first
endpoint, or ``openai-compatible:NAME``), an endpoint's own name, or any plugin backend.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.settings import load_settings, save_settings

SECRET_TARGET = "openai-compatible"  # the keyring entry: openai-compatible|<endpoint name>|api_key
API_KEY_FIELD = "api_key"
OPENAI_BACKEND = "openai-compatible"
POOL_BACKEND = "pool"
RESERVED_NAMES = frozenset({"onnx", OPENAI_BACKEND, POOL_BACKEND, "default", "all"})
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
N_MODES = ("auto", "native", "parallel")
# The model picker's value for a server's model ("remote:gpu-box/Qwen/Qwen2.5-7B-Instruct"): endpoint
# names have no "/", model names may, so the first "/" separates them.
REMOTE_MODEL_PREFIX = "remote:"


class EndpointError(AdCopyError):
    """An endpoint setting that cannot be used, or one that is not configured."""


@dataclass(frozen=True)
class Endpoint:
    """One OpenAI-compatible server. ``model`` empty: the first model the server lists.
    ``n_mode``: ``native`` sends ``n`` and trusts it, ``parallel`` sends one request per candidate,
    ``auto`` sends ``n`` and makes parallel requests for what the server did not return.
    ``max_concurrent``: requests it is given at once (a pool sends it no more; bulk jobs use the sum
    of its members' as their number of workers). ``extra_sampling``: also send top_k,
    repetition_penalty and no_repeat_ngram (vLLM, llama.cpp and adcopy serve read them; switch off
    for a server that refuses unknown fields)."""

    name: str
    base_url: str
    model: str = ""
    timeout_s: float = 120.0  # longest wait for the next bytes of an answer (a long copy streams)
    connect_timeout_s: float = 5.0
    max_retries: int = 4  # tries after the first, on 429, 5xx, timeouts and dropped connections
    retry_base_s: float = 0.5  # first wait (doubles, with jitter; Retry-After wins when the server sends it)
    retry_max_s: float = 30.0
    max_concurrent: int = 2
    n_mode: str = "auto"
    extra_sampling: bool = True
    has_api_key: bool = False  # whether the keyring holds a key for it (the key itself never here)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise EndpointError(f"Backend name {self.name!r} must be 1-64 lower-case letters, digits, '.', '-' or "
                                "'_', e.g. gpu-box.")
        if self.name in RESERVED_NAMES:
            raise EndpointError(f"'{self.name}' is a built-in backend name; choose another name, e.g. gpu-box.")
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        for name in ("timeout_s", "connect_timeout_s", "retry_base_s", "retry_max_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise EndpointError(f"{name} of backend '{self.name}' must be a number of seconds above 0.")
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or not 0 <= self.max_retries <= 20:
            raise EndpointError(f"max_retries of backend '{self.name}' must be a whole number from 0 to 20.")
        if isinstance(self.max_concurrent, bool) or not isinstance(self.max_concurrent, int) or not 1 <= self.max_concurrent <= 256:
            raise EndpointError(f"max_concurrent of backend '{self.name}' must be a whole number from 1 to 256.")
        if self.n_mode not in N_MODES:
            raise EndpointError(f"n_mode of backend '{self.name}' must be one of {', '.join(N_MODES)}.")

    @property
    def is_local(self) -> bool:
        return (urllib.parse.urlsplit(self.base_url).hostname or "") in LOOPBACK_HOSTS

    @property
    def plain_http(self) -> bool:
        return self.base_url.startswith("http://")

    @property
    def key_crosses_network_unencrypted(self) -> bool:
        """A key sent to this address travels in the clear over a network (plain http, not loopback)."""
        return self.plain_http and not self.is_local

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Endpoint":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise EndpointError(f"Backend {data.get('name', '?')!r} in settings has unknown field(s) "
                                f"{', '.join(unknown)}; fields: {', '.join(sorted(known))}.")
        if "name" not in data or "base_url" not in data:
            raise EndpointError("A backend in settings needs at least a name and a base_url.")
        return cls(**dict(data))


def normalise_base_url(url: str) -> str:
    """``http(s)://host[:port][/path]`` without a trailing slash; ``/v1`` is added when the path is
    empty (what vLLM, llama.cpp, Ollama and adcopy serve use)."""
    text = (url or "").strip().rstrip("/")
    if "://" not in text:
        text = "http://" + text
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise EndpointError(f"Server address {url!r} is not a web address; give it like http://gpu-box:8000/v1.")
    if parsed.username or parsed.password or parsed.query or parsed.fragment:
        raise EndpointError("The server address must not contain a user name, password or query; the API key "
                            "goes into the keyring with --api-key-stdin (or the Settings dialog).")
    path = parsed.path.rstrip("/") or "/v1"
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


# -- settings ------------------------------------------------------------------------------------


def list_endpoints() -> list[Endpoint]:
    """The configured endpoints in settings order; a broken entry is an EndpointError naming it."""
    return [Endpoint.from_dict(entry) for entry in load_settings().backends]


def get_endpoint(name: str) -> Endpoint:
    for endpoint in list_endpoints():
        if endpoint.name == name:
            return endpoint
    raise EndpointError(f"There is no backend called '{name}'. {_configured_hint()}")


def default_endpoint() -> Endpoint:
    endpoints = list_endpoints()
    if not endpoints:
        raise EndpointError("No OpenAI-compatible server is configured. Add one with "
                            "'adcopy backends add NAME --url http://HOST:PORT/v1' (or in Settings).")
    return endpoints[0]


def find_endpoint(name: str) -> Endpoint | None:
    """The endpoint called ``name``, or None; other entries are not parsed (a broken one elsewhere
    must not stop a change to this one)."""
    entry = next((entry for entry in load_settings().backends if entry.get("name") == name), None)
    return None if entry is None else Endpoint.from_dict(entry)


def configure_endpoint(name: str, base_url: str, *, api_key: str | None = None, forget_api_key: bool = False,
                       **options: Any) -> tuple[Endpoint, Endpoint | None]:
    """Add the endpoint ``name`` or change it (``adcopy backends add``, the Settings dialog):
    ``options`` (model, max_concurrent, timeout_s, ...) over what it had, a new one over the
    defaults, so a dialog showing a few fields keeps the rest. The stored key stays unless
    ``api_key`` replaces it or ``forget_api_key`` deletes it; nothing is saved when the options
    are invalid or the keyring refuses the key. Returns (saved, previous or None)."""
    from adcopy_desktop.core.secrets import delete_credentials

    previous = find_endpoint(name)
    kept = previous.to_dict() if previous else {}
    had_key = bool(previous and previous.has_api_key)
    endpoint = Endpoint(**{**kept, **options, "name": name, "base_url": base_url,
                           "has_api_key": had_key and not forget_api_key})
    if forget_api_key and had_key and api_key is None:
        delete_credentials(SECRET_TARGET, name, (API_KEY_FIELD,))
    return save_endpoint(endpoint, api_key=api_key), previous


def save_endpoint(endpoint: Endpoint, *, api_key: str | None = None) -> Endpoint:
    """Add or replace the endpoint called ``endpoint.name``. ``api_key``: stored in the keyring
    (KeyringUnavailableError when there is none: then nothing is saved); None keeps what is stored."""
    from adcopy_desktop.core.secrets import store_credentials

    if api_key is not None:
        store_credentials(SECRET_TARGET, endpoint.name, {API_KEY_FIELD: api_key})
        endpoint = Endpoint(**{**endpoint.to_dict(), "has_api_key": True})
    settings = load_settings()
    entries = [entry for entry in settings.backends if entry.get("name") != endpoint.name]
    position = next((i for i, entry in enumerate(settings.backends) if entry.get("name") == endpoint.name),
                    len(entries))
    entries.insert(position, endpoint.to_dict())
    settings.backends = entries
    save_settings(settings)
    return endpoint


def remove_endpoint(name: str) -> Endpoint:
    """Forget the endpoint and delete its key from the keyring (a missing keyring only warns in the
    log: there is nothing it could hold)."""
    import logging

    from adcopy_desktop.core.secrets import delete_credentials

    endpoint = get_endpoint(name)
    if endpoint.has_api_key:
        try:
            delete_credentials(SECRET_TARGET, name, (API_KEY_FIELD,))
        except AdCopyError as error:
            logging.getLogger("adcopy.endpoints").warning("could not delete the key of %s: %s", name, error)
    settings = load_settings()
    settings.backends = [entry for entry in settings.backends if entry.get("name") != name]
    save_settings(settings)
    return endpoint


def api_key_for(endpoint: Endpoint) -> str | None:
    """The endpoint's key from the keyring, or None when it has none."""
    from adcopy_desktop.core.secrets import MissingCredentialsError, load_credentials

    if not endpoint.has_api_key:
        return None
    try:
        return load_credentials(SECRET_TARGET, endpoint.name, (API_KEY_FIELD,))[API_KEY_FIELD]
    except MissingCredentialsError:
        raise EndpointError(f"The keyring holds no API key for the backend '{endpoint.name}'. Store it again: "
                            f"adcopy backends add {endpoint.name} --url {endpoint.base_url} --api-key-stdin") from None


# -- --backend NAME ------------------------------------------------------------------------------


def resolve_backend_choice(choice: str | None) -> tuple[str | None, dict[str, Any]]:
    """What ``--backend`` names -> (registered backend, its options). None stays None (the
    default ONNX backend); an unknown name is left for the plugin manager to refuse with the list."""
    if not choice:
        return None, {}
    name, _, rest = choice.partition(":")
    if name == POOL_BACKEND:
        members = [m.strip() for m in rest.split(",") if m.strip()] if rest else []
        for member in members:
            get_endpoint(member)  # unknown: an error listing the configured ones
        return POOL_BACKEND, ({"endpoints": ",".join(members)} if members else {})
    if name == OPENAI_BACKEND:
        return OPENAI_BACKEND, ({"endpoint": get_endpoint(rest).name} if rest else {})
    if not rest and any(entry.get("name") == choice for entry in load_settings().backends):
        return OPENAI_BACKEND, {"endpoint": choice}
    return choice, {}


def remote_model_choice(endpoint: str, model: str) -> str:
    """What the model picker stores for ``model`` on the server ``endpoint``."""
    return f"{REMOTE_MODEL_PREFIX}{endpoint}/{model}"


def parse_remote_model_choice(value: Any) -> tuple[str, str] | None:
    """(endpoint, model) for a picker value made by ``remote_model_choice``; None for a local model id."""
    if not isinstance(value, str) or not value.startswith(REMOTE_MODEL_PREFIX):
        return None
    name, separator, model = value[len(REMOTE_MODEL_PREFIX):].partition("/")
    return (name, model) if separator and name and model else None


# -- asking the servers (for the window: it reaches the built-in backend only through here) ------------


def list_remote_models(endpoints: list[Endpoint] | None = None, *, timeout_s: float = 5.0) -> list:
    """Every configured server's models (``RemoteModels`` per server, never raising for a server);
    see ``builtin/openai_backend.py``."""
    from adcopy_desktop.builtin.openai_backend import list_remote_models as ask

    return ask(endpoints, timeout_s=timeout_s)


def check_connection(endpoint: Endpoint):
    """``adcopy backends test`` for one server: a ``ConnectionReport`` (models, first-token time or
    what went wrong); never raises for a server problem."""
    from adcopy_desktop.builtin.openai_backend import test_connection

    return test_connection(endpoint)


def _configured_hint() -> str:
    names = [entry.get("name", "?") for entry in load_settings().backends]
    if not names:
        return "None is configured yet: adcopy backends add NAME --url http://HOST:PORT/v1"
    return f"Configured: {', '.join(names)} (adcopy backends list)."
