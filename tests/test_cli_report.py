"""adcopy report: one self-contained HTML file (inline SVG, no script, no external URL) whose
charts carry the figures SQL gives for the style, in English and Chinese."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.paths import user_folders
from adcopy_desktop.core.model_store import ModelStore
from tests.insights_seed import SHOPS, STYLE, seed_library, seed_store


def seeded_home():
    from adcopy_desktop.core.library import Library

    folders = user_folders().ensure()
    with Library() as library:
        seed_library(library)
    shutil.rmtree(folders.models)
    seed_store(folders.models)


def test_report_is_self_contained_and_matches_sql(tmp_path):
    seeded_home()
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "--style", STYLE, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and f"Copy report: {STYLE}" in text
    assert not re.search(r"(?i)(<script|<link|<img|<iframe|<object|src=|href=|@import|url\()", text)
    markup = re.sub(r"<td>[^<]*</td>", "", text)  # shop addresses are data in the export table, never links
    assert not re.search(r"(?i)(https?:|//[a-z])", markup)
    # decisions, scores, sinking, three generations, two runs x (curve, gate), three models, three exports
    assert text.count("<svg") == 16
    from adcopy_desktop.core.library import Library

    with Library() as library:
        accepted, total = library._db.execute(
            "SELECT SUM(c.decision = 'accepted'), COUNT(*) FROM candidates c JOIN generations g ON g.id = c.generation_id"
            " WHERE g.style = ? AND g.created_at < (SELECT MIN(created_at) + 7 * 86400 FROM generations)",
            (STYLE,)).fetchone()
    first_week = re.search(r"<tr><td>2025-03-03</td><td>(\d+)</td><td>(\d+)</td>", text)
    assert first_week and (int(first_week.group(1)), int(first_week.group(2))) == (total, accepted)
    assert "Training runs for this style: tiny-v1" in text and "Training runs for this style: tiny-v3" in text
    assert "Training runs for this style: tiny-v2" not in text  # v2 is for all styles


def section(text, title):
    """The section of the report titled ``title``, as (caption, svg) figures."""
    part = text.split(f"<h2>{title}", 1)[1].split("</section>", 1)[0]
    return re.findall(r"<figure><figcaption>([^<]*)</figcaption>(<svg.*?</svg>)</figure>", part)


def point_titles(svg):
    return re.findall(r"<circle[^>]*><title>([^<]*)</title></circle>", svg)


def test_the_newest_generations_models_and_shops_match_sql_and_the_manifests(tmp_path):
    import json

    from adcopy_desktop.core.library import Library

    seeded_home()
    other = user_folders().models / "tiny-other"  # another client's style: not in this style's report
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({
        "id": "tiny-other", "name": "tiny-other", "architecture": "llama", "files": {}, "version": 4, "base": "tiny",
        "parent": "tiny", "style": "other-brand", "created": "2025-03-21T09:00:00Z", "training": {"method": "lora"},
        "evaluation": {"decision": "accepted", "new": {"heldout_loss": 1.5, "rouge_l": 0.4, "bleu": 0.2}}}))
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "--style", STYLE, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")

    with Library() as library:
        db = library._db
        newest = [row[0] for row in db.execute(
            "SELECT id FROM generations WHERE style = ? ORDER BY created_at DESC, id DESC LIMIT 3", (STYLE,))]
        figures = section(text, "Newest generations")
        assert [int(re.match(r"#(\d+),", caption).group(1)) for caption, _ in figures] == newest
        for (_, svg), generation_id in zip(figures, newest):
            totals = [row[0] for row in db.execute("""SELECT ROUND(SUM(json_extract(s.value, '$.weight')
                * json_extract(s.value, '$.value')) / SUM(json_extract(s.value, '$.weight')), 4) FROM candidates c,
                json_each(c.details, '$.scores') s WHERE c.generation_id = ? AND NOT json_extract(s.value, '$.abstained')
                GROUP BY c.id ORDER BY c.position""", (generation_id,))]
            bars = re.findall(r"<rect ([^>]*)><title>weighted total: ([^<]*)</title></rect>", svg)
            assert [float(value) for _, value in bars] == pytest.approx(totals, abs=5e-4)  # printed to 3 places
            chosen = [row[0] for row in db.execute(
                "SELECT position FROM candidates WHERE generation_id = ? AND decision = 'accepted'", (generation_id,))]
            assert [i for i, (attributes, _) in enumerate(bars) if 'class="chosen"' in attributes] == chosen
        assert any('class="chosen"' in svg for _, svg in figures)  # the seed's newest include a chosen one

        sent_week = "date(i.sent_at, 'unixepoch', 'localtime', '-6 days', 'weekday 1')"
        weeks = [row[0] for row in db.execute(f"SELECT DISTINCT {sent_week} FROM export_items i ORDER BY 1")]
        figures = dict(section(text, "Shop exports"))
        for caption, condition in (("Items sent, per shop", "1"), ("Items confirmed, per shop", "i.status = 'done'"),
                                   ("Items refused, per shop", "i.status = 'failed'")):
            expected = []
            for shop in sorted(SHOPS):  # one line per shop, not the sum
                counts = dict(db.execute(f"""SELECT {sent_week}, SUM({condition}) FROM export_items i JOIN export_jobs j
                    ON j.id = i.job_id WHERE j.destination = ? GROUP BY 1""", (shop,)).fetchall())
                host = shop.split("//", 1)[1]
                expected += [f"{host}: {counts.get(week, 0)}" for week in weeks]
            assert point_titles(figures[caption]) == expected, caption

    store = ModelStore(user_folders().models)
    figures = section(text, "Models on a timeline")
    assert [caption for caption, _ in figures] == ["held-out loss (lower is better)", "ROUGE-L (higher is better)",
                                                   "BLEU (higher is better)"]
    for (_, svg), metric in zip(figures, ("heldout_loss", "rouge_l", "bleu")):
        expected = {f"{v}: {store.get(v).evaluation['new'][metric]:g} (accepted)"
                    for v in ("tiny-v1", "tiny-v2", "tiny-v3")}
        assert set(point_titles(svg)) == expected  # trained versions only: no base model at a made-up 0
        assert re.findall(r'<text class="base"[^>]*>([^<]*)</text>', svg) == ["tiny (base model)"]
        assert svg.count('<line class="base"') == 1 and svg.count('<circle class="active"') == 2
        assert sorted(re.findall(r'<text class="version"[^>]*>([^<]*)</text>', svg)) == [
            "tiny-v1", "tiny-v2 (active)", f"tiny-v3 (active for {STYLE})"]
    assert "tiny-other" not in text and "other-brand" not in text


def test_chinese_report_and_unknown_style(tmp_path):
    seeded_home()
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", "--out", str(out), "--lang", "zh", "--period", "day"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text and "文案报告：所有风格" in text and "合规" in text
    for title in ("最近的生成：候选文案的加权总分", "模型时间线：留出集指标", "各店铺已发送的条目", "tiny（基础模型）",
                  "tiny-v2（当前使用）", "ROUGE-L（越高越好）"):
        assert title in text, title
    result = CliRunner().invoke(cli, ["report", "--style", "nope", "--out", str(out)])
    assert result.exit_code == 1 and "no copy for the style 'nope'" in result.output and STYLE in result.output
