"""Starting ``adcopy serve``: the bind rules, the model, uvicorn on a socket bound here.

The socket is bound before uvicorn starts so that ``--port 0`` (any free port) can be reported,
and so that a port in use fails with a clear message instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Callable

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.serve.app import ModelRunner, ServeOptions, create_app
from adcopy_desktop.core.serve.tokens import TokenStore

log = logging.getLogger("adcopy.serve")


class ServeError(AdCopyError):
    """The server cannot start as asked (an address it may not open, a port in use)."""


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    max_concurrent: int = 1
    max_waiting: int = 4
    log_prompts: bool = False
    token_delay_s: float = 0.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, tokens: TokenStore) -> None:
    """Only this computer may use a server without tokens."""
    if not is_loopback(host) and not tokens.tokens():
        raise ServeError(
            f"Refusing to serve on {host} without an access token: anyone on the network could use the model. "
            "Create one first with 'adcopy serve token create --name NAME' (it is shown once), or serve on "
            "127.0.0.1 for this computer only.")


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as error:
        raise ServeError(f"Cannot listen on {host}:{port} ({error.strerror or error}); choose another --port "
                         "(0 picks a free one) or stop what uses it.") from None
    sock.set_inheritable(True)
    return sock


def serve(config: ServeConfig, generator, *, tokens: TokenStore | None = None,
          on_ready: Callable[[str, str], None] | None = None) -> None:
    """Run until interrupted. ``on_ready(url, model id)`` once the model is loaded and the socket
    listens."""
    import uvicorn

    tokens = tokens or TokenStore()
    check_bind(config.host, tokens)
    sock = bind_socket(config.host, config.port)
    runner = ModelRunner(generator, max_concurrent=config.max_concurrent, max_waiting=config.max_waiting)
    model_id = runner.warm()
    options = ServeOptions(max_concurrent=config.max_concurrent, max_waiting=config.max_waiting,
                           log_prompts=config.log_prompts, open_without_tokens=is_loopback(config.host),
                           token_delay_s=config.token_delay_s)
    app = create_app(runner, tokens, options)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/v1"
    uvicorn_config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                    timeout_graceful_shutdown=3, timeout_keep_alive=30)
    server = uvicorn.Server(uvicorn_config)
    if on_ready is not None:
        on_ready(url, model_id)
    log.info("serving %s on %s (%d at once, %d waiting, prompts %slogged)", model_id, url, config.max_concurrent,
             config.max_waiting, "" if config.log_prompts else "not ")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
