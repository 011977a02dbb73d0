"""benchmarks/cold_start.py on the tiny model: fresh processes time their first token."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cold_start.py"


def test_fresh_processes_report_their_time_to_the_first_token(tiny_store):
    result = subprocess.run([sys.executable, str(SCRIPT), "--runs", "2", "--threads", "1"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["model"] == "tiny-llama" and report["adcopy"]["runs"] == 2
    assert 0 < report["adcopy"]["median_s"] < 120 and report["adcopy"]["first_s"] > 0
    # the tiny model has no GGUF of its own, so llama.cpp has nothing to run
    assert report["llamacpp"].startswith("not run")
