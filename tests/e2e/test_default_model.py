"""End to end on the real default model (SmolLM2-135M-Instruct, built from its offline package)."""

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
    assert info.id == "smollm2-135m-instruct"
    assert info.languages == ["en"]
    assert info.architecture == "llama" and 130e6 < info.parameters < 140e6
    manifest = json.loads((info.folder / "manifest.json").read_text())
    assert manifest["export_check"]["next_token_agreement"] >= 0.95
    assert manifest["precision"] == DEFAULT_PRECISION
    if DEFAULT_PRECISION != "fp32":  # the quantised weights passed the check against the float graph
        scheme = SCHEMES[DEFAULT_PRECISION]
        assert manifest["export_check"][f"{DEFAULT_PRECISION}_next_token_agreement"] >= scheme.min_top1
    assert any("<|im_end|>" in fix for fix in manifest["tokenizer_fixes"])


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


def test_greedy_description_mentions_the_product(generator):
    request = CopyRequest(PRODUCT, CopyKind.DESCRIPTION, language="en", length="short")
    [candidate] = generator.generate(request, GenerationSettings(n=1, temperature=0, max_new_tokens=120))
    assert "denim" in candidate.text.lower() or "jacket" in candidate.text.lower(), candidate.text
    assert candidate.timings.new_tokens > 5 and candidate.timings.tokens_per_s > 0


def test_chinese_request_is_refused_plainly(generator):
    from adcopy_desktop.core.errors import UnsupportedLanguageError

    with pytest.raises(UnsupportedLanguageError, match="adcopy models import"):
        generator.generate(CopyRequest(parse_product("类型#上衣*材质#牛仔布"), CopyKind.TITLE), GenerationSettings(n=1))


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
    assert all(c["model"] == "smollm2-135m-instruct" and c["kind"] == "slogan" and c["text"] for c in candidates)


def test_models_import_takes_a_gguf_file(tmp_path):
    """`adcopy models import FILE.gguf` runs the same GGUF path a user-supplied file would."""
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.model_store.sources import default_model_source

    store = ModelStore(tmp_path / "models")
    info = store.import_model(default_model_source().path, name="smol-from-gguf")
    assert info.source["kind"] == "gguf" and info.architecture == "llama"
    assert info.active  # the first model becomes active
    store.verified(info.id, full=True)
