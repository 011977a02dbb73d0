"""adcopy score, adcopy eval, adcopy quality and best-of-N generation from the command line."""

import json
import random

from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.paths import resources_dir, user_folders

EN_PRODUCT = "Type: denim jacket\nColor: white\nMaterial: cotton denim"
ZH_PRODUCT = "类型#上衣*材质#牛仔布*颜色#白色*风格#简约"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_the_new_commands():
    output = run("--help").output
    for command in ("score", "eval", "quality"):
        assert command in output
    assert "--top" in run("generate", "--help").output


def test_score_prints_every_scorer_as_json():
    result = run("score", "--product", ZH_PRODUCT, "--kind", "title", "--text", "最好的白色牛仔布上衣，真丝内衬",
                 "--channel", "taobao", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    scores = {entry["scorer"]: entry for entry in data["scores"]}
    assert {"faithfulness", "ad-compliance", "channel-rules", "keyword-coverage", "readability", "repetition",
            "language-match", "quality-model", "style-compliance"} <= set(scores)
    for entry in scores.values():
        assert {"value", "label", "explanation", "spans"} <= set(entry)
    assert scores["ad-compliance"]["hard_fail"] and scores["ad-compliance"]["spans"][0]["start"] == 0
    assert "Taobao" in scores["channel-rules"]["explanation"]
    assert data["ranking"]["sunk"] and data["language"] == "zh"


def test_score_text_output_shows_spans_and_hard_failures():
    result = run("score", "--product", EN_PRODUCT, "--kind", "description", "--text",
                 "The #1 white denim jacket that cures colds, made of silk.")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "ad-compliance" in out and "faithfulness" in out
    assert "! [" in out and "'silk'" in out
    assert "hard failure: Advertising compliance" in out


def test_score_with_a_style_keywords_and_a_single_scorer():
    result = run("score", "--product", EN_PRODUCT, "--text", "A white denim jacket.", "--style", "plain",
                 "--keywords", "denim jacket, spring", "--scorer", "keyword-coverage", "--format", "json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)["scores"]
    assert entry["value"] == 0.5 and "spring" in entry["explanation"]


def test_score_refuses_an_unknown_channel_and_missing_text():
    result = run("score", "--product", EN_PRODUCT, "--text", "x", "--channel", "ebay")
    assert result.exit_code != 0 and "ebay" in result.output and "taobao" in result.output
    assert run("score", "--product", EN_PRODUCT).exit_code != 0


def test_generate_best_of_n_returns_the_top_k_with_scores(tiny_store):
    result = run("generate", "--product", EN_PRODUCT, "--kind", "title", "-n", "4", "--top", "2", "--seed", "3",
                 "--max-new-tokens", "8", "--format", "json", "--channel", "amazon")
    assert result.exit_code == 0, result.output
    candidates = json.loads(result.stdout)
    assert len(candidates) == 2
    assert [c["ranking"]["rank"] for c in candidates] == [1, 2]
    assert candidates[0]["ranking"]["total"] >= candidates[1]["ranking"]["total"] or candidates[1]["ranking"]["sunk"]
    assert all(c["scores"] and {"scorer", "value", "label"} <= set(c["scores"][0]) for c in candidates)
    text = run("generate", "--product", EN_PRODUCT, "--kind", "title", "-n", "2", "--rank", "--seed", "3",
               "--max-new-tokens", "6")
    assert text.exit_code == 0 and "rank 1, score" in text.stdout
    assert run("generate", "--product", EN_PRODUCT, "-n", "2", "--top", "3").exit_code != 0


def test_eval_reports_metrics_and_writes_the_per_example_file(tiny_store, tmp_path):
    out = tmp_path / "examples.jsonl"
    result = run("eval", "--data", str(resources_dir() / "samples" / "eval_zh.jsonl"), "--limit", "3",
                 "--max-new-tokens", "12", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["examples"] == 3 and report["model"] == "tiny-llama"
    for name in ("bleu4", "rouge1", "rouge2", "rougeL", "distinct1", "distinct2", "faithfulness_rate",
                 "compliance_rate"):
        assert 0 <= report["metrics"][name] <= 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert "example 3 of 3" in result.stderr  # progress on stderr


def test_eval_text_output_and_default_per_example_path(tiny_store):
    result = run("eval", "--data", str(resources_dir() / "samples" / "eval_en.jsonl"), "--limit", "2",
                 "--max-new-tokens", "8", "--kind", "slogan", "--zh-tokens", "char")
    assert result.exit_code == 0, result.output
    assert "BLEU-4 (corpus)" in result.stdout and "ROUGE-L F1" in result.stdout
    files = list((user_folders().data / "evaluations").glob("eval_en-tiny-llama-*.jsonl"))
    assert len(files) == 1


def test_eval_names_malformed_lines(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"content": "类型#上衣", "summary": "好"}\n{"oops": 1}\n', encoding="utf-8")
    result = run("eval", "--data", str(data))
    assert result.exit_code != 0 and "line 2" in result.output


def test_quality_train_and_status_from_the_library():
    from adcopy_desktop.core.candidates import Candidate
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.product import parse_product

    assert "Not trained yet" in run("quality", "status").stdout
    assert run("quality", "train").exit_code != 0  # no decisions yet
    rng = random.Random(0)
    with Library() as library:
        product_id = library.add_product(parse_product(EN_PRODUCT))
        texts, labels = [], []
        for i in range(60):
            good = i % 2 == 0
            texts.append(f"A {rng.choice(['white', 'navy', 'gray'])} jacket, {rng.choice(['soft', 'warm'])}. "
                         + ("Wear it to work and on weekends." if good else "Buy now!"))
            labels.append(good)
        ids = library.record_generation(product_id, [Candidate(t, "title", "m", "en", index=i)
                                                     for i, t in enumerate(texts)])
        for cid, good in zip(ids, labels):
            library.decide(cid, "accepted" if good else "rejected")
    result = run("quality", "train", "--features", "ngrams", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["report"]
    assert report["auc"] >= 0.9 and report["usable"] and report["examples"] == 60
    status = run("quality", "status")
    assert "held-out AUC:  1.000" in status.stdout or "held-out AUC:  0.9" in status.stdout
    assert "used for ranking: yes" in status.stdout and "new decisions: 0" in status.stdout


def test_quality_train_on_click_data(tmp_path):
    path = tmp_path / "ctr.csv"
    rng = random.Random(1)
    lines = ["text,clicks,impressions"]
    for i in range(80):
        good = i % 2 == 0
        lines.append(f"\"A {rng.choice(['red', 'blue'])} mug. {'Holds a big morning coffee.' if good else 'Wow!'}\","
                     f"{60 if good else 10},1000")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("quality", "train", "--ctr", str(path), "--features", "ngrams")
    assert result.exit_code == 0, result.output
    assert "target:        ctr" in result.stdout and "held-out AUC" in result.stdout
