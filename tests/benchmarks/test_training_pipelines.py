"""benchmarks/training_pipelines.py on the tiny model: both pipelines run and report side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "training_pipelines.py"


def test_today_and_new_pipelines_report_their_figures_side_by_side(tiny_models_root, tmp_path):
    data = tmp_path / "lines.jsonl"
    data.write_text("\n".join(json.dumps({"content": f"类型#上衣*颜色#白色*图案#条纹{i}",
                                          "summary": f"白色条纹上衣{i}，清爽百搭。"}, ensure_ascii=False)
                              for i in range(16)), encoding="utf-8")
    out = tmp_path / "result.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(data), "--lines", "16", "--max-steps", "2",
         "--gate-examples", "2", "--models", str(tiny_models_root), "--model", "tiny-llama", "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "new/today" in result.stdout and "peak RSS train, MB" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    today, new = report["results"]["today"], report["results"]["new"]
    assert today["examples_trained"] == new["examples_trained"] == 8
    assert today["precision"] == "fp32"
    assert all(value > 0 for value in new["peak_rss_mb"].values() if value is not None)
    assert today["peak_rss_mb"]["train"] > 0 and new["peak_rss_mb"]["train"] > 0
    # the merged version carries a full ONNX copy; the adapter version megabytes at most
    assert new["version_bytes"] < today["version_bytes"]
    assert today["decision"] in ("accepted", "refused", "not_enough")
