"""The OpenAI-compatible API over this computer's model: ``POST /v1/chat/completions`` (streamed
or not), ``GET /v1/models`` and ``GET /health``, as a Starlette app.

Starlette without FastAPI: the API is three routes whose errors must have OpenAI's shape
(``{"error": {"message", "type", "code"}}``), which FastAPI's validation answers (422 with
``detail``) do not have; the request bodies are checked here by hand with messages that say what
was wrong, so pydantic is not needed.

- The model is the model store's active one (or ``--model ID``), followed as the CLI and app do:
  a version swapped in by training serves the next request. Generation runs in worker threads
  through the same plugin boundary as the app (``PluginManager.run_backend``), and marks the
  process as generating so background training waits.
- Auth: with any token in the token store every request needs ``Authorization: Bearer <token>``;
  without one only a loopback bind is allowed (``server.py`` refuses others), and a server on
  another address whose last token was revoked refuses every request.
- Concurrency: ``max_concurrent`` requests generate at once and ``max_waiting`` more wait for a
  slot; beyond that the answer is 429 with Retry-After (seconds, from recent request times). On
  the CPU the requests generating at once decode as one batch (``core/runtime/batching.py``).
- Streaming: one SSE ``data:`` chunk per token and candidate, ``finish_reason`` in each
  candidate's last chunk, usage when ``stream_options.include_usage``, then ``[DONE]``. A client
  that goes away cancels its generation at the next token.
- Logs: one line per request (client, token name, model, n, stream, status, tokens, seconds);
  prompts and copy only with ``log_prompts``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from adcopy_desktop.core.serve.tokens import TokenStore

log = logging.getLogger("adcopy.serve")
request_log = logging.getLogger("adcopy.serve.requests")

MAX_N = 16
MAX_TOKENS = 4096
DEFAULT_MAX_TOKENS = 256
FINISH_REASONS = {"eos": "stop", "stop": "stop", "length": "length"}
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class ServeOptions:
    max_concurrent: int = 1
    max_waiting: int = 4
    log_prompts: bool = False
    open_without_tokens: bool = True  # False when bound beyond loopback: no token, no access
    token_delay_s: float = 0.0  # tests and demos: wait this long after every token (a slower model)


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error", code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.headers = status, message, kind, code, headers or {}


class ModelRunner:
    """Admission (running + waiting requests), the generation slots and the model."""

    def __init__(self, generator, *, max_concurrent: int = 1, max_waiting: int = 4) -> None:
        self.generator = generator  # a CopyGenerator (follows the active model)
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self._slots = threading.Semaphore(max_concurrent)
        self._lock = threading.Lock()
        self._admitted = 0
        self._recent = deque(maxlen=20)  # seconds per finished request, for Retry-After

    def warm(self) -> str:
        """Load the model now (the first request should not pay for it); returns its id."""
        backend, info = self.generator.follow_active_model(None)
        return info.id if info is not None else self.generator.model_id

    def _batch(self, backend) -> None:
        """Requests generating at once on this computer's model share its decode steps
        (continuous batching), each request's candidates rows of one batch; a model swapped in by
        training gets it on its first request."""
        model = getattr(backend, "model", None)
        if self.max_concurrent > 1 and hasattr(model, "enable_batching"):
            model.enable_batching(rows=max(MAX_N, 4 * self.max_concurrent))

    def served_model(self) -> str:
        return self.generator.wanted_model_id(None) or self.generator.model_id

    def admit(self) -> bool:
        with self._lock:
            if self._admitted >= self.max_concurrent + self.max_waiting:
                return False
            self._admitted += 1
            return True

    def release(self, seconds: float | None = None) -> None:
        with self._lock:
            self._admitted -= 1
            if seconds is not None:
                self._recent.append(seconds)

    def retry_after_s(self) -> int:
        """About when a slot frees: the mean recent request time times the queue ahead per slot."""
        with self._lock:
            mean = sum(self._recent) / len(self._recent) if self._recent else 2.0
            ahead = max(1, self._admitted - self.max_concurrent + 1)
        return max(1, math.ceil(mean * ahead / self.max_concurrent))

    def run(self, messages, settings, *, cancel, on_token=None):
        """(completions, model id); waits for a generation slot first."""
        from adcopy_desktop.core.activity import generating

        with self._slots:
            if cancel.cancelled:
                return [], self.served_model()
            with generating():
                backend, info = self.generator.follow_active_model(None)
                self._batch(backend)
                messages = _without_special_tokens(messages, backend.special_tokens)
                completions = self.generator.plugins.run_backend(
                    self.generator.backend_name, backend, messages, settings, cancel=cancel, on_token=on_token)
                return completions, (info.id if info is not None else self.generator.model_id)


def create_app(runner: ModelRunner, tokens: TokenStore, options: ServeOptions = ServeOptions()):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    def error_response(error: ApiError) -> JSONResponse:
        return JSONResponse({"error": {"message": error.message, "type": error.kind, "code": error.code}},
                            status_code=error.status, headers=error.headers)

    def authenticate(request: Request) -> str:
        """The token's name ("-" when the server is open); ApiError 401 otherwise."""
        stored = tokens.tokens()
        if not stored and options.open_without_tokens:
            return "-"
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if not stored:
            raise ApiError(401, "This server has no access token, so it lets nobody in; create one on the server "
                           "with 'adcopy serve token create --name NAME'.", kind="authentication_error",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        record = tokens.check(presented.strip()) if scheme.lower() == "bearer" else None
        if record is None:
            what = "is missing" if not header else "is not valid (revoked, mistyped or for another server)"
            raise ApiError(401, f"The bearer token {what}. Send 'Authorization: Bearer <token>' with a token from "
                           "'adcopy serve token create' on the server.", kind="authentication_error",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        return record.name

    async def health(request: Request):
        return JSONResponse({"status": "ok", "model": runner.served_model()})

    async def models(request: Request):
        try:
            authenticate(request)
        except ApiError as error:
            return error_response(error)
        return JSONResponse({"object": "list", "data": [
            {"id": runner.served_model(), "object": "model", "created": 0, "owned_by": "adcopy"}]})

    async def chat_completions(request: Request):
        started = time.perf_counter()
        client = request.client.host if request.client else "?"
        try:
            who = authenticate(request)
            try:
                body = json.loads(await request.body())
            except ValueError:
                raise ApiError(400, "The request body is not JSON; send a chat completion request as JSON.") from None
            messages, settings, stream, include_usage = parse_chat_request(body, runner.served_model())
        except ApiError as error:
            _log_request(client, "-", "", 0, False, error.status, started, note=error.message)
            return error_response(error)
        if not runner.admit():
            retry = runner.retry_after_s()
            _log_request(client, who, runner.served_model(), settings.n, stream, 429, started)
            return error_response(ApiError(
                429, f"The server is busy ({runner.max_concurrent} generating, {runner.max_waiting} waiting); "
                f"try again in {retry} s.", kind="rate_limit_error", code="rate_limit_exceeded",
                headers={"Retry-After": str(retry)}))
        from adcopy_desktop.core.progress import CancelToken

        cancel = CancelToken()
        prompt_note = json.dumps(messages, ensure_ascii=False) if options.log_prompts else None
        if not stream:
            try:
                completions, model_id = await asyncio.to_thread(
                    runner.run, messages, settings, cancel=cancel, on_token=_slowed(None, options.token_delay_s))
            except Exception as error:  # the model failed: the client gets the reason, the log the traceback
                runner.release()
                log.exception("generation failed")
                _log_request(client, who, runner.served_model(), settings.n, False, 500, started)
                return error_response(ApiError(500, f"Generation failed: {error}", kind="server_error"))
            runner.release(time.perf_counter() - started)
            usage = _usage(completions)
            _log_request(client, who, model_id, settings.n, False, 200, started, usage=usage, prompt=prompt_note,
                         output=[c.text for c in completions] if options.log_prompts else None)
            return JSONResponse({
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
                "model": model_id,
                "choices": [{"index": c.index, "message": {"role": "assistant", "content": c.text},
                             "finish_reason": FINISH_REASONS.get(c.finish_reason, "stop")} for c in completions],
                "usage": usage,
            })
        return StreamingResponse(
            _stream(runner, messages, settings, cancel, include_usage, options, client, who, started, prompt_note),
            media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def not_found(request: Request, exc):
        return error_response(ApiError(404, f"There is no {request.method} {request.url.path} here; this server has "
                                       "POST /v1/chat/completions and GET /v1/models.", code="not_found"))

    return Starlette(routes=[
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    ], exception_handlers={404: not_found, 405: not_found})


async def _stream(runner: ModelRunner, messages, settings, cancel, include_usage: bool, options: ServeOptions,
                  client: str, who: str, started: float, prompt_note: str | None):
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    chunk_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    model_id = runner.served_model()

    def put(item) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        seconds = None
        try:
            result = runner.run(messages, settings, cancel=cancel,
                                on_token=_slowed(lambda event: put(("token", event)), options.token_delay_s))
            seconds = time.perf_counter() - started
            put(("done", result))
        except BaseException as error:  # reported to the client as an error event
            put(("error", error))
        finally:
            runner.release(seconds)

    def chunk(choices: list[dict], **extra) -> str:
        data = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model_id,
                "choices": choices, **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    threading.Thread(target=work, name="adcopy-serve-generate", daemon=True).start()
    status, usage, texts = 200, None, None
    try:
        yield chunk([{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                     for i in range(settings.n)])
        while True:
            kind, value = await queue.get()
            if kind == "token":
                reason = FINISH_REASONS.get(value.finish_reason) if value.finish_reason else None
                if value.finish_reason == "cancelled":
                    continue
                delta = {"content": value.text} if value.text else {}
                if delta or reason:
                    yield chunk([{"index": value.index, "delta": delta, "finish_reason": reason}])
            elif kind == "done":
                completions, model_id = value
                usage = _usage(completions)
                texts = [c.text for c in completions]
                if include_usage:
                    yield chunk([], usage=usage)
                yield "data: [DONE]\n\n"
                return
            else:
                status = 500
                log.error("generation failed: %s", value, exc_info=value)
                yield f"data: {json.dumps({'error': {'message': f'Generation failed: {value}', 'type': 'server_error', 'code': 500}})}\n\n"
                return
    except BaseException:
        status = 499  # the client went away (nginx's code for it)
        raise
    finally:
        cancel.cancel()  # a client that left stops its generation at the next token
        _log_request(client, who, model_id, settings.n, True, status, started, usage=usage, prompt=prompt_note,
                     output=texts if prompt_note is not None else None)


def parse_chat_request(body: Any, served_model: str):
    """(messages, GenerationSettings, stream, include_usage) from an OpenAI chat request; ApiError
    400 saying which field is wrong. Unset sampling fields mean what they mean in the OpenAI API
    (temperature 1, top_p 1, no top_k, no repetition penalty)."""
    from adcopy_desktop.core.candidates import GenerationSettings

    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object with model and messages.")
    model = body.get("model")
    if model not in (None, "", "default", served_model):
        raise ApiError(404, f"This server runs the model '{served_model}', not '{model}'; ask for that one "
                       "(GET /v1/models lists it).", code="model_not_found")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'messages' must be a non-empty list of {role, content} objects.")
    messages = []
    for position, message in enumerate(raw):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ApiError(400, f"messages[{position}] needs a role of {', '.join(ROLES)}.")
        content = message.get("content")
        if isinstance(content, list):  # content parts: only text is understood
            if not all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                raise ApiError(400, f"messages[{position}]: only text content parts are supported.")
            content = "".join(str(p.get("text", "")) for p in content)
        if not isinstance(content, str):
            raise ApiError(400, f"messages[{position}].content must be text.")
        messages.append({"role": message["role"], "content": content})

    def number(name: str, default, kind=float):
        value = body.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
            raise ApiError(400, f"'{name}' must be a {'whole ' if kind is int else ''}number, not {value!r}.")
        return kind(value)

    n = number("n", 1, int)
    if not 1 <= n <= MAX_N:
        raise ApiError(400, f"'n' must be between 1 and {MAX_N} (got {n}).")
    max_tokens = number("max_completion_tokens", None, int) or number("max_tokens", DEFAULT_MAX_TOKENS, int)
    if not 1 <= max_tokens <= MAX_TOKENS:
        raise ApiError(400, f"'max_tokens' must be between 1 and {MAX_TOKENS} (got {max_tokens}).")
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(stop, (list, tuple)) or not all(isinstance(s, str) and s for s in stop) or len(stop) > 16:
        raise ApiError(400, "'stop' must be a string or a list of up to 16 non-empty strings.")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ApiError(400, f"'seed' must be a whole number, not {seed!r}.")
    try:
        settings = GenerationSettings(
            n=n, max_new_tokens=max_tokens, temperature=number("temperature", 1.0), top_p=number("top_p", 1.0),
            top_k=number("top_k", 0, int), repetition_penalty=number("repetition_penalty", 1.0),
            no_repeat_ngram=number("no_repeat_ngram", 0, int), stop=tuple(stop), seed=seed)
    except ValueError as error:
        raise ApiError(400, f"Invalid sampling settings: {error}.") from None
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false.")
    stream_options = body.get("stream_options") or {}
    include_usage = bool(isinstance(stream_options, dict) and stream_options.get("include_usage"))
    return messages, settings, stream, include_usage


def _usage(completions) -> dict[str, int]:
    prompt = int(getattr(completions[0], "prompt_tokens", 0) or 0) if completions else 0
    generated = sum(len(getattr(c, "token_ids", ()) or ()) for c in completions)
    return {"prompt_tokens": prompt, "completion_tokens": generated, "total_tokens": prompt + generated}


def _slowed(on_token, delay_s: float):
    if not delay_s:
        return on_token

    def relay(event) -> None:
        time.sleep(delay_s)
        if on_token is not None:
            on_token(event)

    return relay


def _without_special_tokens(messages, special_tokens) -> list[dict[str, str]]:
    """Message text with the model's special-token strings removed: a client's text cannot open or
    close chat turns (the same rule as for local prompts)."""
    special = [token for token in special_tokens if token]
    if not special:
        return messages
    cleaned = []
    for message in messages:
        content = message["content"]
        for token in special:
            content = content.replace(token, "")
        cleaned.append({**message, "content": content})
    return cleaned


def _log_request(client: str, who: str, model: str, n: int, stream: bool, status: int, started: float, *,
                 usage: dict | None = None, prompt: str | None = None, output: list[str] | None = None,
                 note: str | None = None) -> None:
    parts = [f"POST /v1/chat/completions {status}", f"{time.perf_counter() - started:.2f}s", f"client={client}",
             f"token={who}", f"model={model or '-'}", f"n={n}", f"stream={'yes' if stream else 'no'}"]
    if usage:
        parts.append(f"prompt_tokens={usage['prompt_tokens']} completion_tokens={usage['completion_tokens']}")
    if note:
        parts.append(f"error={note[:120]!r}")
    if prompt is not None:
        parts.append(f"prompt={prompt}")
    if output is not None:
        parts.append(f"output={json.dumps(output, ensure_ascii=False)}")
    request_log.info(" ".join(parts))
