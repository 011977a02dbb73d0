"""Generation with a brand style, on a fake backend registered through the backend hook (a tiny
random model's output is arbitrary): the style shapes the prompt, candidates record it, forbidden
words are regenerated and then flagged, never cut."""

import pytest

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.errors import StyleError
from adcopy_desktop.core.generation import REGENERATION_SEED_STEP, CopyGenerator
from adcopy_desktop.core.plugins import BrandStyle, hookimpl
from adcopy_desktop.core.plugins.testing import plugin_manager_for, scripted_backend
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest

ZH = CopyRequest(parse_product("类型#绿茶*产地#高山"), "slogan")
EN = CopyRequest(parse_product("Type: green tea\nOrigin: mountain"), "slogan")


class BrandPlugin:
    def __init__(self, **fields):
        self.style = BrandStyle.from_dict({
            "name": "brand",
            "voice": {"zh": "温和克制的语气。", "en": "Warm, restrained voice."},
            "examples": [{"text": "一山一茶。", "language": "zh", "kind": "slogan"},
                         {"text": "One mountain, one tea.", "language": "en"}],
            "forbidden_words": {"zh": ["第一", "最好"], "en": ["best"]},
            "required_words": {"en": ["tea"]},
            "length_rules": {"slogan": {"en": {"max": 8}}},
            **fields,
        }).validate()

    @hookimpl
    def register_styles(self, register):
        register(self.style)


def make(batches, **style_fields):
    backend = scripted_backend(batches)
    manager = plugin_manager_for(BrandPlugin(**style_fields), backend)
    return CopyGenerator(plugins=manager, backend="scripted"), backend


def test_the_style_shapes_the_prompt_and_is_recorded():
    generator, backend = make([["一山一茶，慢慢喝。", "高山绿茶。"]])
    candidates = generator.generate(ZH, GenerationSettings(n=2, seed=4), style="brand")
    system = backend.calls[0]["messages"][0]["content"]
    assert "品牌语气：温和克制的语气。" in system and "示例1：\n一山一茶。" in system
    assert [c.style for c in candidates] == ["brand", "brand"]
    assert [c.language for c in candidates] == ["zh", "zh"]
    assert all(c.flags == [] for c in candidates)
    assert candidates[0].to_dict()["style"] == "brand" and candidates[0].to_dict()["flags"] == []


def test_a_style_object_works_without_registering_it():
    generator, backend = make([["Quiet tea."]])
    style = BrandStyle(name="adhoc", voice={"en": "Ad hoc voice."})
    [candidate] = generator.generate(EN, GenerationSettings(n=1), style=style)
    assert candidate.style == "adhoc" and "Ad hoc voice." in backend.calls[0]["messages"][0]["content"]


def test_the_length_rule_sets_the_target_and_flags_breaches():
    generator, backend = make([["A very long slogan about green tea from a high mountain garden"]])
    [candidate] = generator.generate(EN, GenerationSettings(n=1), style="brand", max_new_tokens_from_request=True)
    assert "about 6 words" in backend.calls[0]["messages"][1]["content"]  # 0.8 x max 8
    assert [flag["rule"] for flag in candidate.flags] == ["too_long"]


def test_a_forbidden_word_is_regenerated_with_a_new_seed():
    generator, backend = make([["The best tea.", "Quiet tea.", "Best tea ever."], ["Mountain tea.", "Slow tea."]])
    tokens = []
    candidates = generator.generate(EN, GenerationSettings(n=3, seed=7), style="brand",
                                    on_token=lambda index, text: tokens.append(index))
    assert [c.text for c in candidates] == ["Mountain tea.", "Quiet tea.", "Slow tea."]
    assert [c.index for c in candidates] == [0, 1, 2]
    assert all(not c.flags for c in candidates)
    retry = backend.calls[1]["settings"]
    assert retry.n == 2 and retry.seed == 7 + REGENERATION_SEED_STEP
    assert backend.calls[1]["messages"] == backend.calls[0]["messages"]
    assert sorted(set(tokens)) == [0, 1, 2] and len(tokens) == 3  # regenerations are not streamed


def test_a_forbidden_word_that_stays_is_flagged_with_its_span_and_kept():
    generator, backend = make([["国内第一的好茶。", "高山绿茶。"], ["依然第一。"]])
    candidates = generator.generate(ZH, GenerationSettings(n=2, seed=1), style="brand")
    assert len(backend.calls) == 3  # the batch, then max_regenerations (2) rounds of one candidate
    assert [call["settings"].seed for call in backend.calls] == [1, 1 + REGENERATION_SEED_STEP,
                                                                  1 + 2 * REGENERATION_SEED_STEP]
    first = candidates[0]
    assert first.text == "依然第一。"
    [flag] = first.flags
    assert flag == {
        "rule": "forbidden_word", "severity": "error", "style": "brand", "word": "第一", "start": 2, "end": 4,
        "found": "第一", "message": "'第一' is forbidden by the style 'brand'", "regenerations": 2,
    }
    assert candidates[1].flags == []


def test_greedy_decoding_and_zero_regenerations_flag_at_once():
    generator, backend = make([["The best tea."]])
    [greedy] = generator.generate(EN, GenerationSettings(n=1, temperature=0), style="brand")
    assert len(backend.calls) == 1 and greedy.flags[0]["rule"] == "forbidden_word"
    generator, backend = make([["The best tea."]], max_regenerations=0)
    generator.generate(EN, GenerationSettings(n=1, seed=2), style="brand")
    assert len(backend.calls) == 1


def test_a_cancelled_request_is_not_regenerated():
    generator, backend = make([["The best tea."]])
    cancel = CancelToken()
    cancel.cancel()
    [candidate] = generator.generate(EN, GenerationSettings(n=1), style="brand", cancel=cancel)
    assert len(backend.calls) == 1 and candidate.flags[0]["word"] == "best"


def test_process_candidate_plugins_see_every_candidate_regenerated_ones_too():
    seen = []

    class Fixer:
        @hookimpl
        def process_candidate(self, candidate, style):
            seen.append((candidate.text, style.name if style else None))
            candidate.text = candidate.text.replace("Best", "Good")
            return candidate

    backend = scripted_backend([["Best tea.", "The best tea."], ["Fine tea."]])
    manager = plugin_manager_for(BrandPlugin(), backend, Fixer())
    generator = CopyGenerator(plugins=manager, backend="scripted")
    candidates = generator.generate(EN, GenerationSettings(n=2, seed=3), style="brand")
    assert [c.text for c in candidates] == ["Good tea.", "Fine tea."]
    assert seen == [("Best tea.", "brand"), ("The best tea.", "brand"), ("Fine tea.", "brand")]


def test_unknown_styles_and_uncovered_languages_are_explained():
    generator, _ = make([["x"]])
    with pytest.raises(StyleError, match="Unknown style 'nope'. Available styles: brand, plain"):
        generator.generate(EN, GenerationSettings(n=1), style="nope")
    generator, _ = make([["x"]], languages=["zh"], voice={"zh": "温和"}, examples=[], required_words={},
                        forbidden_words={}, length_rules={})
    with pytest.raises(StyleError, match="cannot shape English copy"):
        generator.generate(EN, GenerationSettings(n=1), style="brand")


def test_without_a_style_nothing_changes():
    generator, backend = make([["The best tea."]])
    [candidate] = generator.generate(EN, GenerationSettings(n=1))
    assert candidate.style is None and candidate.flags == [] and len(backend.calls) == 1
    assert "Brand voice" not in backend.calls[0]["messages"][0]["content"]


def test_render_prompt_shows_what_the_model_sees():
    generator, _ = make([["x"]])
    preview = generator.render_prompt(EN, "brand")
    assert "style: brand" in preview and "Brand voice: Warm, restrained voice." in preview
    assert "Brand words: the copy must include \"tea\"." in preview  # from the built-in adjust_prompt plugin
