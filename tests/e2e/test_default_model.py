"""End to end on the real default model (Qwen2.5-Coder-0.5B-Instruct, built from its offline packages)."""

import json
import os
import subprocess
import sys

import pytest

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.model_store.quantize import SCHEMES
from adcopy_desktop.core.model_store.store import DEFAULT_PRECISION
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest, CopyKind

pytestmark = pytest.mark.slow

PRODUCT = parse_product("Type: denim jacket\nColor: white\nMaterial: cotton denim\nFit: relaxed")


@pytest.fixture
def generator(default_store):
    return CopyGenerator(default_store, provider="cpu")


def test_default_model_is_built_checked_and_active(default_store):
    info = default_store.active_model()
    assert info.id == "qwen2.5-coder-0.5b-instruct"
    assert info.languages == ["zh", "en"]
    assert info.architecture == "qwen2" and 450e6 < info.parameters < 700e6
    manifest = json.loads((info.folder / "manifest.json").read_text())
    assert manifest["export_check"]["next_token_agreement"] >= 0.95
    assert manifest["precision"] == DEFAULT_PRECISION
    if DEFAULT_PRECISION != "fp32":  # the quantised weights passed the check against the float graph
        scheme = SCHEMES[DEFAULT_PRECISION]
        assert manifest["export_check"][f"{DEFAULT_PRECISION}_next_token_agreement"] >= scheme.min_top1
    assert any("<|im_end|>" in fix for fix in manifest["tokenizer_fixes"])
    # provenance: the publisher's checksum the weights were verified against, and the licence
    assert manifest["catalog"]["sha256"] == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert info.licence["name"] == "Apache-2.0" and "Qwen" in info.licence["publisher"]
    assert not (info.runtime_folder / "model.onnx_data").exists()  # no float weights left behind


def test_chinese_copy_for_an_advertisegen_product_names_its_colour_and_material(generator):
    from adcopy_desktop.core.languages import detect_language

    product = parse_product("类型#上衣*材质#牛仔布*颜色#白色*风格#简约*衣样式#外套*衣长#短款")
    request = CopyRequest(product, CopyKind.DESCRIPTION, length="short")  # the product's language: zh
    # four sampled candidates, as the window shows them: Chinese, and most name colour and material
    candidates = generator.generate(request, GenerationSettings(n=4, seed=7), max_new_tokens_from_request=True)
    assert all(c.language == "zh" and detect_language(c.text) == "zh" for c in candidates), candidates
    naming_both = [c.text for c in candidates if "白" in c.text and "牛仔" in c.text]
    assert len(naming_both) >= 2, [c.text for c in candidates]


def test_english_copy_names_its_colour_and_material(generator):
    request = CopyRequest(PRODUCT, CopyKind.DESCRIPTION, language="en", length="short")
    candidates = generator.generate(request, GenerationSettings(n=4, seed=7), max_new_tokens_from_request=True)
    naming_both = [c.text for c in candidates if "white" in c.text.lower() and "denim" in c.text.lower()]
    assert len(naming_both) >= 2, [c.text for c in candidates]
    assert all(c.timings.new_tokens > 5 and c.timings.tokens_per_s > 0 for c in candidates)


def test_three_candidates_sampled_seeded_and_ending_at_eos(generator):
    request = CopyRequest(PRODUCT, CopyKind.TITLE, language="en")
    settings = GenerationSettings(n=3, temperature=0.8, top_p=0.95, seed=11, max_new_tokens=96)
    first = generator.generate(request, settings)
    assert len(first) == 3
    texts = [c.text for c in first]
    assert all(text.strip() for text in texts)
    assert len(set(texts)) == 3, texts
    assert [c.finish_reason for c in first] == ["eos"] * 3, [(c.finish_reason, c.text) for c in first]
    assert all("<|im_end|>" not in text and "<|im_start|>" not in text for text in texts)
    second = generator.generate(request, settings)
    assert [c.text for c in second] == texts


def test_cli_generate_json_on_the_default_model(default_store, isolated_home):
    env = {**os.environ, "ADCOPY_HOME": str(isolated_home)}
    out = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop", "generate", "--product", "Type: denim jacket\nColor: white",
         "--kind", "slogan", "-n", "2", "--seed", "5", "--format", "json", "--provider", "cpu"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    candidates = json.loads(out.stdout)
    assert len(candidates) == 2
    assert all(c["model"] == "qwen2.5-coder-0.5b-instruct" and c["kind"] == "slogan" and c["text"] for c in candidates)


def test_smollm2_stays_selectable_and_refuses_chinese_plainly(tmp_path):
    """`adcopy models build --model smollm2` builds the small English model beside the default."""
    from adcopy_desktop.core.errors import UnsupportedLanguageError
    from adcopy_desktop.core.model_store import ModelStore

    store = ModelStore(tmp_path / "models")
    info = store.ensure_catalog_model("smollm2")
    assert info.id == "smollm2-135m-instruct" and info.languages == ["en"] and info.architecture == "llama"
    assert info.active and info.licence["name"] == "Apache-2.0"  # the first model becomes active
    store.verified(info.id, full=True)
    small = CopyGenerator(store, provider="cpu")
    with pytest.raises(UnsupportedLanguageError, match="adcopy models"):
        small.generate(CopyRequest(parse_product("类型#上衣*材质#牛仔布"), CopyKind.TITLE), GenerationSettings(n=1))
