"""A scripted OpenAI-compatible server on 127.0.0.1 for backend tests: it records every request
(path, body, time) and answers chat completions by a script, so a test can make it fail with 5xx,
hang without answering, or behave like llama.cpp and Ollama (one choice whatever ``n`` asks for).
Real HTTP and real SSE on the wire; nothing in the client is mocked."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "scripted-model"


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    at: float  # time.monotonic() when the request arrived


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ScriptedServer:
    """``failures``: HTTP statuses answered, in order, to the first chat requests (a status or
    (status, headers)); ``hang``: accept chat requests and never answer; ``stall``: send the
    first piece of the answer, then nothing more; ``honours_n``: False answers one choice whatever
    ``n`` is. A successful answer streams ``copy seed S choice I`` in
    three pieces per choice."""

    def __init__(self, *, failures: list | None = None, hang: bool = False, stall: bool = False,
                 honours_n: bool = True) -> None:
        self.failures = list(failures or [])
        self.hang = hang
        self.stall = stall
        self.honours_n = honours_n
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.released = threading.Event()  # set on close: hanging handlers return
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._record(self, None)
                _reply_json(self, 200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                server._record(self, body)
                server._chat(self, body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def chat_requests(self) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "ScriptedServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        with self.lock:
            self.requests.append(Recorded(handler.command, handler.path, body, time.monotonic()))

    def _chat(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        if self.hang:
            self.released.wait(60)
            return
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            status, headers = failure if isinstance(failure, tuple) else (failure, {})
            _reply_json(handler, status, {"error": {"message": f"scripted failure {status}", "code": status}}, headers)
            return
        n = int(body.get("n") or 1) if self.honours_n else 1
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        for index in range(n):
            text = f"copy seed {body.get('seed')} choice {index}"
            for piece in (text[:5], text[5:12], text[12:]):
                _event(handler, {"choices": [{"index": index, "delta": {"content": piece}, "finish_reason": None}]})
                if self.stall:
                    self.released.wait(60)
                    return
            _event(handler, {"choices": [{"index": index, "delta": {}, "finish_reason": "stop"}]})
        _event(handler, {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3 * n}})
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()


def _event(handler: BaseHTTPRequestHandler, chunk: dict) -> None:
    handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
    handler.wfile.flush()


def _reply_json(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
