"""The tiny model as an ONNX export, built once per test session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_onnx_model(tiny_hf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama exported by optimum-cli (text-generation-with-past), as the app ships models."""
    out = tmp_path_factory.mktemp("tiny-onnx") / "tiny-llama"
    optimum_cli = Path(sys.executable).with_name("optimum-cli")
    subprocess.run(
        [str(optimum_cli), "export", "onnx", "--model", str(tiny_hf_model),
         "--task", "text-generation-with-past", str(out)],
        check=True,
        capture_output=True,
    )
    return out
