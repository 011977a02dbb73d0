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


@pytest.fixture(scope="session")
def fused_onnx_model(tiny_onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same export rewritten with fused attention (core/model_store/fuse.py), in its own folder."""
    import json
    import shutil

    from adcopy_desktop.core.model_store.fuse import fuse_graph

    out = tmp_path_factory.mktemp("tiny-fused") / "tiny-llama"
    shutil.copytree(tiny_onnx_model, out, ignore=shutil.ignore_patterns("model.onnx*"))
    config = json.loads((tiny_onnx_model / "config.json").read_text(encoding="utf-8"))
    fuse_graph(tiny_onnx_model / "model.onnx", config, out / "model.onnx")
    return out
