"""Disk use per model and ``ModelStore.prune``: old trained versions go, never an active model, the
version it was trained from, the base an adapter version runs on, or a base model unless asked
(and then only one built from the catalog)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from adcopy_desktop.core.model_store import ModelStore


def trained_staging(store: ModelStore, parent_id: str):
    """A staging folder filled the way the trainer fills a merged version (hf/ and onnx/)."""
    staging = store.new_version_staging(parent_id)
    parent = store.get(parent_id)
    shutil.copytree(parent.folder / "hf", staging / "hf")
    shutil.copytree(parent.folder / "onnx", staging / "onnx")
    return staging


def commit(store: ModelStore, parent_id: str, *, style=None, activate=True):
    return store.commit_version(trained_staging(store, parent_id), parent_id=parent_id, style=style,
                                activate=activate, keep=100, metadata={"training": {"method": "full"}})


def chain(store: ModelStore, count: int, parent: str = "tiny-llama") -> list[str]:
    ids = []
    for _ in range(count):
        parent = commit(store, parent).id
        ids.append(parent)
    return ids


def files_size(folder) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_every_model_reports_its_disk_use(tiny_store):
    version = commit(tiny_store, "tiny-llama")
    for info in tiny_store.list_models():
        assert info.disk_bytes == files_size(info.folder) > 0
        assert info.to_dict()["disk_bytes"] == info.disk_bytes
    # the folder on disk, not the manifest's list: the manifest itself and the stamp count too
    assert version.disk_bytes >= version.size_bytes


def test_prune_keeps_the_newest_the_active_model_and_its_parent(tiny_store):
    v1, v2, v3, v4, v5 = chain(tiny_store, 5)
    tiny_store.set_active(v3)  # rolled back to v3: v2 is what a further rollback needs
    sizes = {info.id: info.disk_bytes for info in tiny_store.list_models()}

    plan = tiny_store.prune(keep=1, dry_run=True)
    assert plan.dry_run and [r["id"] for r in plan.removed] == [v1, v4]
    assert plan.freed_bytes == sizes[v1] + sizes[v4]
    assert sorted(m.id for m in tiny_store.list_models()) == sorted(["tiny-llama", v1, v2, v3, v4, v5])
    reasons = {k["id"]: k["reason"] for k in plan.kept}
    assert reasons[v3] == "active" and reasons[v2] == f"parent of the active model {v3}"
    assert reasons[v5].startswith("among the 1 newest") and reasons["tiny-llama"].startswith("base model")

    done = tiny_store.prune(keep=1)
    assert not done.dry_run and [r["id"] for r in done.removed] == [v1, v4]
    assert done.freed_bytes == plan.freed_bytes
    assert [m.id for m in tiny_store.list_models()] == ["tiny-llama", v2, v3, v5]
    assert tiny_store.active_id() == v3 and tiny_store.rollback().id == v2
    assert not list(tiny_store.root.glob(".trash-*"))
    json.dumps(done.to_dict())
    # active v2 now: its parent v1 is gone, v3 is neither newest nor needed; then nothing more to do
    assert [r["id"] for r in tiny_store.prune(keep=1).removed] == [v3]
    assert tiny_store.prune(keep=1).removed == []
    assert [m.id for m in tiny_store.list_models()] == ["tiny-llama", v2, v5]


def test_prune_counts_per_style_and_keeps_every_style_pointer(tiny_store):
    g1, g2, g3 = chain(tiny_store, 3)
    s1 = commit(tiny_store, "tiny-llama", style="plain").id
    s2 = commit(tiny_store, s1, style="plain").id
    s3 = commit(tiny_store, s2, style="plain").id
    tiny_store.set_active(s2, style="plain")  # the style rolled back; the global model is g3
    report = tiny_store.prune(keep=1)
    # g3 newest (and active, g2 its parent); s3 newest of the style, s2 the style's active one, s1 its parent
    assert [r["id"] for r in report.removed] == [g1]
    assert {m.id for m in tiny_store.list_models()} == {"tiny-llama", g2, g3, s1, s2, s3}
    assert tiny_store.active_id() == g3 and tiny_store.active_id("plain") == s2


def test_base_models_stay_unless_asked_and_only_catalog_ones_go(tiny_store):
    # a second base, as a catalog build leaves it (its manifest names the catalog entry)
    catalog_base = tiny_store.root / "cat-base"
    shutil.copytree(tiny_store.root / "tiny-llama", catalog_base)
    manifest = json.loads((catalog_base / "manifest.json").read_text())
    manifest.update(id="cat-base", catalog={"id": "cat-base", "sha256": "0" * 64})
    (catalog_base / "manifest.json").write_text(json.dumps(manifest))
    assert "cat-base" in {k["id"] for k in tiny_store.prune(keep=1).kept}

    report = tiny_store.prune(keep=1, dry_run=True, include_bases=True)
    assert [r["id"] for r in report.removed] == ["cat-base"]
    reasons = {k["id"]: k["reason"] for k in report.kept}
    assert reasons["tiny-llama"].startswith("active")

    # a catalog base under the active model's parent, or the active one itself, stays
    tiny_store.set_active("cat-base")
    reasons = {k["id"]: k["reason"] for k in tiny_store.prune(keep=1, include_bases=True).kept}
    assert reasons["cat-base"] == "active"
    assert reasons["tiny-llama"].startswith("imported base model")
    version = commit(tiny_store, "cat-base")
    assert "cat-base" in {k["id"] for k in tiny_store.prune(keep=1, include_bases=True).kept}  # parent of active
    tiny_store.set_active("tiny-llama")
    shutil.rmtree(version.folder)
    removed = tiny_store.prune(keep=1, include_bases=True)
    assert [r["id"] for r in removed.removed] == ["cat-base"] and not catalog_base.exists()


def test_an_adapter_version_keeps_its_base(tiny_store):
    np = pytest.importorskip("numpy")
    from adcopy_desktop.core.runtime.lora import save_adapter

    catalog_base = tiny_store.root / "cat-base"
    shutil.copytree(tiny_store.root / "tiny-llama", catalog_base)
    manifest = json.loads((catalog_base / "manifest.json").read_text())
    manifest.update(id="cat-base", catalog={"id": "cat-base"})
    (catalog_base / "manifest.json").write_text(json.dumps(manifest))
    staging = tiny_store.new_version_staging("cat-base")
    rng = np.random.default_rng(0)
    save_adapter(staging, {"model.layers.0.mlp.up_proj": (rng.normal(0, 0.5, (2, 64)).astype(np.float32),
                                                          rng.normal(0, 0.5, (128, 2)).astype(np.float32))},
                 base="cat-base")
    adapter = tiny_store.commit_version(staging, parent_id="cat-base", activate=False, keep=100,
                                        metadata={"training": {"method": "lora"}})
    assert adapter.disk_bytes < tiny_store.get("cat-base").disk_bytes / 10  # megabytes over a shared base
    report = tiny_store.prune(keep=1, include_bases=True)
    assert report.removed == []
    reasons = {k["id"]: k["reason"] for k in report.kept}
    assert reasons["cat-base"] == f"base model that the adapter version(s) {adapter.id} run on"


def test_a_damaged_folder_is_left_alone(tiny_store):
    v1, v2, v3 = chain(tiny_store, 3)
    os.remove(tiny_store.root / v1 / "manifest.json")
    report = tiny_store.prune(keep=1)
    assert report.removed == [] and (tiny_store.root / v1).is_dir()  # v2: the active v3's parent
    assert {k["id"]: k["reason"] for k in report.kept}[v1].startswith("damaged")
