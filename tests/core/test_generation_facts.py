"""Candidates that state a material or number the product does not have, or leave out too many of
its values, are written again once (reminded of the values left out), and the version with fewer
slips is kept (on a scripted backend: a tiny random model's
output is arbitrary)."""

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.plugins.testing import plugin_manager_for, scripted_backend
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest

ZH = CopyRequest(parse_product("类型#上衣*材质#棉*颜色#白色"), "description")


def make(batches):
    backend = scripted_backend(batches)
    return CopyGenerator(plugins=plugin_manager_for(backend), backend="scripted"), backend


def test_an_invented_material_is_written_again_and_the_faithful_version_kept():
    generator, backend = make([["白色棉质上衣，柔软舒适。", "真丝上衣，顺滑亲肤。"], ["白色棉上衣，透气好穿。"]])
    candidates = generator.generate(ZH, GenerationSettings(n=2, seed=3), score=False)
    assert [c.text for c in candidates] == ["白色棉质上衣，柔软舒适。", "白色棉上衣，透气好穿。"]
    assert len(backend.calls) == 2 and backend.calls[1]["settings"].n == 1
    assert backend.calls[1]["settings"].seed != 3
    first, again = backend.calls[0]["messages"], backend.calls[1]["messages"]
    assert again[:-1] == first[:-1] and again[-1]["content"].startswith(first[-1]["content"])
    assert again[-1]["content"].endswith("这次务必写到：棉、白色。")  # what the silk draft left out
    assert candidates[1].index == 1


def test_a_retry_that_invents_as_much_keeps_the_first_text():
    generator, backend = make([["真丝上衣。"], ["羊毛上衣。"]])
    [candidate] = generator.generate(ZH, GenerationSettings(n=1, seed=3), score=False)
    assert candidate.text == "真丝上衣。" and len(backend.calls) == 2


def test_faithful_copy_greedy_decoding_and_fact_retries_0_are_not_retried():
    generator, backend = make([["白色棉质上衣。"]])
    generator.generate(ZH, GenerationSettings(n=1, seed=1), score=False)
    assert len(backend.calls) == 1
    generator, backend = make([["真丝上衣。"]])
    generator.generate(ZH, GenerationSettings(n=1, temperature=0), score=False)
    assert len(backend.calls) == 1
    generator, backend = make([["真丝上衣。"]])
    generator.generate(ZH, GenerationSettings(n=1, seed=1), score=False, fact_retries=0)
    assert len(backend.calls) == 1


def test_an_invented_number_counts_but_a_superlative_does_not():
    generator, backend = make([["最好的白色棉上衣。"]])
    generator.generate(ZH, GenerationSettings(n=1, seed=1), score=False)
    assert len(backend.calls) == 1  # superlatives are the scorers' business
    generator, backend = make([["3件装棉上衣。"], ["棉上衣。"]])
    [candidate] = generator.generate(ZH, GenerationSettings(n=1, seed=1), score=False)
    assert candidate.text == "棉上衣。" and len(backend.calls) == 2


def test_a_description_without_the_colour_is_written_again():
    generator, backend = make([["棉质上衣，柔软舒适。"], ["白色棉质上衣，柔软舒适。"]])
    [candidate] = generator.generate(ZH, GenerationSettings(n=1, seed=3), score=False)
    assert candidate.text == "白色棉质上衣，柔软舒适。" and len(backend.calls) == 2
    title = CopyRequest(parse_product("类型#上衣*材质#棉*颜色#白色"), "title")
    generator, backend = make([["棉质上衣"]])
    generator.generate(title, GenerationSettings(n=1, seed=3), score=False)
    assert len(backend.calls) == 1  # a title need not name everything


RICH = CopyRequest(parse_product("类型#上衣*材质#棉*颜色#白色*风格#清新*图案#印花*衣领型#翻领"), "description")


def test_a_description_that_leaves_out_most_values_is_written_again_with_them_named():
    thin = "白色棉质上衣，柔软舒适。"  # colour and material, but 3 of 6 values
    full = "白色棉质上衣，清新的印花配翻领，柔软舒适。"
    generator, backend = make([[thin], [full]])
    [candidate] = generator.generate(RICH, GenerationSettings(n=1, seed=3), score=False)
    assert candidate.text == full and len(backend.calls) == 2
    assert backend.calls[1]["messages"][-1]["content"].endswith("这次务必写到：清新、印花、翻领。")
    generator, backend = make([["白色棉质上衣，清新的印花，柔软舒适。"]])  # 5 of 6: enough for a description
    generator.generate(RICH, GenerationSettings(n=1, seed=3), score=False)
    assert len(backend.calls) == 1


def test_the_reminder_is_in_the_copy_language_and_names_only_given_values():
    from adcopy_desktop.core.prompts import with_reminder

    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "Write copy."}]
    reminded = with_reminder(messages, ["navy", "linen"], "en")
    assert reminded[-1] == {"role": "user", "content": "Write copy.\n\nBe sure to mention: navy, linen."}
    assert messages[-1]["content"] == "Write copy."  # the first draw's messages are left as they were
    assert with_reminder(messages, [], "en") is messages
    assert "<|im_end|>" not in with_reminder(messages, ["red<|im_end|>"], "en", ["<|im_end|>"])[-1]["content"]
