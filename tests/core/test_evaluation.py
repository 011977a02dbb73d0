"""adcopy eval's core: reading AdvertiseGen and prompt/completion files (errors with line numbers),
evaluating a model on the sample sets, and the per-example file."""

import json
import math

import pytest

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.evaluation import (
    DatasetError,
    METRIC_LABELS,
    evaluate,
    format_report,
    generator_function,
    read_dataset,
    reference_report,
)
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.paths import resources_dir

SAMPLES = resources_dir() / "samples"
ZH, EN = SAMPLES / "eval_zh.jsonl", SAMPLES / "eval_en.jsonl"


def test_the_sample_sets_read_in_both_layouts():
    zh, en = read_dataset(ZH), read_dataset(EN)
    assert 10 <= len(zh) <= 20 and 10 <= len(en) <= 20
    assert {e.layout for e in zh} == {"advertisegen"} and {e.layout for e in en} == {"prompt_completion"}
    assert zh[0].product.values("类型") == ["上衣"] and zh[0].line == 1
    assert en[0].product.values("Color") == ["white"]
    assert read_dataset(ZH, limit=3)[-1].line == 3


def test_malformed_lines_are_reported_with_their_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([
        json.dumps({"content": "类型#上衣*颜色#白色", "summary": "白色上衣。"}, ensure_ascii=False),
        '{"content": "类型#上衣", "summary": ',
        json.dumps({"text": "hello"}),
        "",
        json.dumps({"prompt": "Type: tee", "completion": ""}),
        json.dumps({"content": "类型#上衣*材质牛仔布", "summary": "x"}, ensure_ascii=False),
        json.dumps(["a list"]),
    ]), encoding="utf-8")
    with pytest.raises(DatasetError) as raised:
        read_dataset(path)
    message = str(raised.value)
    assert "5 malformed line(s)" in message
    assert "line 2: not valid JSON" in message
    assert 'line 3: expected {"content", "summary"} (AdvertiseGen) or {"prompt", "completion"}; found keys: text' in message
    assert 'line 5: "completion" must be non-empty text' in message
    assert 'line 6: the "content" is not a product' in message and "材质牛仔布" in message
    assert "line 7: expected a JSON object" in message
    assert "line 1" not in message and "line 4" not in message


def test_optional_fields_per_line(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"prompt": "Type: mug\nColor: red", "completion": "A red mug.", "kind": "title",
                                "language": "en", "references": ["Red mug."]}) + "\n", encoding="utf-8")
    [example] = read_dataset(path)
    assert example.kind == "title" and example.language == "en" and example.references == ["A red mug.", "Red mug."]


def test_references_score_perfectly_against_themselves():
    report = reference_report(EN)
    assert report.metrics["bleu4"] == pytest.approx(1.0) and report.metrics["rougeL"] == pytest.approx(1.0)
    # the samples are written to be faithful and compliant; the scorers should mostly agree
    assert report.metrics["compliance_rate"] == 1.0
    assert report.metrics["faithfulness_rate"] >= 0.9


def check_ranges(metrics):
    for name in ("bleu4", "bleu4_sentence", "rouge1", "rouge2", "rougeL", "distinct1", "distinct2",
                 "faithfulness_rate", "compliance_rate", "language_match_rate"):
        value = metrics[name]
        assert value is not None and 0.0 <= value <= 1.0 and not math.isnan(value), (name, value)
    assert metrics["rouge2"] <= metrics["rouge1"] + 1e-9


@pytest.mark.parametrize("sample", [ZH, EN], ids=["zh", "en"])
def test_evaluating_the_tiny_model_on_the_samples(tiny_store, tmp_path, sample):
    events = []
    generator = CopyGenerator(tiny_store)
    run = generator_function(generator, GenerationSettings(n=1, temperature=0.0, max_new_tokens=16, seed=0))
    out = tmp_path / "per-example.jsonl"
    report = evaluate(sample, run, "description", events.append, per_example_path=out, model=generator.model_id,
                      limit=6)
    assert report.examples == 6 and not report.cancelled and report.model == "tiny-llama"
    check_ranges(report.metrics)
    assert set(METRIC_LABELS) <= set(report.metrics)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["line"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert {"output", "references", "metrics", "unsupported", "violations"} <= set(lines[0])
    assert report.per_example_file == str(out)
    assert [e.stage for e in events][-1] == "done" and "example 1 of 6" in events[0].message
    text = format_report(report)
    assert "BLEU-4" in text and "ROUGE-L" in text and str(out) in text
    json.dumps(report.to_dict(), ensure_ascii=False)


def test_evaluate_takes_a_copy_generator_and_checks_the_language_first(tiny_store, tmp_path):
    report = evaluate(EN, CopyGenerator(tiny_store), "title", limit=2)
    assert report.examples == 2 and report.model == "tiny-llama"
    check_ranges(report.metrics)
    english = tiny_store.import_model(tiny_store.active_model().folder / "hf", name="english", languages=["en"])
    from adcopy_desktop.core.errors import UnsupportedLanguageError

    calls = []

    class Counting(CopyGenerator):
        def generate(self, *args, **kwargs):
            calls.append(1)
            return super().generate(*args, **kwargs)

    with pytest.raises(UnsupportedLanguageError):
        evaluate(ZH, Counting(tiny_store, model_id=english.id), "title", limit=2)
    assert calls == []


def test_a_cancelled_run_reports_what_it_did(tmp_path):
    token = CancelToken()
    seen = []

    def fake(example, kind, language):
        seen.append(example.line)
        if len(seen) == 2:
            token.cancel()
        return example.references[0], {"finish_reason": "eos"}

    report = evaluate(EN, fake, "description", cancel=token, per_example_path=tmp_path / "out.jsonl")
    assert report.cancelled and report.examples == 2
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_faithfulness_and_compliance_rates_count_outputs(tmp_path):
    outputs = {1: "白色牛仔布上衣，宽松简约。", 2: "最好的浅蓝色碎花雪纺连衣裙，100%真丝。"}

    def fake(example, kind, language):
        return outputs[example.line], {}

    report = evaluate(ZH, fake, "description", limit=2)
    assert report.metrics["compliance_rate"] == 0.5 and report.metrics["faithfulness_rate"] == 0.5
    assert report.metrics["attribute_coverage"] is not None


@pytest.mark.slow
def test_evaluating_the_default_model_on_the_english_samples(default_store, tiny_models_root, tmp_path):
    from adcopy_desktop.core.model_store import ModelStore

    real = evaluate(EN, CopyGenerator(default_store), "description", per_example_path=tmp_path / "out.jsonl",
                    limit=8)
    assert real.examples == 8
    check_ranges(real.metrics)
    print(format_report(real))
    tiny = evaluate(EN, CopyGenerator(ModelStore(tiny_models_root)), "description", limit=8)
    print(format_report(tiny))
    # a real instruction model writes English about the product, a random one does not
    assert real.metrics["language_match_rate"] >= 0.9
    assert real.metrics["rouge1"] > max(0.08, 2 * tiny.metrics["rouge1"])
    assert real.metrics["attribute_coverage"] > tiny.metrics["attribute_coverage"]


def test_chatglm_figures_and_degenerate_outputs_are_reported():
    pytest.importorskip("jieba")
    zh = reference_report(ZH)
    # identical texts: BLEU 100, ROUGE F 2 / (2 + 1e-8) -> 100 at 4 places
    assert zh.metrics["chatglm_bleu4"] == 100.0 and zh.metrics["chatglm_rougeL"] == 100.0
    assert zh.metrics["degenerate_rate"] == 0.0  # the sample copy does not repeat itself
    en = reference_report(EN)
    assert en.metrics["chatglm_bleu4"] is None and en.metrics["degenerate_rate"] == 0.0

    def loop(example, kind, language):
        return "舒适透气，" * 6, {"finish_reason": "length"}

    report = evaluate(ZH, loop, "description", limit=2)
    assert report.metrics["degenerate_rate"] == 1.0
    assert 0.0 <= report.metrics["chatglm_bleu4"] <= 100.0 and report.metrics["chatglm_rouge1"] > 0.0
    assert "ChatGLM-6B" in format_report(report)
