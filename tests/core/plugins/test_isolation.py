"""A broken plugin never takes the app down: it is named, disabled for the session, and the other
plugins' results still arrive. Throwaway plugins raise on import, raise in every hook, and return
the wrong types."""

from pathlib import Path

import pytest

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.errors import PluginError
from adcopy_desktop.core.plugins import (
    ACTIVE,
    FAILED,
    Backend,
    BrandStyle,
    Exporter,
    Importer,
    Score,
    Scorer,
    hook_names,
    hookimpl,
)
from adcopy_desktop.core.plugins.testing import scripted_backend
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest, build_messages

from .helpers import entry_point, folder_plugin, style_plugin_code, write_module

PRODUCT = parse_product("Type: green tea\nOrigin: mountain")
REQUEST = CopyRequest(PRODUCT, "title", language="en")


def candidate(text="Green tea", language="en"):
    return Candidate(text=text, kind="title", model="m", language=language)


def status(manager, name):
    return next(info for info in manager.plugins() if info.name == name)


# -- import failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("raise RuntimeError('no licence key')", "RuntimeError: no licence key"),
        ("import adcopy_no_such_dependency", "ModuleNotFoundError"),
        ("import sys\nsys.exit(3)", "SystemExit: 3"),
        ("def broken(:\n    pass", "SyntaxError"),
    ],
)
def test_a_plugin_that_fails_to_import_is_named_and_skipped(make_manager, module_dir, code, error):
    bad = write_module(module_dir, code)
    good = write_module(module_dir, style_plugin_code("goodstyle"))
    manager = make_manager(entry_points=[entry_point("bad", bad), entry_point("good", good)])
    assert status(manager, "bad").status == FAILED
    [problem] = manager.problems
    assert (problem.name, problem.source, problem.hook) == ("bad", "entry point", "import")
    assert error in problem.error
    assert "plugin 'bad'" in problem.describe() and "entry point" in problem.describe()
    assert "goodstyle" in manager.styles()


def test_a_plugin_folder_plugin_that_fails_to_import_is_named_with_its_version(make_manager, plugins_dir):
    folder_plugin(plugins_dir, "adcopy-broken", "raise ImportError('needs numpy 9')", version="0.3")
    manager = make_manager()
    [problem] = manager.problems
    assert (problem.name, problem.version, problem.source, problem.hook) == (
        "adcopy-broken", "0.3", "plugin folder", "import")
    assert "needs numpy 9" in problem.error


# -- a plugin raising in each hook ---------------------------------------------------------------


def _hook_args(hook):
    """Positional parameter names of a hook spec."""
    import inspect

    from adcopy_desktop.core.plugins import hookspecs

    return list(inspect.signature(getattr(hookspecs, hook)).parameters)


def raising_plugin(hook):
    """A plugin whose implementation of ``hook`` raises."""
    args = ", ".join(_hook_args(hook))
    namespace = {"hookimpl": hookimpl}
    exec(f"@hookimpl\ndef {hook}({args}):\n    raise ValueError('boom in {hook}')", namespace)

    class Plugin:
        pass

    plugin = Plugin()
    setattr(plugin, hook, namespace[hook])
    return plugin


class Recorder:
    """A well-behaved plugin implementing every hook, recording what it saw."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def register_styles(self, register):
        register(BrandStyle(name="recorded"))

    @hookimpl
    def register_scorers(self, register):
        register(Scorer(name="recorded", score=lambda c, ctx: Score(0.5, "ok")))

    @hookimpl
    def register_importers(self, register):
        register(Importer(name="recorded", read=lambda path, options: [PRODUCT], extensions=(".rec",)))

    @hookimpl
    def register_exporters(self, register):
        register(Exporter(name="recorded", write=lambda cs, path, options: path.write_text("x"), extension=".rec"))

    @hookimpl
    def register_backends(self, register):
        register(Backend(name="recorded", load=lambda context: None, uses_model_store=False))

    @hookimpl
    def adjust_prompt(self, messages):
        messages[0]["content"] += "\nRECORDER WAS HERE"
        return messages

    @hookimpl
    def process_candidate(self, candidate):
        candidate.text += " (recorded)"
        return candidate

    @hookimpl
    def candidate_accepted(self, candidate):
        self.seen.append(("accepted", candidate.text))

    @hookimpl
    def candidate_rejected(self, candidate, reason):
        self.seen.append(("rejected", reason))

    @hookimpl
    def candidate_edited(self, candidate, previous_text):
        self.seen.append(("edited", previous_text))

    @hookimpl
    def export_finished(self, exporter, path, count):
        self.seen.append(("exported", exporter, count))


def exercise(manager, hook, tmp_path: Path):
    """Call ``hook`` through the manager's typed method; returns what the good plugin produced."""
    if hook == "register_styles":
        return "recorded" in manager.styles()
    if hook == "register_scorers":
        return manager.score(candidate())["recorded"].value == 0.5
    if hook == "register_importers":
        (tmp_path / "in.rec").write_text("x")
        return manager.import_products(tmp_path / "in.rec") == [PRODUCT]
    if hook == "register_exporters":
        manager.export([candidate()], tmp_path / "out.rec")
        return (tmp_path / "out.rec").read_text() == "x"
    if hook == "register_backends":
        return "recorded" in manager.backends()
    if hook == "adjust_prompt":
        messages = manager.adjust_prompt(build_messages(REQUEST), request=REQUEST, style=None, language="en")
        return messages[0]["content"].endswith("RECORDER WAS HERE")
    if hook == "process_candidate":
        return manager.process_candidate(candidate(), request=REQUEST, style=None).text == "Green tea (recorded)"
    if hook == "candidate_accepted":
        manager.candidate_accepted(candidate())
    elif hook == "candidate_rejected":
        manager.candidate_rejected(candidate(), "too long")
    elif hook == "candidate_edited":
        manager.candidate_edited(candidate("New"), "Old")
    elif hook == "export_finished":
        manager.export_finished("csv", tmp_path / "x.csv", 3, [candidate()])
    return True


@pytest.mark.parametrize("hook", hook_names())
def test_a_plugin_raising_in_any_hook_is_disabled_and_the_others_still_answer(make_manager, hook, tmp_path):
    manager = make_manager(builtins=False)
    recorder = Recorder()
    manager.add_plugin(recorder, name="recorder")
    manager.add_plugin(raising_plugin(hook), name="raiser", version="0.9")
    assert exercise(manager, hook, tmp_path)
    [problem] = manager.problems
    assert (problem.name, problem.version, problem.hook) == ("raiser", "0.9", hook)
    assert f"ValueError: boom in {hook}" in problem.error
    assert status(manager, "raiser").status == FAILED and status(manager, "recorder").status == ACTIVE
    exercise(manager, hook, tmp_path)  # disabled: not called again
    assert len(manager.problems) == 1
    if hook.startswith("candidate_") or hook == "export_finished":
        assert recorder.seen


def test_a_failing_plugin_loses_its_registrations_for_the_session(make_manager):
    class Flaky:
        @hookimpl
        def register_styles(self, register):
            register(BrandStyle(name="flaky"))

        @hookimpl
        def adjust_prompt(self, messages):
            raise RuntimeError("oops")

    manager = make_manager()
    manager.add_plugin(Flaky(), name="flaky")
    assert "flaky" in manager.styles()
    manager.adjust_prompt(build_messages(REQUEST), request=REQUEST, style=None, language="en")
    assert "flaky" not in manager.styles()
    assert status(manager, "flaky").reason.startswith("adjust_prompt: RuntimeError: oops")


def test_a_builtin_that_raises_is_reported_but_stays_enabled(make_manager):
    calls = []

    class Builtin:
        @hookimpl
        def process_candidate(self, candidate):
            calls.append(1)
            raise RuntimeError("built-in bug")

    manager = make_manager(builtins=[("adcopy.test-builtin", Builtin())])
    for _ in range(2):
        assert manager.process_candidate(candidate(), request=REQUEST, style=None).text == "Green tea"
    assert len(calls) == 2 and len(manager.problems) == 2
    assert status(manager, "adcopy.test-builtin").status == ACTIVE


# -- wrong return types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "why"),
    [
        ("not a list", "not a non-empty list of messages"),
        ([], "not a non-empty list of messages"),
        ([{"role": "system"}], "message 1"),
        ([{"role": "robot", "content": "hi"}], "role 'robot'"),
        ([{"role": "user", "content": 42}], "message 1"),
    ],
)
def test_adjust_prompt_returning_garbage_is_ignored_and_the_plugin_disabled(make_manager, returned, why):
    class Garbage:
        @hookimpl
        def adjust_prompt(self, messages):
            return returned

    manager = make_manager(builtins=False)
    manager.add_plugin(Recorder(), name="recorder")
    manager.add_plugin(Garbage(), name="garbage")
    messages = manager.adjust_prompt(build_messages(REQUEST), request=REQUEST, style=None, language="en")
    assert messages[0]["content"].endswith("RECORDER WAS HERE")
    [problem] = manager.problems
    assert problem.name == "garbage" and why in problem.error


@pytest.mark.parametrize("returned", ["just text", 42, {"text": "x"}])
def test_process_candidate_returning_garbage_is_ignored(make_manager, returned):
    class Garbage:
        @hookimpl
        def process_candidate(self, candidate):
            candidate.text = "CHANGED"
            return returned

    manager = make_manager(builtins=False)
    manager.add_plugin(Garbage(), name="garbage")
    result = manager.process_candidate(candidate(), request=REQUEST, style=None)
    assert result.text == "Green tea"
    assert "not a Candidate" in manager.problems[0].error


def test_hooks_get_copies_so_a_plugin_cannot_corrupt_the_apps_data(make_manager):
    class Meddler:
        @hookimpl
        def candidate_accepted(self, candidate):
            candidate.text = "meddled"

        @hookimpl
        def process_candidate(self, candidate, request):
            request.kind = "slogan"

    manager = make_manager(builtins=False)
    manager.add_plugin(Meddler(), name="meddler")
    original = candidate()
    manager.candidate_accepted(original)
    request = CopyRequest(PRODUCT, "title", language="en")
    manager.process_candidate(original, request=request, style=None)
    assert original.text == "Green tea" and request.kind == "title"


@pytest.mark.parametrize("returned", [5, -0.1, "high", None, Score(float("nan")), Score(0.5, label=3), True])
def test_a_scorer_returning_garbage_is_dropped_and_the_others_score(make_manager, returned):
    def score(candidate, context):
        return returned

    class Plugins:
        @hookimpl
        def register_scorers(self, register):
            register(Scorer(name="garbage", score=score))

    manager = make_manager()
    manager.add_plugin(Plugins(), name="garbage-scorer")
    scores = manager.score(candidate())
    assert "garbage" not in scores and scores["style-compliance"].value == 1.0
    assert "not a Score" in manager.problems[0].error
    assert "garbage" not in manager.scorers()


def test_a_scorer_that_raises_is_named(make_manager):
    class Plugins:
        @hookimpl
        def register_scorers(self, register):
            register(Scorer(name="divider", score=lambda c, ctx: 1 / 0))

    manager = make_manager()
    manager.add_plugin(Plugins(), name="divider-plugin", version="2.0")
    scores = manager.score(candidate())
    assert "divider" not in scores and "style-compliance" in scores  # the built-in scorers still score
    [problem] = manager.problems
    assert problem.hook == "scorer 'divider'" and "ZeroDivisionError" in problem.error


def test_an_importer_returning_garbage_raises_a_plugin_error_naming_it(make_manager, tmp_path):
    class Plugins:
        @hookimpl
        def register_importers(self, register):
            register(Importer(name="bad", read=lambda path, options: {"not": "a list"}, extensions=(".bad",)))

    manager = make_manager()
    manager.add_plugin(Plugins(), name="bad-importer", version="1.2")
    (tmp_path / "x.bad").write_text("")
    with pytest.raises(PluginError, match=r"plugin 'bad-importer' 1.2 \(registered\).*not a list of Product"):
        manager.import_products(tmp_path / "x.bad")
    assert "bad" not in manager.importers()


def test_an_exporter_that_crashes_is_named_but_user_errors_pass_through(make_manager, tmp_path):
    from adcopy_desktop.core.errors import ProductParseError

    def crash(candidates, path, options):
        raise KeyError("column")

    def user_error(path, options):
        raise ProductParseError("row 3 has no title")

    class Plugins:
        @hookimpl
        def register_exporters(self, register):
            register(Exporter(name="crashy", write=crash, extension=".crash"))

        @hookimpl
        def register_importers(self, register):
            register(Importer(name="strict", read=user_error, extensions=(".strict",)))

    manager = make_manager()
    manager.add_plugin(Plugins(), name="mixed")
    (tmp_path / "in.strict").write_text("")
    with pytest.raises(ProductParseError, match="row 3"):
        manager.import_products(tmp_path / "in.strict")
    assert manager.problems == [] and "strict" in manager.importers()
    with pytest.raises(PluginError, match="exporter 'crashy'.*KeyError.*disabled for this session"):
        manager.export([candidate()], tmp_path / "out.crash")


@pytest.mark.parametrize(
    ("loaded", "completions", "why"),
    [
        ("not a backend", None, "not an object with provider"),
        ("scripted", "nope", "not a list of completions"),
        ("scripted", [], "0 completions for 2 candidates"),
    ],
)
def test_a_backend_returning_garbage_raises_a_plugin_error(make_manager, loaded, completions, why):
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.plugins import BackendContext

    plugin = scripted_backend([["a", "b"]])
    if completions is not None:
        plugin.backend.generate = lambda messages, settings, **kwargs: completions
    if loaded != "scripted":
        plugin._load = lambda context: loaded
    manager = make_manager()
    manager.add_plugin(plugin, name="wonky-backend")
    with pytest.raises(PluginError, match=why):
        backend = manager.load_backend("scripted", BackendContext(model=None))
        manager.run_backend("scripted", backend, build_messages(REQUEST), GenerationSettings(n=2))
    assert manager.problems[0].name == "wonky-backend"
