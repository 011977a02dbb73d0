"""The ``openai-compatible`` and ``pool`` backends: copy written by an inference server that speaks
the OpenAI chat/completions API (vLLM, llama.cpp's server, Ollama, TGI, another ``adcopy serve``).

Only the model call leaves the machine: CopyGenerator builds the prompt (templates, brand style,
``adjust_prompt`` plugins) here and scores, ranks, enforces the style and stores the candidates here,
exactly as for the ONNX backend; the server only turns chat messages into text.

Why httpx and not the ``openai`` package: the client needs three things the SDK hides or does
differently — retries that honour Retry-After on streamed requests too and stop for a cancel, a
stream that another thread can cut at once (the app's Stop), and the freedom to send fields the
SDK's typed parameters do not have (top_k, repetition_penalty) to servers that read them. Written on
httpx (which the SDK itself uses) that is a page of code, without the SDK's pydantic models and its
own retry loop in the way; the wire format is the documented one (SSE ``data:`` lines,
``[DONE]``).

Endpoints, options and API keys: ``core/endpoints.py`` (settings hold names and options, the
keyring holds keys). Each request streams (``stream: true``), so a dropped connection is noticed
and a cancel takes effect mid-answer. ``n`` candidates: sent as ``n``; a server that returns fewer
(llama.cpp, Ollama) gets the missing ones as parallel requests of one each, seeds moved on per
candidate, and is remembered as one without ``n``.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from adcopy_desktop.core.backend_pool import BackendPool, BackendUnavailableError, PoolMember
from adcopy_desktop.core.endpoints import (
    OPENAI_BACKEND, POOL_BACKEND, Endpoint, EndpointError, api_key_for, default_endpoint, get_endpoint,
    list_endpoints,
)
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.plugins import Backend, BackendContext, hookimpl
from adcopy_desktop.core.shops.http import retry_after_seconds  # Retry-After as seconds or an HTTP date

log = logging.getLogger("adcopy.openai_backend")

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 300.0
# Special-token strings of the common chat templates (ChatML, Llama 3, Mistral); product text
# containing them is cleaned before it reaches the prompt, as for local models.
REMOTE_SPECIAL_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|eot_id|>",
                         "<|start_header_id|>", "<|end_header_id|>", "[INST]", "[/INST]")
FINISH_REASONS = {"stop": "stop", "length": "length", "eos": "eos", "content_filter": "stop", "tool_calls": "stop"}


class RemoteError(AdCopyError):
    """The server refused the request (wrong key, unknown model, a bad setting): not retried."""


class RemoteAuthError(RemoteError):
    """The server wants a (different) API key."""


@dataclass
class RemoteCompletion:
    """One candidate from the server. The server sends text, not token ids: ``token_ids`` is a
    range as long as the number of streamed pieces (one token each on vLLM, llama.cpp and adcopy
    serve), so timings count tokens as for local models."""

    index: int
    text: str = ""
    finish_reason: str = "cancelled"
    first_token_s: float = 0.0
    elapsed_s: float = 0.0
    prompt_tokens: int = 0
    pieces: int = 0
    model: str = ""
    provider: str = ""

    @property
    def token_ids(self) -> range:
        return range(self.pieces)


@dataclass
class _Answer:
    """What one (streamed) request returned, by choice index."""

    choices: dict[int, RemoteCompletion] = field(default_factory=dict)
    prompt_tokens: int = 0


class _Relay:
    """Serialises on_token calls from parallel requests (the callers expect one thread at a time)
    and remembers whether any text went out (a retry after that would repeat it)."""

    def __init__(self, on_token: Callable[[Any], None] | None) -> None:
        self.on_token = on_token
        self.sent = False
        self._lock = threading.Lock()

    def __call__(self, index: int, text: str, finish_reason: str | None = None) -> None:
        if self.on_token is None:
            return
        with self._lock:
            self.sent = self.sent or bool(text)
            self.on_token(_TokenEvent(index, text, finish_reason))


@dataclass(frozen=True)
class _TokenEvent:
    index: int
    text: str
    finish_reason: str | None = None


class OpenAICompatibleBackend:
    """A GenerationBackend over one endpoint. ``fail_fast``: a refused connection or a dropped
    stream raises BackendUnavailableError at once instead of being retried here (the pool sends the
    request to another server instead)."""

    def __init__(self, endpoint: Endpoint, api_key: str | None = None, *, fail_fast: bool = False) -> None:
        import httpx

        self.endpoint = endpoint
        self.fail_fast = fail_fast
        self.provider = f"{OPENAI_BACKEND} {endpoint.name} ({endpoint.base_url})"
        self.special_tokens = REMOTE_SPECIAL_TOKENS
        headers = {"Accept": "text/event-stream, application/json", "User-Agent": "adcopy-desktop"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=endpoint.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(endpoint.timeout_s, connect=endpoint.connect_timeout_s),
            limits=httpx.Limits(max_connections=max(4, endpoint.max_concurrent * 2),
                                max_keepalive_connections=max(2, endpoint.max_concurrent)),
            trust_env=False,  # no proxy from the environment: the user named this server
        )
        self._model = endpoint.model or None
        self._supports_n: bool | None = True if endpoint.n_mode == "native" else (
            False if endpoint.n_mode == "parallel" else None)
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        """Requests this server takes at once (bulk jobs run this many items in parallel)."""
        return self.endpoint.max_concurrent

    # -- what the server has ----------------------------------------------------------------------

    def list_models(self) -> list[str]:
        response = self._request_with_retries("GET", "models", None, cancel=None)
        try:
            data = response.json()
            return [str(entry["id"]) for entry in data.get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RemoteError(f"{self._where()} answered GET /models with something that is not a model list; "
                              "is the base URL right (it usually ends in /v1)?") from None

    @property
    def model_name(self) -> str:
        with self._lock:
            if self._model is None:
                models = self.list_models()
                if not models:
                    raise RemoteError(f"{self._where()} lists no model; load one there, or name it with "
                                      f"'adcopy backends add {self.endpoint.name} --url ... --model NAME'.")
                self._model = models[0]
            return self._model

    # -- generation ---------------------------------------------------------------------------------

    def generate(self, messages, settings, *, cancel=None, on_token=None) -> list[RemoteCompletion]:
        relay = _Relay(on_token)
        started = time.perf_counter()
        model = self.model_name
        n = settings.n
        results: dict[int, RemoteCompletion] = {}
        if self._supports_n is not False or n == 1:
            answer = self._chat(messages, settings, n=n, seed=settings.seed, indices=list(range(n)), cancel=cancel,
                                relay=relay, started=started)
            results.update(answer.choices)
            if n > 1 and self._supports_n is None:
                self._supports_n = len(answer.choices) >= n
                if not self._supports_n:
                    log.info("%s returned %d of %d candidates for n=%d; asking for one per request from now on",
                             self.endpoint.name, len(answer.choices), n, n)
        missing = [index for index in range(n) if index not in results]
        if missing and not (cancel is not None and cancel.cancelled):
            results.update(self._parallel(messages, settings, missing, cancel=cancel, relay=relay, started=started))
        completions = []
        for index in range(n):
            completion = results.get(index) or RemoteCompletion(index=index, finish_reason="cancelled")
            completion.index = index
            completion.model = f"{self.endpoint.name}/{model}"
            completion.provider = self.provider
            completions.append(completion)
        return completions

    def _parallel(self, messages, settings, indices, *, cancel, relay, started) -> dict[int, RemoteCompletion]:
        """One request per missing candidate, at most ``max_concurrent`` at once; seeds moved on by
        the candidate's index so they differ and stay reproducible."""

        def one(index: int) -> dict[int, RemoteCompletion]:
            seed = None if settings.seed is None else settings.seed + index
            return self._chat(messages, settings, n=1, seed=seed, indices=[index], cancel=cancel, relay=relay,
                              started=started).choices

        found: dict[int, RemoteCompletion] = {}
        workers = max(1, min(len(indices), self.endpoint.max_concurrent))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="adcopy-remote") as pool:
            for choices in pool.map(one, indices):
                found.update(choices)
        return found

    def _body(self, messages, settings, *, n: int, seed: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": settings.max_new_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        }
        if n > 1:
            body["n"] = n
        if seed is not None:
            body["seed"] = seed
        if settings.stop:
            body["stop"] = list(settings.stop)[:4]  # the API's limit
        if self.endpoint.extra_sampling:
            body["top_k"] = settings.top_k
            body["repetition_penalty"] = settings.repetition_penalty
            body["no_repeat_ngram"] = settings.no_repeat_ngram  # adcopy serve reads it; others ignore it
        return body

    def _chat(self, messages, settings, *, n, seed, indices, cancel, relay, started) -> _Answer:
        """One streamed chat completion, retried (without repeating streamed text) on 429, 5xx,
        timeouts and dropped connections; choice i of the answer is candidate ``indices[i]``."""
        body = self._body(messages, settings, n=n, seed=seed)
        attempt = 0
        while True:
            try:
                response = self._send("POST", "chat/completions", body, cancel)
                try:
                    return self._read_stream(response, indices, cancel, relay, started)
                finally:
                    response.close()
            except _Retryable as problem:
                if cancel is not None and cancel.cancelled:
                    return _Answer()
                if relay.sent:
                    raise BackendUnavailableError(
                        f"{self._where()} dropped the answer after it had started ({problem}); generate again "
                        "(a pool sends it to another server).") from None
                if (self.fail_fast and problem.server_down) or attempt >= self.endpoint.max_retries:
                    raise BackendUnavailableError(self._gave_up(problem, attempt + 1)) from None
                self._wait(problem.retry_after, attempt, cancel)
                attempt += 1

    def _request_with_retries(self, method: str, path: str, body: Any, *, cancel):
        attempt = 0
        while True:
            try:
                response = self._send(method, path, body, cancel, stream=False)
                return response
            except _Retryable as problem:
                if (self.fail_fast and problem.server_down) or attempt >= self.endpoint.max_retries:
                    raise BackendUnavailableError(self._gave_up(problem, attempt + 1)) from None
                self._wait(problem.retry_after, attempt, cancel)
                attempt += 1

    def _send(self, method: str, path: str, body: Any, cancel, *, stream: bool = True):
        """The response to one request with a 2xx status, or _Retryable / RemoteError."""
        import httpx

        try:
            request = self._http.build_request(method, path, json=body)
            response = self._send_until_cancelled(request, stream, cancel)
        except httpx.ConnectTimeout:
            raise _Retryable(f"no connection within {self.endpoint.connect_timeout_s:g} s", server_down=True) from None
        except httpx.ReadTimeout:
            raise _Retryable(f"it accepted the request but sent nothing for {self.endpoint.timeout_s:g} s "
                             f"(the read timeout; a slow model may need a longer one: "
                             f"adcopy backends add {self.endpoint.name} --url {self.endpoint.base_url} --timeout S)"
                             ) from None
        except httpx.TimeoutException as error:
            raise _Retryable(f"no answer within {self.endpoint.timeout_s:g} s ({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise _Retryable(f"could not connect ({_describe(error)})", server_down=True) from None
        if response.status_code < 300:
            return response
        try:
            response.read()
            detail = _error_message(response)
        except httpx.HTTPError:
            detail = ""
        finally:
            response.close()
        status = response.status_code
        if status in RETRY_STATUSES:
            raise _Retryable(f"HTTP {status}{': ' + detail if detail else ''}", status=status,
                             retry_after=retry_after_seconds(response.headers.get("retry-after")))
        where = self._where()
        if status in (401, 403):
            raise RemoteAuthError(
                f"{where} refused the request (HTTP {status}{': ' + detail if detail else ''}). Store its API key: "
                f"adcopy backends add {self.endpoint.name} --url {self.endpoint.base_url} --api-key-stdin")
        if status == 404:
            raise RemoteError(
                f"{where} has no {path} or no model '{body.get('model') if isinstance(body, dict) else ''}' "
                f"(HTTP 404{': ' + detail if detail else ''}). Check the base URL (it usually ends in /v1) and "
                f"the model: 'adcopy backends test {self.endpoint.name}' lists the server's models.")
        raise RemoteError(f"{where} refused the request (HTTP {status}{': ' + detail if detail else ''}).")

    def _send_until_cancelled(self, request, stream: bool, cancel):
        """``send``, given up at once on a cancel: a busy server can take its whole read timeout
        before the first byte, and Stop must not wait for it. The abandoned answer is closed when
        it comes."""
        if cancel is None:
            return self._http.send(request, stream=stream)
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def send() -> None:
            try:
                outcome["response"] = self._http.send(request, stream=stream)
            except BaseException as error:  # handed to the waiting thread as it is
                outcome["error"] = error
            finally:
                done.set()
                if cancel.cancelled and "response" in outcome:
                    outcome["response"].close()

        threading.Thread(target=send, daemon=True, name="adcopy-remote-send").start()
        while not done.wait(0.05):
            if cancel.cancelled:
                raise _Retryable("cancelled before the server answered")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _read_stream(self, response, indices, cancel, relay, started) -> _Answer:
        import httpx

        answer = _Answer()
        done = threading.Event()
        if cancel is not None:
            threading.Thread(target=_close_on_cancel, args=(cancel, response, done), daemon=True,
                             name="adcopy-remote-cancel").start()
        finished_stream = False
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments (": ping"), event names, blank separators
                data = line[5:].strip()
                if data == "[DONE]":
                    finished_stream = True
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise _Retryable(f"sent a line that is not JSON: {data[:80]!r}") from None
                if isinstance(chunk, dict) and chunk.get("error"):
                    raise self._stream_error(chunk["error"])
                self._take_chunk(chunk, answer, indices, relay, started)
        except httpx.ReadTimeout:
            if cancel is not None and cancel.cancelled:
                return self._cancelled(answer, indices)
            raise _Retryable(f"it stopped sending mid-answer: nothing for {self.endpoint.timeout_s:g} s "
                             "(the read timeout)", server_down=True) from None
        except (httpx.TransportError, httpx.StreamError) as error:
            if cancel is not None and cancel.cancelled:
                return self._cancelled(answer, indices)
            raise _Retryable(f"the connection dropped mid-answer ({_describe(error)})", server_down=True) from None
        finally:
            done.set()
        if cancel is not None and cancel.cancelled:
            return self._cancelled(answer, indices)
        unfinished = [i for i in indices if i not in answer.choices or answer.choices[i].finish_reason == "cancelled"]
        if not finished_stream and unfinished:
            raise _Retryable("the answer ended before it was complete (the connection was closed)", server_down=True)
        # Choices the server never sent stay missing (a server without n); finished ones get usage.
        for completion in answer.choices.values():
            completion.prompt_tokens = answer.prompt_tokens
        return answer

    def _take_chunk(self, chunk: Any, answer: _Answer, indices, relay, started) -> None:
        usage = chunk.get("usage") if isinstance(chunk, dict) else None
        if isinstance(usage, dict):
            answer.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        for choice in (chunk.get("choices") or []) if isinstance(chunk, dict) else []:
            position = int(choice.get("index", 0) or 0)
            if position >= len(indices):
                continue
            index = indices[position]
            completion = answer.choices.get(index)
            if completion is None:
                completion = answer.choices[index] = RemoteCompletion(index=index)
            delta = choice.get("delta") or {}
            text = delta.get("content") or ""
            now = time.perf_counter() - started
            if text:
                if not completion.pieces:
                    completion.first_token_s = now
                completion.text += text
                completion.pieces += 1
            reason = choice.get("finish_reason")
            if reason:
                completion.finish_reason = FINISH_REASONS.get(str(reason), "stop")
                completion.elapsed_s = now
            if text or reason:
                relay(index, text, completion.finish_reason if reason else None)

    def _cancelled(self, answer: _Answer, indices) -> _Answer:
        for index in indices:
            completion = answer.choices.setdefault(index, RemoteCompletion(index=index))
            if completion.finish_reason not in ("stop", "length", "eos"):
                completion.finish_reason = "cancelled"
        return answer

    def _stream_error(self, error: Any) -> Exception:
        message = error.get("message") if isinstance(error, dict) else str(error)
        code = error.get("code") if isinstance(error, dict) else None
        if code in (429, 500, 502, 503, 504, "rate_limit_exceeded", "server_error", "overloaded"):
            return _Retryable(f"reported an error mid-answer: {message}")
        return RemoteError(f"{self._where()} reported an error: {message}")

    def _wait(self, retry_after: float | None, attempt: int, cancel) -> None:
        if retry_after is not None:
            delay = min(retry_after, MAX_RETRY_AFTER_S)
        else:
            delay = min(self.endpoint.retry_base_s * 2 ** attempt, self.endpoint.retry_max_s)
            delay *= random.uniform(0.5, 1.0)  # jitter: clients that failed together do not return together
        log.info("%s: waiting %.1f s before trying again", self.endpoint.name, delay)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if cancel is not None and cancel.cancelled:
                return
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _where(self) -> str:
        return f"The server '{self.endpoint.name}' ({self.endpoint.base_url})"

    def _gave_up(self, problem: "_Retryable", tries: int) -> str:
        counted = f"{tries} tr{'y' if tries == 1 else 'ies'}"
        if problem.status is not None:  # it is there but failing: "is it running?" would mislead
            return (f"{self._where()} answered with an error {counted}, giving up (last: {problem}). It may be "
                    f"overloaded or restarting; check its log, or 'adcopy backends test {self.endpoint.name}'.")
        return (f"{self._where()} did not answer after {counted} (last: {problem}). "
                f"Is it running? Check with 'adcopy backends test {self.endpoint.name}'.")

    def close(self) -> None:
        self._http.close()


class _Retryable(Exception):
    """A failure worth trying again: 429, 5xx, a timeout, a dropped or refused connection.
    ``server_down``: the server is not there (a pool tries another at once)."""

    def __init__(self, message: str, *, retry_after: float | None = None, server_down: bool = False,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.server_down = server_down
        self.status = status  # the HTTP status it answered with, if it answered


def _close_on_cancel(cancel, response, done: threading.Event) -> None:
    """Close the streamed response as soon as ``cancel`` is set, so a blocked read returns now."""
    while not done.wait(0.05):
        if cancel.cancelled:
            try:
                response.close()
            except Exception:  # closing from another thread: whatever it raises, the reader sees the close
                pass
            return


def _error_message(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:300]
    return str(error or data)[:300]


def _describe(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# -- checking a server -----------------------------------------------------------------------------


@dataclass
class ConnectionReport:
    """``adcopy backends test`` / the Settings dialog's Test connection."""

    endpoint: str
    ok: bool
    message: str
    models: list[str] = field(default_factory=list)
    model: str = ""
    first_token_s: float | None = None
    total_s: float | None = None
    tokens: int = 0


def test_connection(endpoint: Endpoint, *, api_key: str | None = None, prompt: str = "Say OK.") -> ConnectionReport:
    """List the server's models and write a few tokens with the endpoint's model; never raises
    for a server problem (the report says what went wrong and what to do)."""
    from adcopy_desktop.core.candidates import GenerationSettings

    try:
        key = api_key if api_key is not None else api_key_for(endpoint)
        backend = OpenAICompatibleBackend(Endpoint(**{**endpoint.to_dict(), "max_retries": 0}), key)
    except AdCopyError as error:
        return ConnectionReport(endpoint.name, False, str(error))
    try:
        models = backend.list_models()
        model = backend.model_name
        if endpoint.model and endpoint.model not in models and models:
            return ConnectionReport(endpoint.name, False, f"The server has no model '{endpoint.model}'; it has: "
                                    f"{', '.join(models)}.", models=models, model=endpoint.model)
        started = time.perf_counter()
        completions = backend.generate([{"role": "user", "content": prompt}],
                                       GenerationSettings(n=1, max_new_tokens=8, temperature=0.0))
        total = time.perf_counter() - started
        first = completions[0]
        return ConnectionReport(endpoint.name, True, f"{endpoint.base_url} answers with {model}", models=models,
                                model=model, first_token_s=round(first.first_token_s, 3), total_s=round(total, 3),
                                tokens=first.pieces)
    except AdCopyError as error:
        return ConnectionReport(endpoint.name, False, str(error))
    finally:
        backend.close()


test_connection.__test__ = False  # a library function, not a test (pytest collects test_* names)


@dataclass
class RemoteModels:
    """One server's answer to GET /v1/models for the model picker; ``error`` says why there is none."""

    endpoint: str
    models: list[str] = field(default_factory=list)
    error: str = ""


def list_remote_models(endpoints: list[Endpoint] | None = None, *, timeout_s: float = 5.0) -> list[RemoteModels]:
    """Every configured server's models, asked in parallel, without retries and with a short
    timeout (the picker must not wait a server's full retry budget); never raises for a server."""
    try:
        endpoints = list_endpoints() if endpoints is None else endpoints
    except AdCopyError as error:
        return [RemoteModels("settings", error=str(error))]

    def ask(endpoint: Endpoint) -> RemoteModels:
        quick = Endpoint(**{**endpoint.to_dict(), "max_retries": 0, "timeout_s": min(endpoint.timeout_s, timeout_s),
                            "connect_timeout_s": min(endpoint.connect_timeout_s, timeout_s)})
        try:
            backend = OpenAICompatibleBackend(quick, api_key_for(endpoint))
        except AdCopyError as error:
            return RemoteModels(endpoint.name, error=str(error))
        try:
            return RemoteModels(endpoint.name, backend.list_models())
        except AdCopyError as error:
            return RemoteModels(endpoint.name, error=str(error))
        finally:
            backend.close()

    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(endpoints)), thread_name_prefix="adcopy-models") as pool:
        return list(pool.map(ask, endpoints))


# -- the plugin ------------------------------------------------------------------------------------


def load(context: BackendContext) -> OpenAICompatibleBackend:
    name = str(context.options.get("endpoint") or "")
    endpoint = get_endpoint(name) if name else default_endpoint()
    model = str(context.options.get("model") or "")
    if model:  # another of the server's models than the configured one (the model picker's choice)
        endpoint = Endpoint(**{**endpoint.to_dict(), "model": model})
    return OpenAICompatibleBackend(endpoint, api_key_for(endpoint))


def load_pool(context: BackendContext) -> BackendPool:
    names = [n.strip() for n in str(context.options.get("endpoints") or "").split(",") if n.strip()]
    endpoints = [get_endpoint(n) for n in names] if names else list_endpoints()
    if not endpoints:
        raise EndpointError("The pool has no servers: add some with 'adcopy backends add NAME --url ...' "
                            "(every configured backend is in the pool unless --backend pool:a,b names them).")
    members = [PoolMember(e.name, OpenAICompatibleBackend(e, api_key_for(e), fail_fast=True), e.max_concurrent)
               for e in endpoints]
    return BackendPool(members)


@hookimpl
def register_backends(register):
    register(Backend(
        name=OPENAI_BACKEND,
        label="OpenAI-compatible server",
        description="A server that speaks the OpenAI chat/completions API (vLLM, llama.cpp, Ollama, TGI, "
                    "adcopy serve); configure it with 'adcopy backends add'.",
        load=load,
        uses_model_store=False,
        settings_schema={"endpoint": {"type": "string", "default": "",
                                      "label": "Server (a name from adcopy backends list; empty: the first)"},
                         "model": {"type": "string", "default": "",
                                   "label": "Model on that server (empty: the server's configured one)"}},
    ))
    register(Backend(
        name=POOL_BACKEND,
        label="Pool of OpenAI-compatible servers",
        description="Every configured server (or those named): each request to the least busy healthy one, "
                    "retried on another when a server fails.",
        load=load_pool,
        uses_model_store=False,
        settings_schema={"endpoints": {"type": "string", "default": "",
                                       "label": "Servers, comma-separated (empty: all configured)"}},
    ))
