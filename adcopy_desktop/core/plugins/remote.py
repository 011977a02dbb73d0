"""The app's side of out-of-process plugins: starting plugin hosts, calling them, proxies.

Each third-party plugin gets a host process of its own (``host.py``), started with a stripped
environment (``host_environment``). ``PluginHost.call`` sends one request and waits for its answer
while it relays what the host sends meanwhile: callbacks (streamed tokens, import progress) run on
the calling thread, HTTP requests of shop targets are sent by the app (with the real credentials
put in place of the placeholders the plugin holds). Past its deadline a call kills the host
(``DeadlineExceeded``); a host that dies (``os._exit``, a segfault, out of memory) raises
``HostDied`` and is started again once, on the next call.

``remote_plugin`` turns a host's load report into a plugin object the manager registers with
pluggy like any module: forwarding hook functions, and ``register_*`` functions that replay what
the plugin registered in the host with ``RemoteCallable`` functions in it.
"""

from __future__ import annotations

import inspect
import itertools
import json
import logging
import os
import queue
import re
import secrets as token_source
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from adcopy_desktop.core.errors import PluginError
from adcopy_desktop.core.plugins.deadlines import DeadlineExceeded
from adcopy_desktop.core.plugins.hookspecs import hookimpl
from adcopy_desktop.core.plugins.protocol import (
    Codec,
    ProtocolError,
    decode_error,
    encode_error,
    read_frame,
    write_frame,
)

log = logging.getLogger("adcopy.plugins.host")

HOST_MODULE = "adcopy_desktop.core.plugins.host"
MEMORY_ENV = "ADCOPY_PLUGIN_HOST_MEMORY_MB"
DEFAULT_MEMORY_MB = 4096
# the environment a host keeps: what Python, locale, temp folders and AdCopy's own folders need
SAFE_ENV = frozenset({
    "PATH", "HOME", "USER", "USERNAME", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA", "USERPROFILE",
    "PROGRAMDATA", "HOMEDRIVE", "HOMEPATH", "NUMBER_OF_PROCESSORS",
    "ADCOPY_HOME", "ADCOPY_RESOURCES", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
    "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONHASHSEED", "SSL_CERT_FILE", "SSL_CERT_DIR", "VIRTUAL_ENV",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
})
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE|AUTH|COOKIE|SESSION|KEYRING",
                         re.IGNORECASE)
PLACEHOLDER_PREFIX = "adcopy-secret-"


def host_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The host's environment: only the variables in SAFE_ENV (and LC_*), none that looks like a
    secret, proxies without passwords, the app's import path, and the keyring set to fail."""
    base = os.environ if base is None else base
    env = {}
    for name, value in base.items():
        if not (name in SAFE_ENV or name.startswith("LC_")) or SECRET_NAME.search(name):
            continue
        if "proxy" in name.lower() and "@" in value:  # user:password@proxy
            continue
        env[name] = value
    env["PYTHONPATH"] = os.pathsep.join(_import_path())
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["PYTHONNOUSERSITE"] = base.get("PYTHONNOUSERSITE", "")
    if not env["PYTHONNOUSERSITE"]:
        del env["PYTHONNOUSERSITE"]
    env[MEMORY_ENV] = base.get(MEMORY_ENV) or str(DEFAULT_MEMORY_MB)  # 0: no limit
    return env


def _import_path() -> list[str]:
    """The app's sys.path (the host must import the same AdCopy and the same installed plugins)."""
    entries = []
    for entry in sys.path:
        path = Path(entry or os.getcwd()).resolve()
        if path.exists() and str(path) not in entries:
            entries.append(str(path))
    return entries


class HostDied(PluginError):
    """The plugin host ended while a call ran (or before it could answer)."""

    def __init__(self, message: str, *, will_restart: bool):
        super().__init__(message)
        self.will_restart = will_restart


class HostStopped(PluginError):
    """The host was stopped on purpose (a missed deadline, the session's end)."""


class PluginHost:
    """One host process running the plugins in ``specs``; restarted once after dying."""

    RESTARTS = 1

    def __init__(self, specs: Sequence[dict], *, label: str, deadlines: Mapping[str, float | None] | None = None,
                 memory_mb: int | None = None):
        self.specs = list(specs)
        self.label = label
        self.deadlines = deadlines or {}
        self.memory_mb = memory_mb
        self.process: subprocess.Popen | None = None
        self.deaths = 0
        self.stopped: str | None = None  # why it was stopped for good
        self.load_report: list[dict] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, "queue.SimpleQueue[tuple[str, Any]]"] = {}
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._restart_lock = threading.Lock()
        self._sealed: dict[str, tuple[str, tuple]] = {}  # placeholder -> (secret, shop origin)
        self._exit: str | None = None
        self._pending_load: int | None = None
        self.generation = 0  # one more for each process started: handles of older ones are gone

    # -- life -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the process and send the load request (``finish_start`` waits for its answer)."""
        env = host_environment()
        if self.memory_mb is not None:
            env[MEMORY_ENV] = str(self.memory_mb)
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        process = subprocess.Popen(
            [sys.executable, "-m", HOST_MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, cwd=os.getcwd(), creationflags=flags, close_fds=True,
        )
        with self._lock:
            self.process = process
            self._exit = None
            self.generation += 1
        threading.Thread(target=self._read, args=(process,), name=f"adcopy-host-{self.label}", daemon=True).start()
        threading.Thread(target=self._log_stderr, args=(process,), name=f"adcopy-host-log-{self.label}",
                         daemon=True).start()
        self._pending_load = self._submit({"op": "load", "plugins": self.specs})

    def finish_start(self, seconds: float | None) -> list[dict]:
        call_id, self._pending_load = self._pending_load, None
        report = self._wait(call_id, seconds=seconds, kind="load", cancel=None, callbacks={})
        if not isinstance(report, list):
            raise PluginError("the plugin host sent a load report that is not a list")
        self.load_report = report
        return report

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, reason: str) -> None:
        """Kill the host for good (a missed deadline, the end of the session)."""
        with self._lock:
            self.stopped = self.stopped or reason
            process = self.process
        if process is not None and process.poll() is None:
            try:
                process.kill()
            except OSError:
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for stream in (process.stdin, process.stdout, process.stderr) if process else ():
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def _ensure_running(self) -> None:
        # a lock of its own: the reader thread needs self._lock while the new host loads
        with self._restart_lock:
            if self.stopped:
                raise HostStopped(f"its plugin host was stopped ({self.stopped})")
            if self.alive:
                return
            if self.deaths > self.RESTARTS:
                raise HostStopped("its plugin host died too often and is not started again")
            log.warning("restarting the plugin host of %s", self.label)
            self.start()
            self.finish_start(self.deadlines.get("load"))

    # -- calls ------------------------------------------------------------------------------------

    def call(self, message: dict, *, seconds: float | None, kind: str) -> Any:
        """Send ``message`` (op, and its arguments as Python values) and return the decoded answer."""
        self._ensure_running()
        callbacks: dict[int, Callable[..., Any]] = {}
        cancels: list[Any] = []
        codec = self._argument_codec(callbacks, cancels)
        wire = {key: (codec.encode(value) if key in ("args", "kwargs") else value) for key, value in message.items()}
        call_id = self._submit(wire)
        value = self._wait(call_id, seconds=seconds, kind=kind, cancel=cancels[0] if cancels else None,
                           callbacks=callbacks)
        if (isinstance(value, RemoteObject) and message.get("op") == "call" and isinstance(message.get("target"), str)
                and not callbacks and not cancels and not codec.handles_used):
            # made by a registered function from plain values (a backend's load, a shop's connect):
            # after a restart the object is made again the same way in the new host
            value._recipe = (message, seconds, kind)
        return value

    def _submit(self, message: dict) -> int:
        call_id = next(self._ids)
        answers: "queue.SimpleQueue[tuple[str, Any]]" = queue.SimpleQueue()
        with self._lock:
            self._pending[call_id] = answers
            process = self.process
        try:
            self._send(process, {**message, "id": call_id})
        except (OSError, ValueError):  # the pipe is closed: the host is gone
            answers.put(("died", None))
        return call_id

    def _send(self, process: subprocess.Popen | None, message: dict) -> None:
        if process is None or process.stdin is None:
            raise OSError("no plugin host")
        with self._write_lock:
            write_frame(process.stdin, message)

    def _wait(self, call_id: int, *, seconds: float | None, kind: str, cancel: Any,
              callbacks: Mapping[int, Callable[..., Any]]) -> Any:
        answers = self._pending[call_id]
        deadline = time.monotonic() + seconds if seconds else None
        cancel_sent = False
        callback_error: BaseException | None = None
        try:
            while True:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                if cancel is not None:
                    timeout = 0.05 if timeout is None else min(timeout, 0.05)
                try:
                    what, payload = answers.get(timeout=timeout)
                except queue.Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        self.stop(f"a call missed its {seconds:g} s deadline")
                        raise DeadlineExceeded(seconds, kind) from None
                    if cancel is not None and cancel.cancelled and not cancel_sent:
                        cancel_sent = self._cancel(call_id)
                    continue
                if what == "reply":
                    if callback_error is not None:
                        raise callback_error
                    if payload.get("ok"):
                        return self._result_codec().decode(payload.get("value"))
                    raise decode_error(payload.get("error"))
                if what == "callback":
                    function = callbacks.get(payload.get("cb"))
                    if function is not None and callback_error is None:
                        try:
                            function(*self._result_codec().decode(payload.get("args") or []))
                        except BaseException as error:  # noqa: BLE001 - e.g. the app cancelling from on_token
                            callback_error = error
                            cancel_sent = self._cancel(call_id)
                elif what == "http":
                    # sent by a thread of its own, so the deadline still ends a call whose shop never
                    # answers; the request's own timeout ends with the call's deadline
                    left = None if deadline is None else max(0.1, deadline - time.monotonic())
                    threading.Thread(target=self._relay_http, args=(payload, self.process, left),
                                     name=f"adcopy-host-http-{self.label}", daemon=True).start()
                elif what == "died":
                    raise self._death()
        finally:
            with self._lock:
                self._pending.pop(call_id, None)

    def _cancel(self, call_id: int) -> bool:
        try:
            self._send(self.process, {"op": "cancel", "id": call_id})
        except (OSError, ValueError):
            pass
        return True

    def _death(self) -> PluginError:
        with self._lock:
            if self.stopped:
                return HostStopped(f"its plugin host was stopped ({self.stopped})")
            process = self.process
            how = self._exit or _exit_description(process)
            self.deaths += 1
            will_restart = self.deaths <= self.RESTARTS
        tail = "; it is started again for the next call" if will_restart else ""
        return HostDied(f"its plugin host died ({how}){tail}", will_restart=will_restart)

    # -- the host's output ------------------------------------------------------------------------

    def _read(self, process: subprocess.Popen) -> None:
        stream = process.stdout
        while True:
            try:
                message = read_frame(stream)
            except ProtocolError as error:  # garbage: stopped for good, the plugin is disabled
                log.warning("plugin host of %s %s; stopping it", self.label, error)
                with self._lock:
                    self.stopped = self.stopped or f"it {error}"
                try:
                    process.kill()
                except OSError:
                    pass
                message = None
            except (OSError, ValueError):
                message = None
            if message is None:
                break
            if not isinstance(message, dict):
                continue
            if "ok" in message:
                target, item = message.get("id"), ("reply", message)
            else:
                target, item = message.get("call"), (str(message.get("op")), message)
            with self._lock:
                answers = self._pending.get(target)
            if answers is not None:
                answers.put(item)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        with self._lock:
            if self.process is not process:
                return  # an older process of a restarted host
            waiting = list(self._pending.values())
        for answers in waiting:
            answers.put(("died", None))

    def _log_stderr(self, process: subprocess.Popen) -> None:
        try:
            for raw in iter(process.stderr.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    log.info("[%s] %s", self.label, line)
        except (ValueError, OSError):
            pass  # the pipe was closed by close() while a line was being read: the host is gone

    # -- values -----------------------------------------------------------------------------------

    def _argument_codec(self, callbacks: dict[int, Callable[..., Any]], cancels: list[Any]) -> Codec:
        from adcopy_desktop.core.plugins.registry import ImportContext
        from adcopy_desktop.core.progress import CancelToken

        def special(value: Any) -> dict | None:
            if isinstance(value, RemoteObject) and value._host is self:
                codec.handles_used = True
                return {"__t": "handleref", "h": value._current_handle()}
            if isinstance(value, CancelToken):
                cancels.append(value)
                return {"__t": "cancel"}
            if isinstance(value, ImportContext):
                return {"__t": "importctx", "progress": special(value.progress),
                        "cancel": special(value.cancel) if value.cancel is not None else None,
                        "mapping": codec.encode(value.mapping)}
            if callable(value):
                callback_id = len(callbacks) + 1
                callbacks[callback_id] = value
                return {"__t": "callback", "id": callback_id}
            return None

        codec = Codec(special=special)
        codec.handles_used = False
        return codec

    def _result_codec(self) -> Codec:
        def unspecial(value: dict) -> Any:
            if value.get("__t") == "handle" and isinstance(value.get("h"), int):
                return RemoteObject(self, value)
            raise ProtocolError(f"unknown value type {value.get('__t')!r}")

        return Codec(unspecial=unspecial)

    # -- shop credentials -------------------------------------------------------------------------

    def seal(self, credentials: Mapping[str, str], shop_url: str) -> dict[str, str]:
        """Placeholders for ``credentials``; the app puts the real values back only into requests
        to ``shop_url``'s origin that the host asks it to send."""
        origin = _origin(shop_url)
        sealed = {}
        for name, value in credentials.items():
            placeholder = f"{PLACEHOLDER_PREFIX}{name}-{token_source.token_hex(12)}"
            self._sealed[placeholder] = (value, origin)
            sealed[name] = placeholder
        return sealed

    def _relay_http(self, request: dict, process: subprocess.Popen | None = None,
                    seconds_left: float | None = None) -> None:
        from adcopy_desktop.core.shops import ShopError
        from adcopy_desktop.core.shops.http import request_json

        request_id = request.get("id")
        try:
            method, url = str(request.get("method")), str(request.get("url"))
            headers = request.get("headers") or {}
            if not isinstance(headers, dict):
                raise ShopError("request headers must be a mapping")
            used = [p for p in self._sealed if p in url or any(p in str(v) for v in headers.values())]
            if used and any(self._sealed[p][1] != _origin(url) for p in used):
                raise ShopError(f"a plugin may send a shop's credentials only to that shop, not to "
                                f"{urllib.parse.urlsplit(url).netloc}")
            for placeholder in used:
                secret = self._sealed[placeholder][0]
                url = url.replace(placeholder, urllib.parse.quote(secret, safe=""))
                headers = {str(k): str(v).replace(placeholder, secret) for k, v in headers.items()}
            timeout = request.get("timeout")
            timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else 30.0
            if seconds_left is not None:
                timeout = min(timeout, seconds_left)
            response = request_json(method, url, headers=headers, body=Codec().decode(request.get("body")),
                                    timeout=timeout)
            answer = {"op": "answer", "id": request_id, "ok": True, "value": Codec().encode(response)}
        except Exception as error:  # noqa: BLE001 - the plugin gets the error, as request_json raises it
            answer = {"op": "answer", "id": request_id, "ok": False, "error": encode_error(error)}
            answer["error"].pop("traceback", None)
        text = json.dumps(answer, ensure_ascii=False)
        for placeholder, (secret, _) in self._sealed.items():  # a shop echoing a key never hands it over
            text = text.replace(secret, placeholder)
        try:
            self._send(process or self.process, json.loads(text))
        except (OSError, ValueError):
            pass  # the host was stopped (its call missed its deadline) or died meanwhile


class RemoteCallable:
    """A function a plugin registered (``target``: its id), or a method of an object in the host
    (``owner`` and ``target``: the method's name), living in its host. Calling it applies the
    kind's deadline; the manager calls ``call_remote`` with its own."""

    def __init__(self, host: PluginHost, target: Any, kind: str, label: str, owner: "RemoteObject | None" = None):
        self._host = host
        self._target = target
        self._owner = owner
        self._kind = kind
        self.__name__ = label
        self.__qualname__ = label

    def call_remote(self, args: Sequence[Any], kwargs: Mapping[str, Any] | None, *, seconds: float | None,
                    kind: str) -> Any:
        target = self._target
        if self._owner is not None:
            target = {"handle": self._owner._current_handle(), "method": self._target}
        return self._host.call({"op": "call", "target": target, "args": list(args),
                                "kwargs": dict(kwargs or {})}, seconds=seconds, kind=kind)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.call_remote(args, kwargs, seconds=self._host.deadlines.get(self._kind), kind=self._kind)
        except (DeadlineExceeded, HostDied) as error:
            raise PluginError(f"The plugin {self._host.label} {error}.") from None

    def __repr__(self) -> str:
        return f"<{self.__name__} in the plugin host of {self._host.label}>"


class RemoteObject:
    """An object that stays in the host (a loaded backend, a shop client): its plain attributes
    as they were when it was returned, and its methods as ``RemoteCallable``s.

    A host that restarted has lost the object. One that a registered function made from plain
    values (``_recipe``: a backend's ``load``, a shop target's ``connect``) is made again in the
    new host on its next call, so that call works; any other raises that it is gone."""

    def __init__(self, host: PluginHost, data: dict):
        self._host = host
        self._handle = data["h"]
        self._generation = host.generation
        self._recipe: tuple[dict, float | None, str] | None = None
        self._remake_lock = threading.Lock()
        self._type = str(data.get("type", "object"))
        attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
        codec = Codec()
        for name, value in attrs.items():
            if isinstance(name, str) and name.isidentifier() and not name.startswith("_"):
                try:
                    setattr(self, name, codec.decode(value))
                except ProtocolError:
                    pass
        self._methods = {str(m) for m in data.get("methods") or [] if str(m).isidentifier()}
        kind = "backend" if "generate" in self._methods else "shop"
        for method in self._methods:
            if method not in attrs:
                setattr(self, method, RemoteCallable(host, method, kind, f"{self._type}.{method}", owner=self))

    def _current_handle(self) -> int:
        """The object's handle in the running host: made again there after a restart."""
        host = self._host
        host._ensure_running()
        with self._remake_lock:
            if self._generation == host.generation:
                return self._handle
            if self._recipe is None:
                raise PluginError(f"its {self._type} is gone (the plugin host restarted) and cannot be made again")
            message, seconds, kind = self._recipe
            log.info("making %s again in the restarted plugin host of %s", self._type, host.label)
            fresh = host.call(message, seconds=seconds, kind=kind)
            if not isinstance(fresh, RemoteObject):
                raise PluginError(f"the restarted plugin host made {type(fresh).__name__} instead of {self._type}")
            self._handle, self._generation = fresh._handle, fresh._generation
            return self._handle

    def __repr__(self) -> str:
        return f"<{self._type} in the plugin host of {self._host.label}>"


# -- the proxy plugin --------------------------------------------------------------------------------


class RemotePlugin:
    """What the manager registers with pluggy for a plugin that runs in a host."""

    def __init__(self, name: str, host: PluginHost):
        self.__name__ = f"{name} (plugin host)"
        self.adcopy_host = host


def remote_plugin(name: str, host: PluginHost, report: dict) -> RemotePlugin:
    """A plugin object from the host's load report for ``name``; raises what the import raised."""
    if "error" in report:
        error = decode_error(report["error"])
        if report.get("stage") == "register":
            error = PluginError(f"{getattr(error, 'remote_type', type(error).__name__)}: {error}")
        raise error
    plugin = RemotePlugin(name, host)
    from adcopy_desktop.core.plugins.manager import REGISTRATION_HOOKS

    registration_hooks = set(REGISTRATION_HOOKS.values())
    for hook in report.get("hooks", []):
        hook_name = str(hook.get("name"))
        if not hook_name.isidentifier() or hook_name.startswith("_"):
            raise PluginError(f"the plugin host reported a hook named {hook_name!r}")
        if hook.get("wrapper"):
            raise PluginError(f"hook wrappers are not supported ({hook_name}); each implementation runs in "
                              "its own error boundary")
        if hook_name in registration_hooks:
            function = _replay(host, hook_name, (report.get("registrations") or {}).get(hook_name) or {})
            argnames = ["register"]
        else:
            argnames = [str(a) for a in hook.get("argnames") or []]
            function = _forwarder(host, name, hook_name, argnames)
        try:
            function.__signature__ = inspect.Signature(
                [inspect.Parameter(a, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in argnames])
        except ValueError as error:
            raise PluginError(f"the plugin host reported bad arguments for {hook_name}: {error}") from None
        function.__name__ = hook_name
        marked = hookimpl(tryfirst=bool(hook.get("tryfirst")), trylast=bool(hook.get("trylast")))(function)
        setattr(plugin, hook_name, marked)
    return plugin


class _RemoteHook:
    def __init__(self, host: PluginHost, plugin: str, hook: str, argnames: list[str]):
        self.host, self.plugin, self.hook, self.argnames = host, plugin, hook, argnames

    def call_remote(self, args: Sequence[Any], kwargs: Mapping[str, Any] | None, *, seconds: float | None,
                    kind: str) -> Any:
        values = dict(zip(self.argnames, args))
        values.update(kwargs or {})
        return self.host.call({"op": "hook", "plugin": self.plugin, "hook": self.hook, "kwargs": values},
                              seconds=seconds, kind=kind)


def _forwarder(host: PluginHost, plugin: str, hook: str, argnames: list[str]) -> Callable[..., Any]:
    remote = _RemoteHook(host, plugin, hook, argnames)

    def forward(*args: Any) -> Any:
        return remote.call_remote(args, None, seconds=host.deadlines.get("hook"), kind="hook")

    forward.call_remote = remote.call_remote  # type: ignore[attr-defined]
    return forward


def _replay(host: PluginHost, hook: str, outcome: dict) -> Callable[..., Any]:
    """A register_* function that registers, here, what the plugin registered in its host."""

    def register_items(register: Any) -> Any:
        if "error" in outcome:
            raise decode_error(outcome["error"])
        codec = host._result_codec()
        for item in outcome.get("items") or []:
            if item.get("kind") == "style":
                register(codec.decode(item.get("value")))
                continue
            kind = str(item.get("kind"))
            fields = {}
            for key, value in (item.get("fields") or {}).items():
                if isinstance(value, dict) and value.get("__t") == "fn":
                    deadline_kind = {"scorer": "scorer", "importer": "importer", "backend": "backend_load"}.get(
                        kind, "shop" if key == "connect" else "exporter")
                    fields[key] = RemoteCallable(host, str(value.get("id")), deadline_kind, f"{kind}.{key}")
                else:
                    fields[key] = codec.decode(value)
            register(fields)
        errors = outcome.get("errors") or []
        if errors:
            if hasattr(register, "errors"):
                register.errors.extend(str(e) for e in errors)
            else:
                raise PluginError("; ".join(map(str, errors)))
        return outcome.get("returned")

    return register_items


# -- helpers -----------------------------------------------------------------------------------------


def _origin(url: str) -> tuple:
    parts = urllib.parse.urlsplit(str(url).strip() if "://" in str(url) else f"https://{str(url).strip()}")
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), port)


def _exit_description(process: subprocess.Popen | None) -> str:
    if process is None:
        return "it never started"
    code = process.poll()
    if code is None:
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = "; out of memory?" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit code {code}"
