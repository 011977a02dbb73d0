"""The built-in scorers through the scorer hook, ranking with weights and hard-fail sinking, and
generation that scores, ranks and keeps the best of N."""

import json

import pytest

from adcopy_desktop.core.candidates import Candidate, GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.plugins import BrandStyle, Score, Scorer, ScoreSpan, hookimpl
from adcopy_desktop.core.plugins.testing import plugin_manager_for, scripted_backend
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest
from adcopy_desktop.core.scoring import DEFAULT_WEIGHTS, rank, rank_candidates, resolve_weights, score_candidate

BUILTIN_SCORERS = {"channel-rules", "faithfulness", "ad-compliance", "keyword-coverage", "readability",
                   "repetition", "language-match", "quality-model", "style-compliance"}
ZH_REQUEST = CopyRequest(parse_product("类型#上衣*材质#牛仔布*颜色#白色*风格#简约"), "title")
EN_REQUEST = CopyRequest(parse_product("Type: denim jacket\nColor: white\nMaterial: cotton denim"), "description")


def candidate(text, request=ZH_REQUEST, index=0, language=None):
    from adcopy_desktop.core.prompts import resolve_language

    return Candidate(text=text, kind=request.kind.value, model="m", language=language or resolve_language(request),
                     index=index)


@pytest.fixture
def manager():
    manager = plugin_manager_for()
    yield manager
    manager.close()


def scores_of(manager, text, request=ZH_REQUEST, style=None, options=None, language=None):
    entries = score_candidate(candidate(text, request, language=language), plugins=manager, request=request,
                              style=style, options=options)
    return {entry["scorer"]: entry for entry in entries}


def test_every_builtin_scorer_returns_a_value_label_explanation_and_spans(manager):
    assert BUILTIN_SCORERS <= set(manager.scorers())
    scores = scores_of(manager, "最好的白色牛仔布上衣，真丝内衬，简约百搭")
    assert BUILTIN_SCORERS <= set(scores)
    for entry in scores.values():
        assert 0.0 <= entry["value"] <= 1.0 and entry["label"] and entry["explanation"]
        for span in entry["spans"]:
            assert 0 <= span["start"] < span["end"] and span["severity"] in ("info", "warning", "error")
    json.dumps(list(scores.values()), ensure_ascii=False)  # plain data
    assert scores["ad-compliance"]["hard_fail"] and scores["ad-compliance"]["value"] == 0.0
    assert {"start": 0, "end": 2} .items() <= scores["ad-compliance"]["spans"][0].items()
    faith = scores["faithfulness"]
    assert faith["label"] == "unsupported claims" and "真丝" in faith["explanation"]
    assert any(s["severity"] == "error" and s["start"] == 11 for s in faith["spans"])
    assert scores["keyword-coverage"]["abstained"] and scores["quality-model"]["abstained"]
    assert scores["language-match"]["value"] == 1.0


def test_scorers_without_facts_or_keywords_abstain(manager):
    scores = manager.score(Candidate(text="Green tea", kind="title", model="m", language="en"))
    assert scores["faithfulness"].abstained and scores["keyword-coverage"].abstained
    assert not scores["ad-compliance"].abstained


def test_channel_rules_from_options_style_or_default(manager):
    long_title = "白色牛仔布上衣宽松简约百搭日常通勤休闲外套春秋新款男女同款加厚"  # 31 characters
    default = scores_of(manager, long_title)["channel-rules"]
    assert not default["hard_fail"] and default["value"] < 1 and "default channel" in default["explanation"]
    chosen = scores_of(manager, long_title, options={"channel-rules": {"channel": "taobao"}})["channel-rules"]
    assert chosen["hard_fail"] and chosen["value"] == 0.0 and "Taobao" in chosen["explanation"]
    assert scores_of(manager, long_title, options={"channel-rules": {"channel": "jd"}})["channel-rules"]["value"] == 1.0
    style = BrandStyle(name="shop", channels=("jd",), channel_rules={"jd": {"title": {"max": 20}}}).validate()
    styled = scores_of(manager, long_title, style=style)["channel-rules"]
    assert styled["hard_fail"] and "JD" in styled["explanation"]
    unknown = scores_of(manager, long_title, options={"channel-rules": {"channel": "ebay"}})["channel-rules"]
    assert unknown["abstained"] and "ebay" in unknown["explanation"]
    assert manager.problems == []


def test_keyword_coverage_from_product_style_and_options(manager):
    request = CopyRequest(parse_product("类型#上衣*颜色#白色*关键词#牛仔外套、春季"), "title")
    entry = scores_of(manager, "白色牛仔外套", request)["keyword-coverage"]
    assert entry["value"] == 0.5 and "春季" in entry["explanation"]
    assert [s["start"] for s in entry["spans"]] == [2]
    style = BrandStyle(name="kw", keywords={"zh": ["百搭"]}).validate()
    entry = scores_of(manager, "白色牛仔外套，百搭", request, style=style,
                      options={"keyword-coverage": {"keywords": "白色"}})["keyword-coverage"]
    assert entry["explanation"].startswith("3 of 4 keywords")


def test_readability_repetition_and_language(manager):
    en = scores_of(manager, "Sure, here is your copy: a white denim jacket jacket jacket.", EN_REQUEST)
    assert en["readability"]["value"] < 1 and any(s["severity"] == "error" for s in en["readability"]["spans"])
    assert en["repetition"]["value"] < 1 and "'jacket' ×3" in en["repetition"]["explanation"]
    wrong = scores_of(manager, "这是一件白色牛仔外套", EN_REQUEST)["language-match"]
    assert wrong["value"] == 0.0 and wrong["label"] == "wrong language"
    mixed = scores_of(manager, "Nike 运动鞋，轻便透气", ZH_REQUEST)["language-match"]
    assert mixed["value"] == 1.0
    empty = scores_of(manager, "", EN_REQUEST)
    assert empty["readability"]["value"] == 0.0 and empty["language-match"]["value"] == 0.0


def test_weights_come_from_defaults_then_style_then_caller():
    style = BrandStyle(name="w", score_weights={"faithfulness": 5, "readability": 0}).validate()
    weights = resolve_weights(style, {"readability": 3})
    assert weights["faithfulness"] == 5 and weights["readability"] == 3
    assert weights["ad-compliance"] == DEFAULT_WEIGHTS["ad-compliance"]
    with pytest.raises(ValueError):
        resolve_weights(None, {"faithfulness": -1})
    from adcopy_desktop.core.errors import StyleError

    with pytest.raises(StyleError, match="score_weights.faithfulness"):
        BrandStyle(name="w", score_weights={"faithfulness": -2}).validate()


def entry(scorer, value, **extra):
    return {"scorer": scorer, "name": scorer, "value": value, "label": "x", "explanation": "", "spans": [],
            "hard_fail": False, "abstained": False, "weight": 1.0, **extra}


def test_ranking_is_a_weighted_mean_and_hard_failures_sink():
    a = Candidate("a", "title", "m", "en", index=0, scores=[entry("faithfulness", 0.5), entry("readability", 1.0)])
    b = Candidate("b", "title", "m", "en", index=1, scores=[entry("faithfulness", 0.9), entry("readability", 0.0)])
    c = Candidate("c", "title", "m", "en", index=2, scores=[
        entry("faithfulness", 1.0), entry("ad-compliance", 0.0, hard_fail=True, label="violation",
                                         spans=[{"start": 0, "end": 1, "message": "'最' is banned", "severity": "error"}])])
    ranked = rank([a, b, c])
    # a: (2*0.5 + 0.5*1) / 2.5 = 0.6; b: (2*0.9 + 0) / 2.5 = 0.72; c sinks despite its faithfulness
    assert [x.text for x in ranked] == ["b", "a", "c"]
    assert a.ranking == {"rank": 2, "total": 0.6, "sunk": False, "reasons": []}
    assert c.ranking["sunk"] and "'最' is banned" in c.ranking["reasons"][0] and c.ranking["rank"] == 3
    # weights change the order; weight 0 ignores a scorer (and its hard failure)
    assert [x.text for x in rank([a, b, c], weights={"readability": 10})] == ["a", "b", "c"]
    assert [x.text for x in rank([a, b, c], weights={"ad-compliance": 0, "readability": 0})] == ["c", "b", "a"]


def test_abstained_scores_are_left_out_and_forbidden_word_flags_sink():
    a = Candidate("a", "title", "m", "en", index=0, scores=[entry("faithfulness", 0.8),
                                                             entry("quality-model", 0.0, abstained=True)])
    b = Candidate("b", "title", "m", "en", index=1, scores=[entry("faithfulness", 0.7)],
                  flags=[{"rule": "forbidden_word", "severity": "error", "message": "'best' is forbidden"}])
    ranked = rank([b, a])
    assert a.ranking["total"] == 0.8 and ranked[0] is a
    assert b.ranking["reasons"] == ["'best' is forbidden"]


def test_ties_keep_generation_order():
    same = [Candidate(t, "title", "m", "en", index=i, scores=[entry("faithfulness", 0.5)]) for i, t in enumerate("xyz")]
    assert [c.text for c in rank(same)] == ["x", "y", "z"]


def test_rank_candidates_scores_and_keeps_the_top(manager):
    texts = ["最好的白色牛仔布上衣", "白色牛仔布上衣，简约", "白色上衣"]
    cands = [candidate(t, index=i) for i, t in enumerate(texts)]
    top = rank_candidates(cands, plugins=manager, request=ZH_REQUEST, top=2)
    assert [c.text for c in top] == ["白色牛仔布上衣，简约", "白色上衣"]
    assert cands[0].ranking["sunk"] and cands[0].scores


def test_a_scorer_plugin_with_spans_hard_fail_and_abstain_is_checked(manager):
    class Good:
        @hookimpl
        def register_scorers(self, register):
            register(Scorer(name="custom", score=lambda c, ctx: Score(0.3, "meh", "why", spans=(ScoreSpan(0, 2, "here"),),
                                                                      hard_fail=True)))

    class Bad:
        @hookimpl
        def register_scorers(self, register):
            register(Scorer(name="bad-span", score=lambda c, ctx: Score(0.3, spans=(ScoreSpan(5, 2),))))

    manager.add_plugin(Good(), name="good-scorer")
    manager.add_plugin(Bad(), name="bad-scorer")
    scores = manager.score(candidate("白色上衣"), scorers=["custom", "bad-span"])
    assert scores["custom"].hard_fail and scores["custom"].spans[0].message == "here"
    assert "bad-span" not in scores and "not a Score" in manager.problems[0].error
    assert Score(0.5).to_dict() == {"value": 0.5, "label": "", "explanation": "", "spans": [], "hard_fail": False,
                                    "abstained": False}


def test_generation_attaches_scores_and_returns_the_best_of_n():
    backend = scripted_backend([["最好的白色牛仔布上衣", "白色牛仔布上衣 简约", "白色上衣，真丝", "白色牛仔布上衣"]])
    manager = plugin_manager_for(backend)
    try:
        generator = CopyGenerator(plugins=manager, backend="scripted")
        plain = generator.generate(ZH_REQUEST, GenerationSettings(n=4))
        assert [c.index for c in plain] == [0, 1, 2, 3] and all(c.scores for c in plain)
        assert all(c.ranking is None for c in plain)
        assert "scores" in plain[0].to_dict() and plain[0].to_dict()["ranking"] is None
        best = generator.generate(ZH_REQUEST, GenerationSettings(n=4), top=2,
                                  score_options={"channel-rules": {"channel": "taobao"}})
        assert len(best) == 2 and [c.ranking["rank"] for c in best] == [1, 2]
        assert 0 not in [c.index for c in best]  # the one with 最好 sank
        assert best[0].ranking["total"] >= best[1].ranking["total"]
        unscored = generator.generate(ZH_REQUEST, GenerationSettings(n=2), score=False)
        assert all(c.scores == [] for c in unscored)
        assert manager.problems == []
    finally:
        manager.close()


def test_stored_candidates_keep_their_scores_until_edited(tmp_path):
    from adcopy_desktop.core.library import Library

    scored = candidate("白色上衣")
    scored.scores = [entry("faithfulness", 0.5)]
    with Library(tmp_path / "lib.sqlite3") as library:
        product_id = library.add_product(ZH_REQUEST.product)
        [cid] = library.record_generation(product_id, [scored])
        [stored] = library.candidates()
        assert stored.to_candidate().scores[0]["value"] == 0.5
        library.edit(cid, "白色牛仔上衣")
        [stored] = library.candidates()
        assert stored.to_candidate().scores == []
