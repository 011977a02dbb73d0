import dataclasses
import json

import pytest

from adcopy_desktop.core.errors import Cancelled, CorruptModelError, ModelError, ModelNotReadyError
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.model_store import store as store_module
from adcopy_desktop.core.model_store.sources import ModelSource
from adcopy_desktop.core.progress import CancelToken


def test_import_builds_a_checked_onnx_model(tiny_models_root):
    store = ModelStore(tiny_models_root)
    [info] = store.list_models()
    assert info.id == "tiny-llama" and info.active and info.problem is None
    assert info.architecture == "llama"
    assert (info.runtime_folder / "model.onnx").is_file()
    assert (info.runtime_folder / "tokenizer.json").is_file()
    assert (info.folder / "hf" / "model.safetensors").is_file()
    manifest = json.loads((info.folder / "manifest.json").read_text())
    assert manifest["export_check"]["next_token_agreement"] >= 0.95
    assert manifest["source"]["kind"] == "hf"
    assert info.size_bytes == sum(f["size"] for f in manifest["files"].values())
    store.verified(info.id, full=True)


def test_no_model_gives_a_clear_error(tmp_path):
    with pytest.raises(ModelNotReadyError, match="adcopy models build"):
        ModelStore(tmp_path / "models").active_model()


def test_damaged_model_is_reported_not_loaded(tiny_store):
    info = tiny_store.active_model()
    onnx = info.runtime_folder / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-10])
    with pytest.raises(CorruptModelError, match="model.onnx"):
        tiny_store.verified(info.id)
    (info.folder / "manifest.json").unlink()
    [listed] = tiny_store.list_models()
    assert listed.problem and "not completely built" in listed.problem
    assert listed.to_dict()["status"].startswith("damaged")


def test_second_import_gets_its_own_id_and_use_switches(tiny_store, tiny_hf_model):
    info = tiny_store.import_model(tiny_hf_model, name="tiny-llama")
    assert info.id == "tiny-llama-2" and not info.active
    tiny_store.set_active("tiny-llama-2")
    assert tiny_store.active_id() == "tiny-llama-2"
    with pytest.raises(ModelError, match="active model"):
        tiny_store.remove("tiny-llama-2")
    tiny_store.remove("tiny-llama")
    assert [m.id for m in tiny_store.list_models()] == ["tiny-llama-2"]
    with pytest.raises(ModelError, match="no model 'tiny-llama'"):
        tiny_store.get("tiny-llama")


def test_cancelled_build_leaves_nothing_behind(tmp_path, tiny_hf_model):
    store = ModelStore(tmp_path / "models")
    cancel = CancelToken()

    def cancel_once_loading(event):
        if event.stage == "load":
            cancel.cancel()

    with pytest.raises(Cancelled):
        store.import_model(tiny_hf_model, progress=cancel_once_loading, cancel=cancel)
    assert [p.name for p in store.root.iterdir()] == []
    assert store.list_models() == []


def test_failed_build_reports_the_reason_and_keeps_the_old_model(tiny_store, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (bad / "model.safetensors").write_bytes(b"not really weights")
    (bad / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match="Could not build") as info:
        tiny_store.import_model(bad)
    assert "build-" in str(info.value)  # points at the log
    assert [m.id for m in tiny_store.list_models()] == ["tiny-llama"]
    assert not list(tiny_store.root.glob(".build-*"))


def test_leftovers_of_a_killed_build_are_cleaned(tiny_store, tiny_hf_model):
    stale = tiny_store.root / ".build-ghost-123"
    stale.mkdir()
    (stale / ".owner").write_text("999999999")
    (stale / "model.onnx").write_bytes(b"half")
    tiny_store.import_model(tiny_hf_model, name="again")
    assert not stale.exists()


def test_damaged_default_model_is_rebuilt(tiny_store, tiny_hf_model, monkeypatch):
    from adcopy_desktop.core.model_store import catalog

    tiny = dataclasses.replace(catalog.CATALOG[catalog.DEFAULT_MODEL_ID], id="tiny-llama", name="tiny")
    monkeypatch.setattr(store_module, "catalog_model", lambda name=None: tiny)
    monkeypatch.setattr(store_module, "assemble", lambda model, work, progress=None: tiny_hf_model)
    monkeypatch.setattr(store_module, "source_for", lambda model, path: ModelSource("hf", path, "llama", "tiny"))
    info = tiny_store.get("tiny-llama")
    (info.runtime_folder / "model.onnx").write_bytes(b"garbage")
    events = []
    rebuilt = tiny_store.ensure_default_model(progress=events.append)
    assert any("damaged" in e.message for e in events)
    tiny_store.verified(rebuilt.id, full=True)
    assert rebuilt.active


def test_qwen2_folder_imports_and_writes_chinese(tmp_path):
    """The path a merchant takes to get Chinese copy: import a Qwen2-architecture folder."""
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyKind, CopyRequest
    from tests.model_factory import build_tiny_model

    folder = build_tiny_model(tmp_path / "tiny-qwen2", architecture="qwen2")
    store = ModelStore(tmp_path / "models")
    info = store.import_model(folder, languages=["zh", "en"], activate=True)
    assert info.architecture == "qwen2" and info.languages == ["zh", "en"]
    request = CopyRequest(parse_product("类型#上衣*材质#牛仔布"), CopyKind.TITLE)
    candidates = CopyGenerator(store).generate(request, GenerationSettings(n=2, max_new_tokens=6, seed=1))
    assert [c.language for c in candidates] == ["zh", "zh"]
    assert all(c.model == info.id and c.timings.new_tokens > 0 for c in candidates)


def test_builds_take_the_default_precision_and_int4_quantises_every_matmul(
    tiny_models_root, tiny_hf_model, tmp_path
):
    import onnx

    from adcopy_desktop.core.model_store.store import DEFAULT_PRECISION

    def op_types(info):
        graph = onnx.load(str(info.runtime_folder / "model.onnx"), load_external_data=False).graph
        return {node.op_type for node in graph.node}

    default = ModelStore(tiny_models_root).active_model()
    assert json.loads((default.folder / "manifest.json").read_text())["precision"] == DEFAULT_PRECISION

    store = ModelStore(tmp_path / "models")
    exact = store.import_model(tiny_hf_model, name="exact", precision="fp32")
    assert "MatMulNBits" not in op_types(exact)
    int4 = store.import_model(tiny_hf_model, precision="int4")
    manifest = json.loads((int4.folder / "manifest.json").read_text())
    assert manifest["precision"] == "int4" and "MatMulNBits" in op_types(int4)
    graph = onnx.load(str(int4.runtime_folder / "model.onnx"), load_external_data=False).graph
    quantised = sum(node.op_type == "MatMulNBits" for node in graph.node)
    assert quantised == 2 * 7 + 1  # q, k, v, o, gate, up, down per layer, and the tied lm_head
    assert manifest["export_check"]["int4_in_float_top5"] >= 0.75
    assert int4.size_bytes < exact.size_bytes
    with pytest.raises(ModelError, match="Unknown precision"):
        store.import_model(tiny_hf_model, precision="int2")


def test_a_build_without_weights_keeps_only_what_generation_and_scoring_read(tmp_path, tiny_hf_model):
    """Catalog builds leave out hf/ (training rebuilds the weights from the packages): the folder
    holds the ONNX graph, its tokenizer and a bfloat16 embedding table for the quality scorer."""
    import numpy as np
    from safetensors.numpy import load_file

    from adcopy_desktop.core.quality_model import TokenEmbedding
    from adcopy_desktop.core.training.config import TrainingConfig
    from adcopy_desktop.core.training.pipeline import run_training
    from adcopy_desktop.core.training.config import TrainingError
    from adcopy_desktop.core.model_store.sources import inspect_source

    store = ModelStore(tmp_path / "models")
    info = store.build(inspect_source(tiny_hf_model), model_id="slim", name="slim", keep_weights=False,
                       precision="fp32")
    assert sorted(p.name for p in info.folder.iterdir() if p.is_dir()) == ["embeddings", "onnx"]
    manifest = json.loads((info.folder / "manifest.json").read_text())
    assert manifest["weights"] == "source" and not any(name.startswith("hf/") for name in manifest["files"])
    store.verified(info.id, full=True)
    full = load_file(str(tiny_hf_model / "model.safetensors"))["model.embed_tokens.weight"]
    embedding = TokenEmbedding.for_model("slim", store)
    assert embedding.table.shape == full.shape
    assert np.allclose(embedding.table.rows(np.arange(5)), full[:5], atol=1e-2)
    store.set_active("slim")
    with pytest.raises(TrainingError, match="no hf/ weights folder"):  # not a catalog model: nothing to rebuild from
        run_training(TrainingConfig(), store=store, data_file=tmp_path / "missing.jsonl")
