"""The plugin host: a child process that runs third-party plugins for the app.

Started by ``remote.PluginHost`` as ``python -m adcopy_desktop.core.plugins.host``, with the
app's secrets stripped from its environment. It speaks ``protocol.py`` frames on its original
stdin/stdout (plugins' own prints go to stderr, which the app logs) and:

1. locks the door before any plugin is imported: the keyring is the fail backend,
   ``core.secrets`` refuses every call, and ``core.shops.http.request_json`` is relayed to the app
   (which adds a shop's credentials only for that shop's address; the plugin holds placeholders);
2. answers ``load`` by importing each plugin, registering it with pluggy and running its
   ``register_*`` hooks, reporting the hooks it implements and the items it registered;
3. runs ``hook`` and ``call`` requests one at a time on its main thread, while a reader thread
   takes cancels and answers; it exits when the app closes its stdin (or dies).
"""

from __future__ import annotations

import dataclasses
import faulthandler
import importlib.metadata
import importlib.util
import itertools
import os
import queue
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from adcopy_desktop.core.plugins import protocol
from adcopy_desktop.core.plugins.protocol import Codec, encode_error, read_frame, write_frame

NO_KEYRING = ("Plugins have no access to the keyring: AdCopy keeps shop keys away from them. A shop target "
              "receives placeholders that AdCopy replaces when its requests go through "
              "adcopy_desktop.core.shops.http.request_json.")
CALLABLE_FIELDS = {"scorer": ("score",), "importer": ("read",), "exporter": ("write", "connect"),
                   "backend": ("load",)}
IN_PLACE = {"adjust_prompt": "messages", "process_candidate": "candidate"}  # chain hooks: argument edited
REGISTRATION_KINDS = {"register_styles": "style", "register_scorers": "scorer", "register_importers": "importer",
                      "register_exporters": "exporter", "register_backends": "backend"}


class Host:
    def __init__(self, stream_in, stream_out):
        self._in = stream_in
        self._out = stream_out
        self._write_lock = threading.Lock()
        self._calls: "queue.SimpleQueue[dict | None]" = queue.SimpleQueue()
        self._answers: dict[int, "queue.SimpleQueue[dict]"] = {}
        self._cancels: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._request_ids = itertools.count(1)
        self._handle_ids = itertools.count(1)
        self.current_call: int | None = None
        self.plugins: dict[str, object] = {}
        self.impls: dict[tuple[str, str], Callable[..., Any]] = {}
        self.callables: dict[str, Callable[..., Any]] = {}
        self.handles: dict[int, object] = {}
        self.pm = None

    # -- wire -------------------------------------------------------------------------------------

    def send(self, message: dict) -> None:
        with self._write_lock:
            write_frame(self._out, message)

    def read_forever(self) -> None:
        """The reader thread: calls go to the main thread, cancels and answers are handled here."""
        while True:
            try:
                message = read_frame(self._in)
            except protocol.ProtocolError:
                message = None
            if message is None:  # the app closed the pipe or died: nobody needs us any more
                os._exit(0)
            op = message.get("op")
            if op == "cancel":
                token = self._cancels.get(message.get("id"))
                if token is not None:
                    token.cancel()
            elif op == "answer":
                with self._lock:
                    waiting = self._answers.get(message.get("id"))
                if waiting is not None:
                    waiting.put(message)
            else:
                self._calls.put(message)

    def serve(self) -> None:
        threading.Thread(target=self.read_forever, name="adcopy-host-reader", daemon=True).start()
        while True:
            message = self._calls.get()
            call_id = message.get("id")
            self.current_call = call_id
            try:
                value = self.handle(message)
                reply = {"id": call_id, "ok": True, "value": self.result_codec().encode(value)}
            except BaseException as error:  # noqa: BLE001 - SystemExit from a plugin is its failure too
                reply = {"id": call_id, "ok": False, "error": encode_error(error)}
            finally:
                self.current_call = None
                self._cancels.pop(call_id, None)
            try:
                self.send(reply)
            except (TypeError, ValueError) as error:  # a value JSON cannot hold
                self.send({"id": call_id, "ok": False, "error": encode_error(error)})

    # -- requests ---------------------------------------------------------------------------------

    def handle(self, message: dict) -> Any:
        op = message.get("op")
        codec = self.argument_codec(message.get("id"))
        if op == "load":
            return [self.load(spec) for spec in message.get("plugins", [])]
        if op == "hook":
            fn = self.impls.get((message.get("plugin"), message.get("hook")))
            if fn is None:
                raise LookupError(f"no hook {message.get('hook')} for plugin {message.get('plugin')}")
            kwargs = codec.decode(message.get("kwargs") or {})
            result = fn(**kwargs)
            edited = IN_PLACE.get(str(message.get("hook")))
            if result is None and edited in kwargs:  # edits made in place travel back too
                return kwargs[edited]
            return result
        if op == "call":
            fn = self.target(message.get("target"))
            return fn(*codec.decode(message.get("args") or []), **codec.decode(message.get("kwargs") or {}))
        if op == "release":
            self.handles.pop(message.get("handle"), None)
            return None
        raise LookupError(f"unknown request {op!r}")

    def target(self, target: Any) -> Callable[..., Any]:
        if isinstance(target, str):
            fn = self.callables.get(target)
            if fn is None:
                raise LookupError(f"nothing registered as {target}")
            return fn
        if isinstance(target, dict):
            obj = self.handles.get(target.get("handle"))
            if obj is None:
                raise LookupError("this object is gone (the plugin host restarted); load it again")
            method = getattr(obj, str(target.get("method")), None)
            if not callable(method) or str(target.get("method")).startswith("_"):
                raise LookupError(f"{type(obj).__name__} has no method {target.get('method')}")
            return method
        raise LookupError(f"bad call target {target!r}")

    # -- loading ----------------------------------------------------------------------------------

    def load(self, spec: dict) -> dict:
        name = spec["name"]
        try:
            plugin = self.import_plugin(spec)
        except BaseException as error:  # noqa: BLE001 - reported as the plugin's import failure
            return {"name": name, "stage": "import", "error": encode_error(error)}
        try:
            self.pm.register(plugin, name=name)
        except BaseException as error:  # noqa: BLE001
            return {"name": name, "stage": "register", "error": encode_error(error)}
        self.plugins[name] = plugin
        hooks = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                hooks.append({"name": caller.name, "argnames": list(impl.argnames), "tryfirst": impl.tryfirst,
                              "trylast": impl.trylast, "wrapper": bool(impl.wrapper or impl.hookwrapper)})
                self.impls[(name, caller.name)] = impl.function
        registrations = {}
        for hook in sorted(REGISTRATION_KINDS):
            fn = self.impls.get((name, hook))
            if fn is not None:
                registrations[hook] = self.register(name, REGISTRATION_KINDS[hook], fn)
        return {"name": name, "hooks": hooks, "registrations": registrations}

    def import_plugin(self, spec: dict) -> object:
        folder = spec.get("folder")
        ep = importlib.metadata.EntryPoint(name=spec["entry_name"], value=spec["value"], group="adcopy")
        if folder:
            if folder not in sys.path:
                sys.path.append(folder)
            top = ep.value.split(":")[0].strip().split(".")[0]
            found = importlib.util.find_spec(top)
            origin = found.origin if found is not None else None
            if origin is None and found is not None and found.submodule_search_locations:
                origin = list(found.submodule_search_locations)[0]
            if origin is None or not _inside(Path(origin), Path(folder)):
                where = f"by {origin}" if origin else "(module not found)"
                from adcopy_desktop.core.errors import PluginError

                raise PluginError(f"its module '{top}' is not in {folder} but shadowed {where}")
        return ep.load()

    def register(self, plugin: str, kind: str, fn: Callable[..., Any]) -> dict:
        from adcopy_desktop.core.plugins.registry import RegistrationError, validate_registration

        items: list[dict] = []
        errors: list[str] = []
        closed = False

        def register(item: Any = None, /, **fields: Any) -> None:
            if closed:
                raise RuntimeError(f"plugin '{plugin}' called register() after its hook returned; register "
                                   "everything inside the hook")
            if fields:
                if item is not None:
                    errors.append("pass register() one object or keyword fields, not both")
                    return
                item = fields
            try:
                value = validate_registration(kind, item)
            except RegistrationError as error:
                errors.append(str(error))
                return
            items.append(self.describe_item(kind, value))

        try:
            returned = fn(register=register)
        except BaseException as error:  # noqa: BLE001
            return {"error": encode_error(error)}
        finally:
            closed = True
        return {"items": items, "errors": errors,
                "returned": None if returned is None else f"{type(returned).__name__} {returned!r}"[:80]}

    def describe_item(self, kind: str, value: Any) -> dict:
        """A registered item as data; its functions become ids the app calls back."""
        codec = self.result_codec()
        if kind == "style":
            return {"kind": kind, "value": codec.encode(value)}
        fields = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if field.name in CALLABLE_FIELDS.get(kind, ()) and item is not None:
                target = f"{kind}:{value.name}:{field.name}"
                self.callables[target] = item
                fields[field.name] = {"__t": "fn", "id": target}
            else:
                fields[field.name] = codec.encode(item)
        return {"kind": kind, "fields": fields}

    # -- values -----------------------------------------------------------------------------------

    def result_codec(self) -> Codec:
        return Codec(special=self.keep_as_handle)

    def keep_as_handle(self, value: Any) -> dict:
        """An object JSON cannot hold (a loaded backend, a shop client) stays here; the app gets a
        handle with its plain attributes and the names of its methods."""
        handle = next(self._handle_ids)
        self.handles[handle] = value
        attrs, methods = {}, []
        plain = Codec()
        for name in dir(value):
            if name.startswith("_"):
                continue
            try:
                attribute = getattr(value, name)
            except Exception:  # noqa: BLE001 - a property that raises is simply not offered
                continue
            if callable(attribute):
                methods.append(name)
                continue
            try:
                attrs[name] = plain.encode(attribute)
            except TypeError:
                pass
        return {"__t": "handle", "h": handle, "type": type(value).__name__, "attrs": attrs, "methods": methods}

    def argument_codec(self, call_id: Any) -> Codec:
        def unspecial(value: dict) -> Any:
            kind = value.get("__t")
            if kind == "callback":
                callback_id = value.get("id")

                def callback(*args: Any) -> None:
                    self.send({"op": "callback", "call": call_id, "cb": callback_id,
                               "args": self.result_codec().encode(list(args))})

                return callback
            if kind == "cancel":
                from adcopy_desktop.core.progress import CancelToken

                token = self._cancels.get(call_id)
                if token is None:
                    token = self._cancels[call_id] = CancelToken()
                return token
            if kind == "importctx":
                from adcopy_desktop.core.plugins.registry import ImportContext

                return ImportContext(progress=unspecial(value["progress"]),
                                     cancel=unspecial(value["cancel"]) if value.get("cancel") else None,
                                     mapping=codec.decode(value.get("mapping")))
            if kind == "handleref":
                return self.handles.get(value.get("h"))
            raise protocol.ProtocolError(f"unknown value type {kind!r}")

        codec = Codec(unspecial=unspecial)
        return codec

    # -- requests to the app --------------------------------------------------------------------

    def ask_app(self, what: str, **fields: Any) -> Any:
        """Ask the app to do something for the running call (an HTTP request) and wait for it."""
        request_id = next(self._request_ids)
        waiting: "queue.SimpleQueue[dict]" = queue.SimpleQueue()
        with self._lock:
            self._answers[request_id] = waiting
        try:
            self.send({"op": what, "call": self.current_call, "id": request_id,
                       **self.result_codec().encode(fields)})
            answer = waiting.get()
        finally:
            with self._lock:
                self._answers.pop(request_id, None)
        if answer.get("ok"):
            return Codec().decode(answer.get("value"))
        raise protocol.decode_error(answer.get("error"))


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def _lock_down(host: Host) -> None:
    """Before any plugin runs: no keyring, no secrets module, shop requests through the app."""
    try:
        import keyring
        import keyring.backends.fail

        keyring.set_keyring(keyring.backends.fail.Keyring())
    except Exception:  # noqa: BLE001 - no keyring package: nothing to lock
        pass
    from adcopy_desktop.core import secrets
    from adcopy_desktop.core.shops import http

    def no_keyring(*args: Any, **kwargs: Any) -> Any:
        raise secrets.KeyringUnavailableError(NO_KEYRING)

    for name in ("_backend", "store_credentials", "load_credentials", "delete_credentials", "require_keyring"):
        setattr(secrets, name, no_keyring)
    secrets.keyring_available = lambda: False

    def request_json(method: str, url: str, *, headers: Any, body: Any = None, timeout: float = 30.0) -> Any:
        return host.ask_app("http", method=method, url=url, headers=dict(headers), body=body, timeout=timeout)

    http.request_json = request_json


def _limit_memory(megabytes: int) -> None:
    """A plugin that eats memory gets MemoryError here rather than the OOM killer picking the app."""
    if megabytes <= 0:
        return
    try:
        import resource
    except ImportError:  # Windows
        return
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def main() -> None:
    # the protocol keeps the original stdin/stdout; plugins' prints go to stderr, input reads nothing
    stream_in = os.fdopen(os.dup(0), "rb", buffering=0)
    stream_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    faulthandler.enable(sys.stderr)
    _limit_memory(int(os.environ.get("ADCOPY_PLUGIN_HOST_MEMORY_MB") or 0))
    import pluggy

    from adcopy_desktop.core.plugins import hookspecs

    host = Host(stream_in, stream_out)
    _lock_down(host)
    host.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    host.pm.add_hookspecs(hookspecs)
    host.serve()


if __name__ == "__main__":
    main()
