"""Registration hooks hand plugins a register() callback; the core checks every registration and
rejects a bad one with a message that names the plugin."""

from pathlib import Path

import pytest

from adcopy_desktop.core.plugins import FAILED, BrandStyle, Exporter, Importer, Scorer, hookimpl
from adcopy_desktop.core.plugins.registry import RegistrationError, resolve_options, validate_settings_schema


def registering(hook, *items, **fields):
    class Plugin:
        pass

    def impl(register):
        for item in items:
            register(item)
        if fields:
            register(**fields)

    impl.__name__ = hook
    plugin = Plugin()
    setattr(plugin, hook, hookimpl(impl))
    return plugin


def failure(manager, plugin, name="acme-plugin", version="3.1"):
    info = manager.add_plugin(plugin, name=name, version=version)
    assert info.status == FAILED, info
    [problem] = manager.problems
    assert problem.name == name and problem.version == version
    return problem


def score(candidate, context):
    return 1.0


@pytest.mark.parametrize(
    ("hook", "item", "message"),
    [
        ("register_styles", BrandStyle(name="Bad Name"), "name 'Bad Name' must be"),
        ("register_styles", BrandStyle(name="x", languages=("fr",)), "unknown language(s) fr"),
        ("register_styles", {"name": "x", "voice": {"de": "Gut"}}, "voice has a 'de' entry"),
        ("register_styles", {"name": "x", "forbidden_words": {"en": ["cheap"]}, "required_words": {"en": ["Cheap"]}},
         "'cheap' is both required and forbidden in en"),
        ("register_styles", {"name": "x", "length_rules": {"title": {"zh": {"min": 30, "max": 10}}}}, "min 30 is above max 10"),
        ("register_styles", {"name": "x", "adapter": "/no/such/adapter"}, "adapter folder /no/such/adapter does not exist"),
        ("register_styles", {"name": "x", "colour": "green"}, "unknown field(s) colour"),
        ("register_styles", 42, "takes a BrandStyle, a dict of its fields or a style file"),
        ("register_scorers", Scorer(name="s", score="not callable"), "score must be callable"),
        ("register_scorers", {"name": "s"}, "cannot build a Scorer"),
        ("register_scorers", BrandStyle(name="s"), "takes a Scorer"),
        ("register_scorers", Scorer(name="s", score=score, languages=("fr",)), "languages must list codes"),
        ("register_importers", Importer(name="i", read=score, extensions=("csv",)), "extension 'csv' must look like '.csv'"),
        ("register_exporters", Exporter(name="e", write=score, extension=".CSV"), "must look like '.csv'"),
        ("register_exporters", Exporter(name="", write=score, extension=".csv"), "exporter name '' must be"),
        ("register_scorers", Scorer(name="s", score=score, settings_schema={"level": {"type": "colour", "default": 1}}),
         "type must be one of string, integer, number, boolean, choice"),
        ("register_scorers", Scorer(name="s", score=score, settings_schema={"level": {"type": "integer"}}),
         "needs a default"),
        ("register_scorers", Scorer(name="s", score=score, settings_schema={"level": {"type": "integer", "default": "3"}}),
         "default must be a whole number"),
        ("register_scorers", Scorer(name="s", score=score,
                                    settings_schema={"mode": {"type": "choice", "choices": ["a"], "default": "b"}}),
         "default must be one of a"),
    ],
)
def test_bad_registrations_reject_the_plugin_with_a_message_naming_it(make_manager, hook, item, message):
    manager = make_manager()
    problem = failure(manager, registering(hook, item))
    assert problem.hook == hook
    assert message in problem.error
    assert "plugin 'acme-plugin' 3.1 (registered) failed in " + hook in problem.describe()


def test_a_rejected_plugin_keeps_none_of_its_registrations(make_manager):
    manager = make_manager()
    failure(manager, registering("register_styles", BrandStyle(name="fine"), BrandStyle(name="NOT FINE")))
    assert "fine" not in manager.styles()


def test_names_are_unique_and_builtins_keep_theirs(make_manager):
    manager = make_manager()
    problem = failure(manager, registering("register_styles", BrandStyle(name="plain")))
    assert "style 'plain' is already registered by plugin 'adcopy.plain-style'" in problem.error
    assert manager.style("plain").label == "Plain (default prompts)"


def test_the_same_name_twice_in_one_plugin_is_refused(make_manager):
    problem = failure(make_manager(), registering("register_styles", BrandStyle(name="twin"), BrandStyle(name="twin")))
    assert "registered twice" in problem.error


def test_returning_items_instead_of_registering_them_is_explained(make_manager):
    class Plugin:
        @hookimpl
        def register_styles(self, register):
            return [BrandStyle(name="returned")]

    problem = failure(make_manager(), Plugin())
    assert "it returned list" in problem.error and "call register(...)" in problem.error


def test_register_after_the_hook_returned_is_refused(make_manager):
    kept = []

    class Plugin:
        @hookimpl
        def register_styles(self, register):
            kept.append(register)

    manager = make_manager()
    manager.add_plugin(Plugin(), name="late")
    with pytest.raises(Exception, match="after register_styles returned"):
        kept[0](BrandStyle(name="late"))
    assert "late" not in manager.styles()


def test_keyword_registration_and_style_files(make_manager, tmp_path: Path):
    style_file = tmp_path / "brand.toml"
    style_file.write_text('name = "filed"\nlanguages = ["zh"]\n[voice]\nzh = "温和"\n', encoding="utf-8")
    manager = make_manager()

    class Plugin:
        @hookimpl
        def register_styles(self, register):
            register(style_file)
            register(name="keyworded", voice="Plain words.")

    manager.add_plugin(Plugin(), name="files")
    assert manager.problems == []
    assert manager.style("filed").voice_for("zh") == "温和"
    assert manager.style("keyworded").voice_for("en") == "Plain words."


def test_a_broken_style_file_names_the_file_and_the_plugin(make_manager, tmp_path: Path):
    style_file = tmp_path / "broken.toml"
    style_file.write_text('name = "broken"\nvoice = [\n', encoding="utf-8")
    problem = failure(make_manager(), registering("register_styles", style_file))
    assert "broken.toml is not valid TOML" in problem.error


def test_unknown_hooks_and_bad_signatures_are_refused(make_manager):
    class Typo:
        @hookimpl
        def register_style(self, register):
            pass

    class WrongArgument:
        @hookimpl
        def adjust_prompt(self, messages, prompt_text):
            pass

    manager = make_manager()
    typo = failure(manager, Typo(), name="typo")
    assert "unknown hook(s) 'register_style' (did you mean 'register_styles'?)" in typo.error
    manager2 = make_manager()
    wrong = failure(manager2, WrongArgument(), name="wrong")
    assert wrong.hook == "register" and "prompt_text" in wrong.error


def test_hook_wrappers_are_refused(make_manager):
    class Wrapper:
        @hookimpl(wrapper=True)
        def adjust_prompt(self, messages):
            return (yield)

    problem = failure(make_manager(), Wrapper(), name="wrapper")
    assert "hook wrappers are not supported" in problem.error


def test_settings_schema_values_are_resolved_and_checked():
    schema = {
        "threshold": {"type": "number", "default": 0.5, "min": 0, "max": 1, "label": "Threshold"},
        "mode": {"type": "choice", "choices": ["strict", "lenient"], "default": "strict"},
        "note": {"type": "string", "default": ""},
        "on": {"type": "boolean", "default": True},
    }
    validate_settings_schema(schema, "scorer 'x'")
    assert resolve_options(schema, {"threshold": 0.9}, "scorer 'x'") == {
        "threshold": 0.9, "mode": "strict", "note": "", "on": True}
    with pytest.raises(RegistrationError, match="must be at most 1"):
        resolve_options(schema, {"threshold": 2}, "scorer 'x'")
    with pytest.raises(RegistrationError, match="has no setting 'colour'"):
        resolve_options(schema, {"colour": "red"}, "scorer 'x'")
    with pytest.raises(RegistrationError, match="min is only for integer/number"):
        validate_settings_schema({"s": {"type": "string", "default": "", "min": 1}}, "x")
