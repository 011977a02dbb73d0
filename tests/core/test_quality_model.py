"""The learned quality scorer: ROC-AUC, the logistic head, held-out evaluation on synthetic
histories, the gate that keeps it out of ranking until it beats chance, storage, click data,
background retraining and token embeddings from a model in the store."""

import random

import numpy as np
import pytest

from adcopy_desktop.builtin import quality_scorer
from adcopy_desktop.core import quality_model as qm
from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.plugins.testing import plugin_manager_for
from adcopy_desktop.core.scoring import rank, score_candidate

COLORS = ["white", "navy", "black", "sage green", "cream", "red", "gray"]
ITEMS = ["denim jacket", "cotton tee", "wool scarf", "hiking boots", "leather wallet", "ceramic mug", "yoga mat"]
TRAITS = ["soft", "light", "warm", "sturdy", "breathable", "roomy", "slim", "classic", "easy to clean"]
ZH_ITEMS = ["牛仔外套", "纯棉T恤", "羊毛围巾", "登山鞋", "真皮钱包", "陶瓷杯", "瑜伽垫"]
ZH_TRAITS = ["柔软", "轻便", "保暖", "结实", "透气", "能装", "修身", "经典", "好打理"]


def synthetic_text(rng, good):
    """Product copy; accepted copy (good) ends with a concrete use case, rejected copy with a vague
    hype line. Everything else is drawn from the same pool."""
    if rng.random() < 0.5:
        text = (f"A {rng.choice(COLORS)} {rng.choice(ITEMS)} that is {rng.choice(TRAITS)} and "
                f"{rng.choice(TRAITS)}, made for every day.")
        tail = rng.choice([" Wear it on the commute and on weekend walks.", " Take it to the office or the trail."]) \
            if good else rng.choice([" You will love it.", " Get yours now."])
    else:
        text = f"这款{rng.choice(ZH_ITEMS)}{rng.choice(ZH_TRAITS)}又{rng.choice(ZH_TRAITS)}，日常好搭。"
        tail = rng.choice(["通勤和周末出游都合适。", "上班、爬山都能用。"]) if good else rng.choice(["赶快下单吧！", "你一定会爱上它！"])
    return text + tail


def synthetic_history(n, seed, learnable=True):
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        label = rng.random() < 0.5
        good = label if learnable else rng.random() < 0.5
        examples.append(qm.Example(synthetic_text(rng, good), float(label), 1.0, "description", ""))
    return examples


# -- ROC-AUC ---------------------------------------------------------------------------------------


def test_roc_auc_by_hand():
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered right
    assert qm.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert qm.roc_auc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)  # a tie counts half
    assert qm.roc_auc([0.2, 0.9], [1, 0]) == 0.0
    assert np.isnan(qm.roc_auc([0.2, 0.9], [1, 1]))
    # weights: the positive at 0.35 counts 3 times -> (3*1 + 1*2) / (4*2) = 5/8
    assert qm.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], [1, 1, 3, 1]) == pytest.approx(5 / 8)
    # fractional labels (CTR): one row of 10 impressions with 3 clicks above one with 1 click in 10
    # pairs: positive(3, high) beats negative(9, low) -> 27; ties within the high row count half (3*7/2)
    # and within the low row (1*9/2); positive(1, low) vs negative(7, high) -> 0
    expected = (3 * 9 + 0.5 * 3 * 7 + 0.5 * 1 * 9) / (4 * 16)
    assert qm.roc_auc([0.9, 0.1], [0.3, 0.1], [10, 10]) == pytest.approx(expected)


def test_standard_error_shrinks_with_more_examples():
    assert qm.auc_standard_error(0.8, 10, 10) > qm.auc_standard_error(0.8, 100, 100) > 0


def test_the_head_is_deterministic_and_learns_a_separable_feature():
    examples = [qm.Example("great fit " * (1 + i % 3), 1.0) for i in range(10)] + \
               [qm.Example("bad seam " * (1 + i % 3), 0.0) for i in range(10)]
    featurizer = qm.Featurizer()
    features = featurizer.transform(examples)
    labels = np.array([e.label for e in examples])
    first = qm.fit_logistic(features, labels)
    second = qm.fit_logistic(features, labels)
    assert np.array_equal(first.w_sparse, second.w_sparse) and first.bias == second.bias
    predictions = first.predict(features)
    assert predictions[:10].min() > 0.5 > predictions[10:].max()


# -- held-out AUC on synthetic histories -------------------------------------------------------------


def test_a_learnable_history_gives_a_high_held_out_auc():
    model = qm.train(synthetic_history(200, seed=1), features="ngrams")
    report = model.report
    assert report.auc >= 0.9, report
    assert report.usable and report.auc_lower > 0.5
    assert report.examples == 200 and report.folds == qm.FOLDS
    good, bad = model.predict(["A navy cotton tee that is soft and light, made for every day. "
                               "Take it to the office or the trail.",
                               "这款瑜伽垫轻便又结实，日常好搭。赶快下单吧！"])
    assert good > 0.5 > bad


@pytest.mark.parametrize("seed", [2, 3])
def test_random_labels_stay_near_chance_and_are_not_used(seed):
    report = qm.train(synthetic_history(300, seed=seed, learnable=False), features="ngrams").report
    assert 0.35 <= report.auc <= 0.65, report
    assert not report.usable


def test_too_few_decisions_are_not_used_even_when_they_separate():
    report = qm.train(synthetic_history(14, seed=4), features="ngrams").report
    assert not report.usable and "at least" in report.reason


def test_training_needs_both_classes():
    with pytest.raises(qm.QualityModelError, match="accepted and rejected"):
        qm.train([qm.Example("a", 1.0), qm.Example("b", 1.0)])


def test_training_can_be_cancelled():
    from adcopy_desktop.core.errors import Cancelled
    from adcopy_desktop.core.progress import CancelToken

    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        qm.train(synthetic_history(60, seed=5), features="ngrams", cancel=token)


# -- the scorer and ranking ---------------------------------------------------------------------------


def candidate(text, index=0):
    return Candidate(text=text, kind="description", model="m", language="en", index=index)


def test_the_scorer_abstains_until_trained_and_usable_then_scores():
    manager = plugin_manager_for()
    try:
        [entry] = score_candidate(candidate("A navy tee."), plugins=manager, scorers=["quality-model"])
        assert entry["abstained"] and entry["label"] == "not trained yet"

        qm.train(synthetic_history(300, seed=2, learnable=False), features="ngrams").save()
        [entry] = score_candidate(candidate("A navy tee."), plugins=manager, scorers=["quality-model"])
        assert entry["abstained"] and entry["label"] == "not reliable yet" and "AUC" in entry["explanation"]

        qm.train(synthetic_history(200, seed=1), features="ngrams").save()
        good = candidate("A white wool scarf that is warm and soft, made for every day. "
                         "Wear it on the commute and on weekend walks.")
        bad = candidate("A white wool scarf that is warm and soft, made for every day. You will love it.", index=1)
        [g] = score_candidate(good, plugins=manager, scorers=["quality-model"])
        [b] = score_candidate(bad, plugins=manager, scorers=["quality-model"])
        assert not g["abstained"] and g["value"] > 0.5 > b["value"] and "held-out AUC" in g["explanation"]
        assert manager.problems == []
    finally:
        manager.close()


def test_ranking_ignores_the_quality_model_until_it_beats_chance():
    def scored(quality, abstained):
        return [{"scorer": "faithfulness", "name": "f", "value": 0.8, "label": "", "explanation": "", "spans": [],
                 "hard_fail": False, "abstained": False, "weight": 2.0},
                {"scorer": "quality-model", "name": "q", "value": quality, "label": "", "explanation": "",
                 "spans": [], "hard_fail": False, "abstained": abstained, "weight": 1.0}]

    a = Candidate("a", "title", "m", "en", index=0, scores=scored(0.9, abstained=True))
    b = Candidate("b", "title", "m", "en", index=1, scores=scored(0.1, abstained=True))
    assert [c.text for c in rank([b, a])] == ["b", "a"]  # a tie: generation order
    assert a.ranking["total"] == b.ranking["total"] == 0.8
    a.scores, b.scores = scored(0.9, abstained=False), scored(0.1, abstained=False)
    assert [c.text for c in rank([b, a])] == ["a", "b"]


def test_a_stored_head_round_trips(tmp_path):
    model = qm.train(synthetic_history(80, seed=6), features="ngrams")
    model.save(tmp_path)
    loaded = qm.QualityModel.load(tmp_path)
    texts = ["A red mug that is roomy and classic, made for every day. Get yours now."]
    assert loaded.predict(texts) == pytest.approx(model.predict(texts))
    assert loaded.report == model.report
    assert qm.stored_report(tmp_path).auc == model.report.auc
    with pytest.raises(qm.QualityModelError, match="not trained"):
        qm.QualityModel.load(tmp_path / "nothing")


# -- click-through data ---------------------------------------------------------------------------------


def write_ctr(path, rows):
    import csv

    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "clicks", "impressions"])
        writer.writerows(rows)


def test_click_data_trains_a_weighted_model(tmp_path):
    rng = random.Random(7)
    rows = []
    for _ in range(160):
        good = rng.random() < 0.5
        impressions = rng.randint(200, 2000)
        rows.append([synthetic_text(rng, good), round(impressions * (0.06 if good else 0.01)), impressions])
    write_ctr(tmp_path / "ctr.csv", rows)
    model = qm.train_from_ctr_csv(tmp_path / "ctr.csv", features="ngrams", save=False)
    assert model.report.target == "ctr"
    # each click against each non-click impression: the ceiling here is about 0.69
    assert model.report.auc > 0.62 and model.report.usable
    good, bad = model.predict(["这款陶瓷杯轻便又经典，日常好搭。上班、爬山都能用。", "这款陶瓷杯轻便又经典，日常好搭。赶快下单吧！"])
    assert good > bad
    assert 0 <= model.value(good) <= 1 and model.value(good) > model.value(bad)


def test_click_data_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,clicks\nhello,1\n", encoding="utf-8")
    with pytest.raises(qm.QualityModelError, match="impressions"):
        qm.examples_from_ctr_csv(path)
    write_ctr(path, [["ok", 1, 10], ["too many", 20, 10]])
    with pytest.raises(qm.QualityModelError, match="line 3"):
        qm.examples_from_ctr_csv(path)


# -- the library and background retraining -------------------------------------------------------------


def fill_library(library, examples):
    from adcopy_desktop.core.product import parse_product

    product_id = library.add_product(parse_product("Type: tee"))
    cands = [Candidate(e.text, "description", "m", "en", index=i) for i, e in enumerate(examples)]
    ids = library.record_generation(product_id, cands)
    for cid, example in zip(ids, examples):
        library.decide(cid, "accepted" if example.label else "rejected")


def test_retrain_when_enough_decisions_came_in(tmp_path):
    from adcopy_desktop.core.library import Library, default_library_path

    assert qm.retrain_if_due() is None  # no library yet: nothing is created
    assert not default_library_path().exists()
    with Library() as library:
        fill_library(library, synthetic_history(120, seed=8))
        assert qm.quality_status(library)["new_decisions"] == 120
    model = qm.retrain_if_due(every=10)
    assert model is not None and model.report.decisions_seen == 120 and model.report.usable
    assert qm.stored_report().auc == model.report.auc
    assert qm.retrain_if_due(every=10) is None  # nothing new
    with Library() as library:
        status = qm.quality_status(library)
    assert status["trained"] and status["new_decisions"] == 0


def test_the_background_retrainer_runs_after_enough_decisions():
    calls = []
    retrainer = qm.BackgroundRetrainer(every=3, runner=lambda: calls.append(1))
    assert [retrainer.decision_recorded() for _ in range(3)] == [False, False, True]
    retrainer.wait(5)
    assert calls == [1]
    failing = qm.BackgroundRetrainer(every=1, runner=lambda: 1 / 0)
    failing.decision_recorded()
    failing.wait(5)
    assert "ZeroDivisionError" in failing.last_error


def test_candidate_accepted_and_candidate_rejected_count_towards_retraining(monkeypatch):
    calls = []
    monkeypatch.setattr(quality_scorer, "retrainer", qm.BackgroundRetrainer(every=2, runner=lambda: calls.append(1)))
    manager = plugin_manager_for()
    try:
        manager.candidate_accepted(candidate("A tee."))
        manager.candidate_rejected(candidate("A mug."), "too vague")
        quality_scorer.retrainer.wait(5)
        assert calls == [1] and manager.problems == []
    finally:
        manager.close()


# -- token embeddings from a model in the store ----------------------------------------------------------


def test_token_embeddings_from_the_tiny_model(tiny_store):
    embedding = qm.TokenEmbedding.for_model(store=tiny_store)
    assert embedding.model_id == "tiny-llama" and embedding.dim > 0
    vectors = embedding.embed(["white denim jacket", "白色牛仔布上衣", ""])
    assert vectors.shape == (3, embedding.dim) and not np.allclose(vectors[0], vectors[1])
    assert np.allclose(vectors[2], 0)
    model = qm.train(synthetic_history(120, seed=9), features="embeddings", store=tiny_store)
    assert "tiny-llama token embeddings" in model.report.features and model.report.model_id == "tiny-llama"
    assert model.report.auc >= 0.9
    model.save()
    loaded = qm.QualityModel.load(store=tiny_store)
    assert loaded.predict(["A tee."]) == pytest.approx(model.predict(["A tee."]))


def test_embeddings_are_optional_in_auto_mode():
    model = qm.train(synthetic_history(40, seed=10), features="auto")  # no model installed here
    assert model.report.features == "hashed n-grams" and model.report.model_id is None
    with pytest.raises(qm.QualityModelError):
        qm.train(synthetic_history(40, seed=10), features="embeddings")


def test_bf16_tables_are_read_as_float32(tmp_path):
    import json
    import struct

    table = np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float32)
    bf16 = (table.view(np.uint32) >> 16).astype(np.uint16)
    header = json.dumps({"model.embed_tokens.weight": {"dtype": "BF16", "shape": [2, 2],
                                                       "data_offsets": [0, bf16.nbytes]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bf16.tobytes())
    loaded = qm.read_embedding_table(tmp_path)
    assert np.array_equal(loaded.rows(np.array([1, 0])), table[[1, 0]])
