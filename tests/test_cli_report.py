"""adcopy report: one self-contained HTML file (inline SVG, no script, no external URL) whose
charts carry the figures SQL gives for the style, in English and Chinese."""

from __future__ import annotations

import re
import shutil

from click.testing import CliRunner

from adcopy_desktop.cli.app import cli
from adcopy_desktop.paths import user_folders
from tests.insights_seed import STYLE, seed_library, seed_store


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
    assert text.count("<svg") >= 6  # decisions, scores, sinking, two runs x (curve, gate), exports
    from adcopy_desktop.core.library import Library

    with Library() as library:
        accepted, total = library._db.execute(
            "SELECT SUM(c.decision = 'accepted'), COUNT(*) FROM candidates c JOIN generations g ON g.id = c.generation_id"
            " WHERE g.style = ? AND g.created_at < (SELECT MIN(created_at) + 7 * 86400 FROM generations)",
            (STYLE,)).fetchone()
    first_week = re.search(r"<tr><td>2025-03-03</td><td>(\d+)</td><td>(\d+)</td>", text)
    assert first_week and (int(first_week.group(1)), int(first_week.group(2))) == (total, accepted)
    assert "Training runs for this style: tiny-v1" in text and "tiny-v2" not in text  # v2 is not the style's


def test_chinese_report_and_unknown_style(tmp_path):
    seeded_home()
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", "--out", str(out), "--lang", "zh", "--period", "day"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text and "文案报告：所有风格" in text and "合规" in text
    result = CliRunner().invoke(cli, ["report", "--style", "nope", "--out", str(out)])
    assert result.exit_code == 1 and "no copy for the style 'nope'" in result.output and STYLE in result.output
