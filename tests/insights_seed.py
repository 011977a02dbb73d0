"""A seeded library and model store for the Insights views, the report and their tests.

Real ``Library`` calls write the products, generations, candidates, decisions, edits and export
jobs; only the timestamps are then moved into the past with SQL (the library stamps "now"), so the
views have three weeks of history to bucket. The model store holds manifests only (a base and two
trained versions with the trainer's report and the gate's figures): no weights are needed to chart.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.outbox import Outbox
from adcopy_desktop.core.product import Product
from adcopy_desktop.core.shops import ItemResult

STYLE = "qingshan"
SHOPS = ("https://tea.example.com", "https://mugs.example.com")
# Monday 10:00 local time of a fixed week, so weeks and days are the same on every run
START = datetime(2025, 3, 3, 10, 0).timestamp()


def score(scorer: str, value: float, *, hard_fail: bool = False, abstained: bool = False, weight: float = 1.0,
          zh: str = "", name: str = "") -> dict:
    entry = {"scorer": scorer, "name": name or scorer.title(), "value": value, "label": "", "explanation": "",
             "spans": [], "hard_fail": hard_fail, "abstained": abstained, "weight": weight}
    if zh:
        entry["localized"] = {"zh": {"name": zh}}
    return entry


def seed_library(library: Library, *, seed: int = 7) -> dict:
    """Three weeks of generations (style qingshan and none), four candidates each, scored (one in
    nine over a channel's limit: a hard failure), flagged, decided and edited at random; two shops'
    export jobs. Returns ids for the tests."""
    rng = random.Random(seed)
    ids: dict = {"generations": [], "products": []}
    for number in range(6):
        ids["products"].append(library.add_product(
            Product(attributes=[("name", f"Tea {number}"), ("颜色", "绿色")], name=f"Tea {number}"),
            external_id=f"tea-{number}"))
    for day in range(21):
        for slot in range(2):
            style = STYLE if (day + slot) % 3 else None
            product_id = ids["products"][(day + slot) % len(ids["products"])]
            candidates = []
            for index in range(4):
                scores = [
                    score("compliance", rng.choice([1.0, 1.0, 0.0]), weight=2.0, zh="合规"),
                    score("readability", round(rng.uniform(0.3, 1.0), 3), zh="可读性"),
                    score("faithfulness", round(rng.uniform(0.0, 1.0), 3), abstained=rng.random() < 0.2),
                ]
                scores[0]["hard_fail"] = scores[0]["value"] == 0.0
                # over a channel's length limit now and then: a hard failure of the channel-rules
                # scorer (builtin/copy_scorers.py); not drawn from rng, so the other figures stay put
                over_limit = (day + slot + index) % 9 == 0
                scores.append(score("channel-rules", 0.0 if over_limit else 1.0, hard_fail=over_limit,
                                    name="Channel rules", zh="渠道规则"))
                flags = []
                if style and rng.random() < 0.25:
                    flags.append({"rule": "forbidden_word", "severity": "error", "word": "最好", "style": style})
                if style and rng.random() < 0.3:
                    flags.append({"rule": "too_long", "severity": "warning", "length": 40, "style": style})
                candidates.append(Candidate(text=f"copy {day}-{slot}-{index}", kind="title", model="tiny",
                                            language="zh", index=index, style=style, flags=flags, scores=scores))
            candidate_ids = library.record_generation(product_id, candidates)
            generation_id = library.candidate(candidate_ids[0]).generation_id
            ids["generations"].append(generation_id)
            when = START + day * 86400 + slot * 3600
            with library._transaction() as db:
                db.execute("UPDATE generations SET created_at = ? WHERE id = ?", (when, generation_id))
            choice = rng.random()
            if choice < 0.5:
                library.decide(candidate_ids[rng.randrange(4)], "accepted",
                               source="auto" if rng.random() < 0.2 else "user")
            if choice > 0.3:
                library.decide(candidate_ids[rng.randrange(4)], "rejected", reason="too plain")
            if rng.random() < 0.3:
                library.edit(candidate_ids[rng.randrange(4)], f"edited {day}-{slot}")
    outbox = Outbox(library)
    for shop_number, shop in enumerate(SHOPS):
        for job_number in range(3):
            items = [(ids["products"][i], f"tea-{i}-{job_number}", {"title": f"Tea {i}"}) for i in range(4)]
            job = outbox.create_job("shopify", shop, items)
            rows = outbox.items(job)
            outbox.mark_sent([row.id for row in rows])
            results = [ItemResult(rows[0].id, "done"), ItemResult(rows[1].id, "done"),
                       ItemResult(rows[2].id, "failed", "a title is required")]
            if shop_number == 0:
                results.append(ItemResult(rows[3].id, "done"))
            outbox.record_results(results)
            sent = START + (job_number * 5 + shop_number) * 86400 + 7200
            with library._transaction() as db:
                db.execute("UPDATE export_items SET sent_at = ?, confirmed_at = CASE WHEN confirmed_at IS NULL"
                           " THEN NULL ELSE ? END WHERE job_id = ?", (sent, sent + 60, job))
    return ids


def seed_store(root: Path) -> ModelStore:
    """A base model and three trained versions (v1 and v3 for the style, v3 active for it; v2 global,
    the default model), manifests only."""
    root.mkdir(parents=True, exist_ok=True)

    def write(model_id: str, **fields) -> None:
        folder = root / model_id
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"id": model_id, "name": model_id, "architecture": "llama", "languages": ["zh", "en"],
                    "files": {}, **fields}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    write("tiny", created="2025-03-01T08:00:00Z")
    write("tiny-v1", created="2025-03-10T09:00:00Z", version=1, base="tiny", parent="tiny", style=STYLE,
          training={"method": "lora", "supervised": {"steps": 6, "first_loss": 3.2, "last_loss": 1.9,
                                                     "best_step": 6, "best_heldout_loss": 2.4}},
          evaluation={"decision": "accepted",
                      "old": {"heldout_loss": 2.9, "rouge_l": 0.21, "bleu": 0.08, "compliance_rate": 1.0},
                      "new": {"heldout_loss": 2.4, "rouge_l": 0.26, "bleu": 0.1, "compliance_rate": 1.0}})
    write("tiny-v2", created="2025-03-17T09:00:00Z", version=2, base="tiny", parent="tiny-v1",
          training={"method": "lora", "supervised": {
              "steps": 8, "first_loss": 2.5, "last_loss": 1.2, "best_step": 8, "best_heldout_loss": 1.8,
              "loss_curve": [[1, 2.5], [2, 2.2], [3, 2.0], [4, 1.8], [5, 1.6], [6, 1.5], [7, 1.3], [8, 1.2]],
              "heldout_curve": [[4, 2.1], [8, 1.8]]}},
          evaluation={"decision": "accepted",
                      "old": {"heldout_loss": 2.4, "rouge_l": 0.26, "bleu": 0.1, "compliance_rate": 1.0,
                              "forbidden_rate": 0.1},
                      "new": {"heldout_loss": 1.8, "rouge_l": 0.31, "bleu": 0.12, "compliance_rate": 1.0,
                              "forbidden_rate": 0.0}})
    write("tiny-v3", created="2025-03-20T09:00:00Z", version=3, base="tiny", parent="tiny-v1", style=STYLE,
          training={"method": "lora", "supervised": {
              "steps": 4, "first_loss": 1.9, "last_loss": 1.4, "best_step": 4, "best_heldout_loss": 2.1,
              "loss_curve": [[1, 1.9], [2, 1.7], [3, 1.5], [4, 1.4]], "heldout_curve": [[2, 2.2], [4, 2.1]]}},
          evaluation={"decision": "accepted",
                      "old": {"heldout_loss": 2.4, "rouge_l": 0.26, "bleu": 0.1, "compliance_rate": 1.0},
                      "new": {"heldout_loss": 2.1, "rouge_l": 0.29, "bleu": 0.11, "compliance_rate": 1.0}})
    (root / "active.json").write_text(json.dumps({"model": "tiny-v2", "styles": {STYLE: "tiny-v3"}}),
                                      encoding="utf-8")
    return ModelStore(root)


def seeded(path: Path) -> tuple[Library, ModelStore, dict]:
    library = Library(path / "library.sqlite3")
    ids = seed_library(library)
    return library, seed_store(path / "models"), ids


def weeks_since_start(count: int) -> list[str]:
    return [(datetime.fromtimestamp(START).date() + timedelta(weeks=n)).isoformat() for n in range(count)]


__all__ = ["SHOPS", "START", "STYLE", "seed_library", "seed_store", "seeded", "weeks_since_start"]
