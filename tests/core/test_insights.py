"""core/insights.py on a seeded real library: every view checked against SQL written here, with
SQLite's own date functions and JSON1 (not the module's Python), and the CSV export."""

from __future__ import annotations

import csv

import pytest

from adcopy_desktop.core import insights
from adcopy_desktop.core.insights import InsightsError, Table
from tests.insights_seed import SHOPS, STYLE, seeded, weeks_since_start

WEEK = "date(g.created_at, 'unixepoch', 'localtime', '-6 days', 'weekday 1')"  # the Monday of the local week


@pytest.fixture
def seeded_data(tmp_path):
    library, store, ids = seeded(tmp_path)
    yield library, store, ids
    library.close()


def sql(library, query, params=()):
    return [tuple(row) for row in library._db.execute(query, params).fetchall()]


@pytest.mark.parametrize("style", [None, STYLE, ""])
def test_decision_rates_per_week_match_sql(seeded_data, style):
    library, _, _ = seeded_data
    table = insights.decision_rates(library, style=style, bucket="week")
    where = {None: "", STYLE: "WHERE g.style = 'qingshan'", "": "WHERE g.style IS NULL"}[style]
    expected = sql(library, f"""
        SELECT {WEEK} AS week, COUNT(*),
               SUM(c.decision = 'accepted'), SUM(c.decision = 'accepted' AND c.decided_by = 'auto'),
               SUM(c.decision = 'rejected'), SUM(c.text != c.generated_text), SUM(c.decision IS NULL)
        FROM candidates c JOIN generations g ON g.id = c.generation_id {where} GROUP BY week ORDER BY week""")
    assert [row[:7] for row in table.rows] == expected
    assert table.column("period") == weeks_since_start(3)
    for row in table.records():
        assert row["accepted_rate"] == round(row["accepted"] / row["candidates"], 4)
        assert row["edited_rate"] == round(row["edited"] / row["candidates"], 4)


def test_decision_rates_per_day(seeded_data):
    library, _, _ = seeded_data
    table = insights.decision_rates(library, bucket="day")
    expected = sql(library, """SELECT date(g.created_at, 'unixepoch', 'localtime'), COUNT(*), SUM(c.decision = 'rejected')
        FROM candidates c JOIN generations g ON g.id = c.generation_id GROUP BY 1 ORDER BY 1""")
    assert [(r["period"], r["candidates"], r["rejected"]) for r in table.records()] == expected
    assert len(table.rows) == 21
    with pytest.raises(InsightsError, match="Unknown period"):
        insights.decision_rates(library, bucket="month")


def test_mean_score_per_scorer_and_week_match_sql(seeded_data):
    library, _, _ = seeded_data
    table = insights.mean_scores(library, style=STYLE)
    expected = sql(library, f"""
        SELECT {WEEK} AS week,
               json_extract(s.value, '$.scorer') AS scorer, ROUND(AVG(json_extract(s.value, '$.value')), 4), COUNT(*)
        FROM candidates c JOIN generations g ON g.id = c.generation_id, json_each(c.details, '$.scores') s
        WHERE g.style = 'qingshan' AND NOT json_extract(s.value, '$.abstained')
        GROUP BY week, scorer ORDER BY week, scorer""")
    assert [(r["period"], r["scorer"], r["n"]) for r in table.records()] == [(w, s, n) for w, s, _, n in expected]
    assert table.column("mean") == pytest.approx([mean for _, _, mean, _ in expected], abs=1e-4)  # rounding order
    assert set(table.column("scorer")) == {"channel-rules", "compliance", "faithfulness", "readability"}
    assert table.where(scorer="compliance").column("label_zh") == ["合规"] * 3


def test_sinking_rules_match_sql(seeded_data):
    library, _, _ = seeded_data
    table = insights.sinking_rules(library)
    total = sql(library, "SELECT COUNT(*) FROM candidates")[0][0]
    hard = sql(library, """SELECT json_extract(s.value, '$.scorer'), COUNT(DISTINCT c.id) FROM candidates c,
        json_each(c.details, '$.scores') s WHERE json_extract(s.value, '$.hard_fail') GROUP BY 1""")
    flags = sql(library, """SELECT json_extract(f.value, '$.rule'), json_extract(f.value, '$.severity'),
        COUNT(DISTINCT c.id) FROM candidates c, json_each(c.details, '$.flags') f GROUP BY 1, 2""")
    expected = {(f"scorer:{name}", "sinks"): n for name, n in hard}
    expected |= {(f"style:{rule}", "sinks" if severity == "error" else "warning"): n for rule, severity, n in flags}
    assert {(r["rule"], r["effect"]): r["candidates"] for r in table.records()} == expected
    assert table.rows[0][0] == "scorer:compliance"  # the biggest sink first
    assert [r["effect"] for r in table.records()] == ["sinks", "sinks", "sinks", "warning"]
    over_limit = sql(library, """SELECT COUNT(DISTINCT c.id) FROM candidates c, json_each(c.details, '$.scores') s
        WHERE json_extract(s.value, '$.scorer') = 'channel-rules' AND json_extract(s.value, '$.hard_fail')""")[0][0]
    channel = table.where(rule="scorer:channel-rules").records()
    assert over_limit > 0 and channel == [{"rule": "scorer:channel-rules", "effect": "sinks", "label": "Channel rules",
                                           "label_zh": "渠道规则", "candidates": over_limit,
                                           "share": round(over_limit / total, 4)}]
    assert all(r["share"] == round(r["candidates"] / total, 4) for r in table.records())
    assert table.meta["candidates"] == total
    for record in table.records():  # every rule named in both languages
        assert record["label"] and record["label_zh"] and record["label"] != record["label_zh"], record


def test_score_distribution_marks_the_chosen_candidate(seeded_data):
    library, _, ids = seeded_data
    accepted = sql(library, "SELECT generation_id, id FROM candidates WHERE decision = 'accepted' ORDER BY id LIMIT 1")
    generation_id, chosen_id = accepted[0]
    table = insights.score_distribution(library, generation_id)
    totals = dict(sql(library, """SELECT c.id, ROUND(SUM(json_extract(s.value, '$.weight') * json_extract(s.value, '$.value'))
        / SUM(json_extract(s.value, '$.weight')), 4) FROM candidates c, json_each(c.details, '$.scores') s
        WHERE c.generation_id = ? AND NOT json_extract(s.value, '$.abstained') GROUP BY c.id""", (generation_id,)))
    assert {r["candidate"]: r["total"] for r in table.records()} == totals
    assert [r["candidate"] for r in table.records() if r["chosen"]] == [chosen_id]
    sunk = {cid for (cid,) in sql(library, """SELECT DISTINCT c.id FROM candidates c, json_each(c.details, '$.scores') s
        WHERE c.generation_id = ? AND json_extract(s.value, '$.hard_fail')""", (generation_id,))}
    sunk |= {cid for (cid,) in sql(library, """SELECT DISTINCT c.id FROM candidates c, json_each(c.details, '$.flags') f
        WHERE c.generation_id = ? AND json_extract(f.value, '$.severity') = 'error'""", (generation_id,))}
    assert {r["candidate"] for r in table.records() if r["sunk"]} == sunk
    with pytest.raises(InsightsError, match="no generation #999"):
        insights.score_distribution(library, 999)


def test_generations_list(seeded_data):
    library, _, ids = seeded_data
    table = insights.generations(library, style=STYLE, limit=5)
    expected = sql(library, "SELECT id FROM generations WHERE style = 'qingshan' ORDER BY created_at DESC, id DESC LIMIT 5")
    assert [(g,) for g in table.column("generation")] == expected
    assert set(table.column("candidates")) == {4}
    assert insights.styles_in_library(library) == ["", STYLE]


def test_export_timeline_matches_the_outbox(seeded_data):
    library, _, _ = seeded_data
    table = insights.export_timeline(library, bucket="day")
    expected = sql(library, """
        SELECT date(t, 'unixepoch', 'localtime') AS day, destination, SUM(what = 'sent'), SUM(what = 'done'),
               SUM(what = 'failed') FROM (
          SELECT j.destination, i.sent_at AS t, 'sent' AS what FROM export_items i JOIN export_jobs j ON j.id = i.job_id
          UNION ALL SELECT j.destination, i.confirmed_at, 'done' FROM export_items i JOIN export_jobs j ON j.id = i.job_id
            WHERE i.status = 'done'
          UNION ALL SELECT j.destination, i.sent_at, 'failed' FROM export_items i JOIN export_jobs j ON j.id = i.job_id
            WHERE i.status = 'failed') GROUP BY day, destination ORDER BY day, destination""")
    assert [(r["period"], r["shop"], r["sent"], r["confirmed"], r["failed"]) for r in table.records()] == expected
    assert set(table.column("shop")) == set(SHOPS)
    assert sum(table.where(shop=SHOPS[0]).column("confirmed")) == 9
    assert sum(table.where(shop=SHOPS[1]).column("failed")) == 3


def test_shop_credentials_never_reach_the_timeline(tmp_path):
    from adcopy_desktop.core.library import Library
    from adcopy_desktop.core.outbox import Outbox

    with Library(tmp_path / "l.sqlite3") as library:
        outbox = Outbox(library)
        job = outbox.create_job("woocommerce", "https://me:s3cretpass@shop.example.com", [(None, "a", {})])
        outbox.mark_sent([outbox.items(job)[0].id])
        table = insights.export_timeline(library)
    assert table.column("shop") == ["https://[redacted]@shop.example.com"]


def test_training_views_from_the_manifests(seeded_data):
    _, store, _ = seeded_data
    assert [info.id for info in insights.trained_versions(store)] == ["tiny-v1", "tiny-v2", "tiny-v3"]
    v2 = store.get("tiny-v2")
    curve = insights.training_curve(v2)
    supervised = v2.training["supervised"]
    assert [[s, l] for s, l in zip(curve.where(series="train").column("step"),
                                   curve.where(series="train").column("loss"))] == supervised["loss_curve"]
    assert curve.where(series="held_out").rows == [("held_out", 0, 2.4), ("held_out", 4, 2.1), ("held_out", 8, 1.8)]
    old_style = insights.training_curve(store.get("tiny-v1"))  # trained before curves were kept
    assert old_style.rows == [("train", 1, 3.2), ("train", 6, 1.9), ("held_out", 0, 2.9), ("held_out", 6, 2.4)]
    gate = insights.gate_comparison(v2)
    assert gate.records()[0] == {"metric": "heldout_loss", "label": "held-out loss", "label_zh": "留出损失",
                                 "old": 2.4, "new": 1.8, "difference": -0.6}
    assert gate.column("metric") == ["heldout_loss", "rouge_l", "bleu", "compliance_rate", "forbidden_rate"]
    assert gate.meta["decision"] == "accepted" and gate.meta["decision_label_zh"] == "已采用"


def test_model_timeline_from_the_manifests(seeded_data):
    _, store, _ = seeded_data
    timeline = insights.model_timeline(store)
    assert timeline.column("model") == ["tiny", "tiny-v1", "tiny-v2", "tiny-v3"]
    assert timeline.column("trained") == [False, True, True, True]
    assert timeline.column("active") == [False, False, True, True]  # v2 by default, v3 for the style
    assert timeline.column("active_default") == [False, False, True, False]
    assert timeline.column("active_styles") == ["", "", "", STYLE]
    for record in timeline.records()[1:]:  # each trained version's figures are its manifest's "new" ones
        info = store.get(record["model"])
        assert record["decision"] == info.evaluation["decision"] == "accepted" and record["decision_label_zh"] == "已采用"
        assert [record[m] for m in insights.TIMELINE_METRICS] == [info.evaluation["new"][m]
                                                                  for m in insights.TIMELINE_METRICS]
    base = timeline.records()[0]  # no figures, not a made-up 0
    assert [base[m] for m in insights.TIMELINE_METRICS] == [None, None, None] and base["decision"] == ""
    assert timeline.meta["metrics"] == ["heldout_loss", "rouge_l", "bleu"]


def test_csv_export_round_trips_and_neutralises_formulas(tmp_path, seeded_data):
    library, _, _ = seeded_data
    table = insights.decision_rates(library)
    path = table.to_csv(tmp_path / "rates.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets read Chinese right
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == table.columns
    assert [int(r[1]) for r in rows[1:]] == table.column("candidates")
    risky = Table("t", ["a", "b"], [("=HYPERLINK(1)", None), ("ok", 0.5)])
    assert risky.csv_text() == "a,b\n'=HYPERLINK(1),\nok,0.5\n"
    with pytest.raises(InsightsError, match="cannot be written"):
        table.to_csv(tmp_path / "missing" / "x.csv")
