"""``adcopy serve``: this computer's model over the OpenAI chat/completions API (no Qt).

``app.py`` the Starlette app (routes, auth, admission, streaming), ``tokens.py`` hashed bearer
tokens, ``server.py`` the bind rules and uvicorn.
"""

from adcopy_desktop.core.serve.app import ModelRunner, ServeOptions, create_app, parse_chat_request
from adcopy_desktop.core.serve.server import ServeConfig, ServeError, check_bind, is_loopback, serve
from adcopy_desktop.core.serve.tokens import TokenError, TokenStore

__all__ = ["ModelRunner", "ServeConfig", "ServeError", "ServeOptions", "TokenError", "TokenStore", "check_bind",
           "create_app", "is_loopback", "parse_chat_request", "serve"]
