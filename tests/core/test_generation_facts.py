"""Candidates that state a material or number the product does not have are written again once,
and the version with fewer invented facts is kept (on a scripted backend: a tiny random model's
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
    assert backend.calls[1]["settings"].seed != 3 and backend.calls[1]["messages"] == backend.calls[0]["messages"]
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
