"""``adcopy bench`` on the tiny model: real child processes, few tokens, no speed assertions."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adcopy_desktop.bench import runner
from adcopy_desktop.core.model_store import ModelStore

FIGURES = ("tokens_per_s", "first_token_ms", "batch_s", "load_s", "peak_rss_mb", "rss_mb")
TOKENS, BATCH, PREFILL = 6, 2, 40


def _hide_llama_cpp(name: str, real=runner.module_present) -> bool:
    return False if name == "llama_cpp" else real(name)


@pytest.fixture(scope="module")
def tiny_folder(tiny_models_root: Path) -> Path:
    (info,) = ModelStore(tiny_models_root).list_models()
    return info.folder


@pytest.fixture(scope="module")
def report(tiny_folder: Path) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "module_present", _hide_llama_cpp)
        return runner.run_benchmark(
            tiny_folder / "onnx", tiny_folder / "hf", None, new_tokens=TOKENS, batch=BATCH, threads=1, repeats=2,
            prefill_tokens=PREFILL,
        )


@pytest.mark.parametrize("runtime", ["onnx", "transformers"])
def test_each_runtime_reports_positive_figures(report: dict[str, Any], runtime: str) -> None:
    result = report["runtimes"][runtime]
    assert result["status"] == "ok", result
    for name in FIGURES:
        assert isinstance(result[name], float) and math.isfinite(result[name]) and result[name] > 0, (name, result)
    assert result["new_tokens"] == TOKENS
    assert result["batch_tokens"] == TOKENS * BATCH
    assert len(result["runs"]["tokens_per_s"]) >= 2  # disturbed runs are repeated
    assert result["prefill_tokens"] == PREFILL and len(result["runs"]["prefill_ms"]) >= 2
    assert result["prefill_tokens_per_s"] == pytest.approx(PREFILL / (result["prefill_ms"] / 1000), rel=0.01)
    assert 0 <= result["contended_runs"] <= result["timed_runs"]


def test_ratios_compare_ours_with_transformers(report: dict[str, Any]) -> None:
    ours, peer = report["runtimes"]["onnx"], report["runtimes"]["transformers"]
    ratios = report["ratios"]["transformers"]
    assert ratios["tokens_per_s"] == pytest.approx(ours["tokens_per_s"] / peer["tokens_per_s"], abs=0.01)
    assert ratios["batch_speedup"] == pytest.approx(peer["batch_s"] / ours["batch_s"], abs=0.01)
    assert ratios["peak_rss"] == pytest.approx(ours["peak_rss_mb"] / peer["peak_rss_mb"], abs=0.01)
    assert ratios["prefill_tokens_per_s"] == pytest.approx(
        ours["prefill_tokens_per_s"] / peer["prefill_tokens_per_s"], abs=0.01)
    assert report["ratios"]["llamacpp"] is None


def test_missing_llama_cpp_is_reported_not_installed(report: dict[str, Any]) -> None:
    llama = report["runtimes"]["llamacpp"]
    assert llama["status"] == "not installed"
    assert "pip install llama-cpp-python" in llama["reason"]


def test_report_describes_settings_and_machine(report: dict[str, Any]) -> None:
    settings = report["settings"]
    assert settings["new_tokens"] == TOKENS and settings["batch"] == BATCH and settings["threads"] == 1
    assert settings["prompt_tokens"] > 0 and settings["prefill_tokens"] == PREFILL
    machine = report["machine"]
    assert machine["cpu"] and machine["python"] and machine["onnxruntime"]
    assert machine["ram_gb"] > 0
    json.dumps(report, allow_nan=False)


def test_text_and_markdown_tables(report: dict[str, Any]) -> None:
    text = runner.format_text(report)
    assert "AdCopy (ONNX Runtime)" in text and "transformers eager" in text
    assert "llama.cpp" in text and "not installed" in text
    assert "AdCopy vs transformers eager:" in text and f"prefill {PREFILL}" in text
    (versus,) = [line for line in text.splitlines() if line.startswith("AdCopy vs transformers eager:")]
    assert " prefill " in versus and "x tokens/s" in versus
    markdown = runner.format_markdown(report)
    assert markdown.splitlines()[0].startswith("| runtime | tokens/s |")
    # header + ours, transformers, llama.cpp (not installed) and onnxruntime-genai
    assert len([line for line in markdown.splitlines() if line.startswith("| ")]) == 5


def test_llama_cpp_without_gguf_is_skipped(monkeypatch: pytest.MonkeyPatch, tiny_folder: Path) -> None:
    monkeypatch.setattr(runner, "module_present", lambda name: True)
    result = runner._peer_target("llamacpp", tiny_folder / "onnx", tiny_folder / "hf", None)
    assert isinstance(result, dict) and result["status"] == "skipped"


def test_a_peer_that_fails_says_why(tmp_path: Path) -> None:
    results = runner.measure_peers(
        {"onnx": tmp_path}, [1, 2, 3], new_tokens=2, batch=1, repeats=1, threads=1
    )
    assert results["onnx"]["status"] == "failed"
    assert "model.onnx" in results["onnx"]["reason"]


def test_bench_command_uses_the_active_model(tiny_store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_measure(targets: dict[str, Path], prompt_ids: list[int], **options: Any) -> dict[str, Any]:
        calls.append((targets, options))
        figures = {name: 1.0 for name in (*FIGURES, "prefill_tokens_per_s")}
        return {
            runtime: {"status": "ok", **figures, "new_tokens": options["new_tokens"],
                      "batch_tokens": options["new_tokens"] * options["batch"], "runs": {}, "notes": []}
            for runtime in targets
        }

    monkeypatch.setattr(runner, "measure_peers", fake_measure)
    monkeypatch.setattr(runner, "module_present", _hide_llama_cpp)
    outcome = CliRunner().invoke(
        runner.bench, ["--tokens", "5", "--batch", "3", "--prefill", "30", "--repeats", "1", "--threads", "1",
                       "--format", "json"]
    )
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.stdout)
    assert report["model"] == "tiny-llama"
    assert report["precision"] == json.loads((tiny_store.get("tiny-llama").folder / "manifest.json").read_text())["precision"]
    ((targets, options),) = calls
    genai = runner.module_present("onnxruntime_genai")
    assert list(targets) == ["onnx", "transformers", *(["genai"] if genai else [])]
    if genai:  # prepared beside the model (hard links need one file system), removed afterwards
        assert targets["genai"].parent == tiny_store.get("tiny-llama").runtime_folder.parent
        assert not targets["genai"].exists()
    assert targets["onnx"] == tiny_store.get("tiny-llama").runtime_folder
    assert targets["transformers"].name == "hf"
    assert options["new_tokens"] == 5 and options["batch"] == 3 and options["threads"] == 1
    assert len(options["prefill_ids"]) == 30 and report["settings"]["prefill_tokens"] == 30
    assert report["ratios"]["transformers"] == {
        "tokens_per_s": 1.0, "batch_speedup": 1.0, "first_token_speedup": 1.0, "peak_rss": 1.0,
        "prefill_tokens_per_s": 1.0,
    }


def test_bench_command_without_a_model_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = CliRunner().invoke(runner.bench, ["--repeats", "1"])
    assert outcome.exit_code != 0
    assert "adcopy models build" in outcome.output


def test_peer_alone_prints_one_result_line(tiny_folder: Path) -> None:
    import subprocess
    import sys

    from adcopy_desktop.bench.peers import RESULT_PREFIX

    done = subprocess.run(
        [sys.executable, "-m", "adcopy_desktop.bench.peers", "--runtime", "onnx", "--folder", str(tiny_folder / "onnx"),
         "--prompt-ids", "1,5,9", "--tokens", "3", "--batch", "2", "--repeats", "1", "--threads", "1"],
        capture_output=True, text=True, check=True, timeout=300,
    )
    (line,) = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    result = json.loads(line[len(RESULT_PREFIX):])
    assert result["runtime"] == "onnx" and result["new_tokens"] == 3 and result["batch_tokens"] == 6


def test_the_export_graph_row_runs_only_when_its_folder_is_given(tiny_folder: Path) -> None:
    skipped = runner._peer_target("export", tiny_folder / "onnx", None, None)
    assert isinstance(skipped, dict) and "--export-graph" in skipped["reason"]
    assert runner._peer_target("export", tiny_folder / "onnx", None, None, tiny_folder / "onnx") == tiny_folder / "onnx"
    assert runner.CHILD_RUNTIMES["export"] == "onnx"  # the same runtime, another graph


def test_a_catalog_models_gguf_is_joined_from_its_packages_for_llama_cpp(tmp_path: Path) -> None:
    from adcopy_desktop.core.model_store.catalog import CATALOG, packages_installed, sha256_of

    entry = CATALOG["smollm2-135m-instruct"]
    if not packages_installed(entry):
        pytest.skip("the SmolLM2 weights package is not installed")
    lines: list[str] = []
    path = runner.catalog_gguf(entry.id, tmp_path, lines.append)
    assert path is not None and path.name == entry.gguf_name and sha256_of(path) == entry.sha256
    assert lines == [f"joining {entry.gguf_name} from its packages for the llama.cpp row"]
    # a user's own model or a fine-tuned version has no catalog GGUF: llama.cpp would run other weights
    assert runner.catalog_gguf("tiny-llama", tmp_path) is None
    assert runner.catalog_gguf(f"{entry.id}-v2", tmp_path) is None


def test_the_app_peer_pays_the_prompt_on_every_run(tiny_folder: Path) -> None:
    """Every timed run repeats one prompt: the prefix cache would serve it all, unlike llama.cpp's
    (reset before each run), so the peer runs without it."""
    from adcopy_desktop.bench.peers import OnnxPeer

    peer = OnnxPeer(tiny_folder / "onnx", threads=1)
    assert peer.model.fused and peer.model.prefix_cache is None
    ids = peer.model.tokenizer.encode("a white denim jacket with brass buttons and two pockets " * 3)
    assert peer.stream(ids, 4).tokens == 4


def test_the_long_prompt_has_exactly_the_length_asked(tiny_folder: Path) -> None:
    from adcopy_desktop.core.runtime import ChatTokenizer

    ids = runner.long_prompt_ids(tiny_folder / "onnx", 300)
    assert len(ids) == 300
    start = ChatTokenizer.from_folder(tiny_folder / "onnx").decode(ids[:120])
    assert "denim jacket" in start  # product facts, not padding


def test_without_prefill_the_column_is_left_out(tiny_folder: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "module_present", _hide_llama_cpp)
        report = runner.run_benchmark(
            tiny_folder / "onnx", None, None, new_tokens=2, batch=1, threads=1, repeats=1, prefill_tokens=0
        )
    ours = report["runtimes"]["onnx"]
    assert ours["status"] == "ok" and ours["prefill_tokens"] == 0 and ours["runs"]["prefill_ms"] == []
    assert "prefill" not in runner.format_markdown(report).splitlines()[0]
    with pytest.raises(ValueError, match="prefill_tokens"):
        runner.run_benchmark(tiny_folder / "onnx", None, None, prefill_tokens=-1)


def test_genai_runs_the_apps_own_fused_graph(tiny_folder: Path, tmp_path: Path) -> None:
    """onnxruntime-genai's C++ loop over the same graph and weights: its greedy tokens are ours."""
    pytest.importorskip("onnxruntime_genai")
    from adcopy_desktop.bench.peers import GenaiPeer, OnnxPeer

    folder = runner.prepare_genai_folder(tiny_folder / "onnx", tmp_path / "genai", threads=1)
    config = json.loads((folder / "genai_config.json").read_text())
    hf_config = json.loads((tiny_folder / "onnx" / "config.json").read_text())
    assert config["model"]["decoder"]["num_hidden_layers"] == hf_config["num_hidden_layers"]
    assert config["model"]["decoder"]["session_options"]["intra_op_num_threads"] == 1
    assert config["search"]["past_present_share_buffer"] is True
    assert (folder / "model.onnx.data").stat().st_size == (tiny_folder / "onnx" / "model.onnx.data").stat().st_size

    ids = [1, 17, 42, 99, 7, 3]
    genai = GenaiPeer(folder)
    run = genai.stream(ids, 5)
    assert run.tokens == 5 and 0 < run.first_token_s <= run.elapsed_s
    assert genai.batch(ids, 4, 3).tokens == 12

    import numpy as np

    params = genai.og.GeneratorParams(genai.model)
    params.set_search_options(max_length=len(ids) + 5, min_length=len(ids) + 5, do_sample=False)
    generator = genai.og.Generator(genai.model, params)
    generator.append_tokens(np.array([ids], dtype=np.int32))
    theirs = np.asarray(generator.get_logits()).reshape(-1)
    ours = OnnxPeer(tiny_folder / "onnx", threads=1).model
    mine = np.asarray(ours._new_stepper(1, len(ids) + 5).prefill(ids)).reshape(-1)
    # the same graph and weights: the prompt's next-token logits agree to kernel rounding
    assert theirs.shape == mine.shape
    np.testing.assert_allclose(theirs, mine, atol=1e-3 * float(np.abs(mine).max()))
    assert int(theirs.argmax()) == int(mine.argmax())


def test_genai_row_needs_the_fused_graph(tiny_folder: Path, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "module_present", lambda name: True)
        assert runner._peer_target("genai", tiny_folder / "onnx", None, None) == {"status": "prepare"}
        (tmp_path / "model.onnx").write_bytes(b"not a graph")
        skipped = runner._peer_target("genai", tmp_path, None, None)
    assert skipped["status"] == "skipped" and "fused attention graph" in skipped["reason"]
