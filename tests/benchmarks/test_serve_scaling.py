"""benchmarks/serve_scaling.py on the tiny model: a short run reports products/min per server count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "serve_scaling.py"


def test_a_short_run_reports_local_and_served_rates(tiny_models_root, tmp_path):
    out = tmp_path / "result.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--models", str(tiny_models_root), "--products", "4",
                             "--servers", "1", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [run["servers"] for run in report["runs"]] == [0, 1]
    assert all(run["products_per_min"] > 0 for run in report["runs"])
    assert "speed-up vs 1 server" in result.stdout
