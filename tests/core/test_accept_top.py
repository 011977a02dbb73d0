"""core.batch.accept_top and the decision source/reason kept by the library: automatic decisions
are marked, a person's are never overridden, and a sunk best candidate is not accepted."""

from __future__ import annotations

import pytest

from adcopy_desktop.core.batch import BatchOptions, accept_top, plan_batch
from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.library import MIGRATIONS, Library
from adcopy_desktop.core.product import Product


def score(value: float, *, hard_fail: bool = False) -> dict:
    return {"scorer": "test", "name": "Test", "value": value, "label": "", "explanation": "", "spans": [],
            "hard_fail": hard_fail, "abstained": False, "weight": 1.0}


@pytest.fixture
def library(tmp_path):
    with Library(tmp_path / "library.sqlite3") as opened:
        yield opened


def generated(library: Library, job_id: int, product_id: int, scores: list[tuple[float, bool]]) -> list[int]:
    candidates = [Candidate(text=f"copy {i}", kind="title", model="m", language="en", index=i,
                            scores=[score(value, hard_fail=hard)]) for i, (value, hard) in enumerate(scores)]
    return library.record_generation(product_id, candidates, batch_item=(job_id, "title", 0.1))


def test_the_best_candidate_is_accepted_as_an_automatic_decision(library):
    products = [library.add_product(Product(attributes=[("Type", t)])) for t in ("mug", "lamp", "pen", "cup")]
    job_id, _ = plan_batch(library, products, BatchOptions(kinds=("title",), n=3))
    best = generated(library, job_id, products[0], [(0.2, False), (0.9, False), (0.5, False)])
    over_hard_fail = generated(library, job_id, products[1], [(0.99, True), (0.4, False)])
    all_sunk = generated(library, job_id, products[2], [(0.9, True), (0.8, True)])
    reviewed = generated(library, job_id, products[3], [(0.1, False), (0.7, False)])
    library.decide(reviewed[0], "accepted")

    result = accept_top(library, job_id)
    assert result.accepted == [best[1], over_hard_fail[1]]
    assert result.reviewed == 1 and len(result.sunk) == 1 and f"#{all_sunk[0]}" in result.sunk[0]
    chosen = library.candidate(best[1])
    assert chosen.decision == "accepted" and chosen.decided_by == "auto"
    assert chosen.decision_reason == "top-ranked of 3 (score 0.90)"
    assert library.decision_log(best[1]) == [
        {"action": "accepted", "text": None, "at": library.decision_log(best[1])[0]["at"], "source": "auto",
         "reason": "top-ranked of 3 (score 0.90)"}]
    assert library.candidate(reviewed[0]).decided_by == "user"
    assert [c.decision for c in library.candidates(product_id=products[2])] == [None, None]

    again = accept_top(library, job_id)  # nothing twice
    assert again.accepted == [] and again.decided == 2 and again.reviewed == 1


def test_decide_keeps_source_and_reason_and_clearing_drops_them(library):
    product_id = library.add_product(Product(attributes=[("Type", "mug")]))
    (candidate_id,) = library.record_generation(product_id, [Candidate(text="x", kind="title", model="m",
                                                                       language="en")])
    library.decide(candidate_id, "rejected", reason="dull")
    stored = library.candidate(candidate_id)
    assert (stored.decision, stored.decided_by, stored.decision_reason) == ("rejected", "user", "dull")
    library.decide(candidate_id, None)
    stored = library.candidate(candidate_id)
    assert (stored.decision, stored.decided_by, stored.decision_reason) == (None, None, None)
    assert [(e["action"], e["source"], e["reason"]) for e in library.decision_log(candidate_id)] == [
        ("rejected", "user", "dull"), ("cleared", "user", None)]
    assert [a for a, _, _ in library.decision_history(candidate_id)] == ["rejected", "cleared"]
    with pytest.raises(ValueError):
        library.decide(candidate_id, "accepted", source="robot")


def test_an_older_library_gets_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    for number in range(len(MIGRATIONS) - 1):
        for statement in MIGRATIONS[number].split(";"):
            if statement.strip():
                db.execute(statement)
    db.execute("INSERT INTO products (name, attributes, created_at, updated_at) VALUES ('mug', '[]', 0, 0)")
    db.execute("INSERT INTO generations (product_id, kind, language, model, request, created_at)"
               " VALUES (1, 'title', 'en', 'm', '{}', 0)")
    db.execute("INSERT INTO candidates (generation_id, position, generated_text, text, finish_reason, details,"
               " decision, decided_at) VALUES (1, 0, 'x', 'x', 'eos', '{}', 'accepted', 1)")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    db.commit()
    db.close()
    with Library(path) as library:
        assert library.schema_version == len(MIGRATIONS)
        stored = library.candidate(1)
        assert stored.decision == "accepted" and stored.decided_by is None  # shown as the user's


def test_automatic_decisions_teach_neither_the_copy_model_nor_the_quality_model(library, tmp_path):
    from adcopy_desktop.core.quality_model import examples_from_library, library_decision_count
    from adcopy_desktop.core.training.auto import newly_accepted
    from adcopy_desktop.core.training.data import library_data

    products = [library.add_product(Product(attributes=[("Type", t), ("Color", "red")])) for t in ("mug", "lamp")]
    job_id, _ = plan_batch(library, products, BatchOptions(kinds=("title",), n=2))
    auto = generated(library, job_id, products[0], [(0.2, False), (0.9, False)])
    person = generated(library, job_id, products[1], [(0.3, False), (0.8, False)])
    assert accept_top(library, job_id).accepted == [auto[1], person[1]]
    library.decide(person[1], "accepted")  # a person confirms one of them
    library.decide(person[0], "rejected")
    assert [e.text for e in examples_from_library(library)] == ["copy 1", "copy 0"]  # the person's two
    assert library_decision_count(library) == 2
    assert newly_accepted(library, tmp_path / "state.json") == 1
    data = library_data(library, holdout_share=0.0)
    targets = [example.completion for example in data.train + data.heldout]
    assert targets == ["copy 1"]
