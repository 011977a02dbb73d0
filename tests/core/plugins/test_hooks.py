"""One test per hook: what each receives, what its return value does, and when it is called."""

from pathlib import Path

import pytest

from adcopy_desktop.core.candidates import Candidate, GenerationSettings
from adcopy_desktop.core.errors import PluginError
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.plugins import Backend, BrandStyle, Exporter, Importer, Score, Scorer, hookimpl
from adcopy_desktop.core.plugins.testing import ScriptedBackend, scripted_backend
from adcopy_desktop.core.product import Product, parse_product
from adcopy_desktop.core.prompts import CopyRequest, build_messages

PRODUCT = parse_product("Type: green tea")
REQUEST = CopyRequest(PRODUCT, "slogan", language="en")


def candidate(text="Tea for two", **fields):
    return Candidate(text=text, kind="slogan", model="m", language="en", **fields)


def test_register_styles_makes_a_style_usable_by_name(make_manager):
    class Plugin:
        @hookimpl
        def register_styles(self, register):
            register(BrandStyle(name="hooked", voice={"en": "Dry wit."}))

    manager = make_manager()
    manager.add_plugin(Plugin(), name="styles")
    manager.add_plugin(scripted_backend([["Tea, obviously."]]), name="backend")
    generator = CopyGenerator(plugins=manager, backend="scripted")
    [result] = generator.generate(REQUEST, GenerationSettings(n=1), style="hooked")
    assert result.style == "hooked"


def test_register_scorers_scores_with_options_and_context(make_manager):
    seen = []

    def score(candidate, context):
        seen.append((candidate.text, getattr(context.style, "name", None), dict(context.options)))
        return Score(0.75, "good", "because")

    class Plugin:
        @hookimpl
        def register_scorers(self, register):
            register(Scorer(name="vibes", score=score, settings_schema={"strict": {"type": "boolean", "default": False}}))

    manager = make_manager()
    manager.add_plugin(Plugin(), name="scorers")
    style = manager.style("plain")
    scores = manager.score(candidate(), style=style, scorers=["vibes"], options={"vibes": {"strict": True}})
    assert scores == {"vibes": Score(0.75, "good", "because")}
    assert seen == [("Tea for two", "plain", {"strict": True})]
    with pytest.raises(PluginError, match="Unknown scorer 'nope'"):
        manager.score(candidate(), scorers=["nope"])
    assert manager.score(candidate(), scorers=["vibes"])["vibes"].value == 0.75


def test_register_importers_chooses_by_extension_or_name(make_manager, tmp_path: Path):
    def read(path, options):
        return [Product.from_attributes([("Line", line)]) for line in path.read_text().splitlines()]

    class Plugin:
        @hookimpl
        def register_importers(self, register):
            register(Importer(name="lines", read=read, extensions=(".lines",)))

    manager = make_manager()
    manager.add_plugin(Plugin(), name="importers")
    (tmp_path / "a.lines").write_text("one\ntwo")
    assert [p.attributes for p in manager.import_products(tmp_path / "a.lines")] == [[("Line", "one")], [("Line", "two")]]
    (tmp_path / "a.txt").write_text("three")
    assert manager.import_products(tmp_path / "a.txt", importer="lines")[0].attributes == [("Line", "three")]


def test_register_exporters_writes_and_fires_export_finished(make_manager, tmp_path: Path):
    def write(candidates, path, options):
        path.write_text("\n".join(c.text for c in candidates), encoding="utf-8")

    class Plugin:
        @hookimpl
        def register_exporters(self, register):
            register(Exporter(name="plaintext", write=write, extension=".txt"))

    manager = make_manager()
    manager.add_plugin(Plugin(), name="exporters")
    path = manager.export([candidate("a"), candidate("b")], tmp_path / "copy.txt")
    assert path.read_text() == "a\nb"


def test_register_backends_is_used_by_the_generator(make_manager):
    backend = ScriptedBackend([["From the plugin backend"]])

    class Plugin:
        @hookimpl
        def register_backends(self, register):
            register(Backend(name="remote-ish", load=lambda context: backend, uses_model_store=False,
                             languages=("en",)))

    manager = make_manager()
    manager.add_plugin(Plugin(), name="backends")
    generator = CopyGenerator(plugins=manager, backend="remote-ish")
    [result] = generator.generate(REQUEST, GenerationSettings(n=1))
    assert (result.text, result.model, result.provider) == ("From the plugin backend", "remote-ish", "scripted")
    assert backend.calls[0]["messages"][0]["role"] == "system"
    with pytest.raises(Exception, match="writes English only"):
        generator.generate(CopyRequest(parse_product("类型#茶"), "slogan"), GenerationSettings(n=1))


def test_adjust_prompt_runs_as_a_chain_in_call_order(make_manager):
    order = []

    class First:
        @hookimpl(tryfirst=True)
        def adjust_prompt(self, messages, request, style, language):
            order.append(("first", language, request.kind.value, style))
            messages[-1]["content"] += "\nFIRST"  # in place, returning None

    class Second:
        @hookimpl
        def adjust_prompt(self, messages):
            order.append(("second", messages[-1]["content"].endswith("FIRST")))
            return [*messages, {"role": "assistant", "content": "Sure:"}]

    manager = make_manager(builtins=False)
    manager.add_plugin(Second(), name="second")
    manager.add_plugin(First(), name="first")
    original = build_messages(REQUEST)
    messages = manager.adjust_prompt(original, request=REQUEST, style=None, language="en")
    assert order == [("first", "en", "slogan", None), ("second", True)]
    assert messages[-1] == {"role": "assistant", "content": "Sure:"}
    assert original == build_messages(REQUEST)  # the caller's list is untouched


def test_process_candidate_runs_as_a_chain(make_manager):
    class Upper:
        @hookimpl
        def process_candidate(self, candidate):
            candidate.text = candidate.text.upper()
            return candidate

    class Flagger:
        @hookimpl(trylast=True)
        def process_candidate(self, candidate, request, style):
            assert candidate.text == "TEA FOR TWO" and request.kind.value == "slogan"
            candidate.flags.append({"rule": "shouting", "severity": "warning", "message": "all caps"})

    manager = make_manager(builtins=False)
    manager.add_plugin(Flagger(), name="flagger")
    manager.add_plugin(Upper(), name="upper")
    result = manager.process_candidate(candidate(), request=REQUEST, style=None)
    assert result.text == "TEA FOR TWO" and result.flags[0]["rule"] == "shouting"


class Events:
    def __init__(self):
        self.seen = []

    @hookimpl
    def candidate_accepted(self, candidate):
        self.seen.append(("accepted", candidate.text))

    @hookimpl
    def candidate_rejected(self, candidate, reason):
        self.seen.append(("rejected", candidate.text, reason))

    @hookimpl
    def candidate_edited(self, candidate, previous_text):
        self.seen.append(("edited", previous_text, candidate.text))

    @hookimpl
    def export_finished(self, exporter, path, count):
        self.seen.append(("exported", exporter, path.name, count))


@pytest.fixture
def events(make_manager):
    manager = make_manager()
    listener = Events()
    manager.add_plugin(listener, name="events")
    return manager, listener


def test_candidate_accepted_is_announced(events):
    manager, listener = events
    manager.candidate_accepted(candidate())
    assert listener.seen == [("accepted", "Tea for two")]


def test_candidate_rejected_carries_the_reason(events):
    manager, listener = events
    manager.candidate_rejected(candidate(), "off brand")
    manager.candidate_rejected(candidate("x"))
    assert listener.seen == [("rejected", "Tea for two", "off brand"), ("rejected", "x", None)]


def test_candidate_edited_carries_the_previous_text(events):
    manager, listener = events
    manager.candidate_edited(candidate("Tea for three"), previous_text="Tea for two")
    assert listener.seen == [("edited", "Tea for two", "Tea for three")]


def test_export_finished_only_after_a_successful_export(events, tmp_path: Path):
    manager, listener = events
    manager.export([candidate()], tmp_path / "copy.csv")
    assert listener.seen == [("exported", "csv", "copy.csv", 1)]
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("")
    with pytest.raises(OSError):
        manager.export([candidate()], blocker / "copy.csv")
    assert len(listener.seen) == 1
