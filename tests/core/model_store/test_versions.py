"""Model versions: staging, commit (manifest last, atomic pointer), pruning, rollback, per-style
pointers, and kills at every step of a commit (a child process that SIGKILLs itself)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from adcopy_desktop.core.errors import CorruptModelError, ModelError
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.model_store.store import COMMIT_STEPS, CRASH_AT_ENV


def trained_staging(store: ModelStore, parent_id: str):
    """A staging folder filled the way the trainer fills it (hf/ and onnx/ of a real model)."""
    staging = store.new_version_staging(parent_id)
    parent = store.get(parent_id)
    shutil.copytree(parent.folder / "hf", staging / "hf")
    shutil.copytree(parent.folder / "onnx", staging / "onnx")
    return staging


def gate(old_loss: float, new_loss: float) -> dict:
    return {"old": {"held_out_loss": old_loss}, "new": {"held_out_loss": new_loss}, "margin": 0.0,
            "decision": "accepted", "reasons": []}


def commit(store: ModelStore, parent_id: str, *, loss: float = 1.0, style=None, keep=None, activate=True):
    staging = trained_staging(store, parent_id)
    return store.commit_version(staging, parent_id=parent_id, style=style, activate=activate, keep=keep,
                                metadata={"training": {"method": "lora", "examples": 12},
                                          "evaluation": gate(loss + 0.5, loss)})


def test_commit_installs_a_verified_version_and_moves_the_pointer(tiny_store):
    staging = trained_staging(tiny_store, "tiny-llama")
    assert staging.name.startswith(".build-") and (staging / ".owner").read_text() == str(os.getpid())
    assert "tiny-llama" == tiny_store.active_id()
    info = tiny_store.commit_version(staging, parent_id="tiny-llama",
                                     metadata={"training": {"epochs": 2}, "evaluation": gate(2.0, 1.5)})
    assert info.id == "tiny-llama-v1" and info.version == 1
    assert (info.base, info.parent, info.style) == ("tiny-llama", "tiny-llama", None)
    assert info.training == {"epochs": 2}
    assert info.held_out_metrics("new") == {"held_out_loss": 1.5}
    assert info.held_out_metrics("old") == {"held_out_loss": 2.0}
    assert info.architecture == "llama" and info.languages == ["en", "zh"]  # inherited from the parent
    assert info.active and tiny_store.active_id() == "tiny-llama-v1"
    assert not staging.exists()
    manifest = json.loads((info.folder / "manifest.json").read_text())
    assert ".owner" not in manifest["files"] and "onnx/model.onnx" in manifest["files"]
    tiny_store.verified(info.id, full=True)
    pointer = json.loads((tiny_store.root / "active.json").read_text())
    assert pointer == {"model": "tiny-llama-v1"}  # the old shape, readable by older versions
    second = commit(tiny_store, info.id)
    assert (second.id, second.version, second.parent, second.base) == ("tiny-llama-v2", 2, "tiny-llama-v1",
                                                                       "tiny-llama")
    assert second.name.endswith(" v2") and " v1 v2" not in second.name
    assert [m.id for m in tiny_store.versions("tiny-llama-v2")] == ["tiny-llama", "tiny-llama-v1", "tiny-llama-v2"]


def test_commit_without_activation_keeps_the_pointer(tiny_store):
    info = commit(tiny_store, "tiny-llama", activate=False)
    assert not info.active and tiny_store.active_id() == "tiny-llama"


def test_incomplete_staging_is_refused_and_discard_removes_it(tiny_store):
    staging = tiny_store.new_version_staging("tiny-llama")
    (staging / "onnx").mkdir()
    with pytest.raises(ModelError, match="model.onnx"):
        tiny_store.commit_version(staging, parent_id="tiny-llama", metadata={})
    tiny_store.discard_staging(staging)
    assert not staging.exists()
    with pytest.raises(ModelError, match="not a staging folder"):
        tiny_store.discard_staging(tiny_store.root / "tiny-llama")
    assert tiny_store.active_id() == "tiny-llama" and [m.id for m in tiny_store.list_models()] == ["tiny-llama"]


def test_old_versions_are_pruned_but_never_an_active_one(tiny_store):
    v1 = commit(tiny_store, "tiny-llama", keep=2)
    tiny_store.set_active(v1.id, style="qingshan")  # a style still uses v1
    v2 = commit(tiny_store, v1.id, keep=2)
    v3 = commit(tiny_store, v2.id, keep=2)
    v4 = commit(tiny_store, v3.id, keep=2)
    ids = [m.id for m in tiny_store.list_models()]
    assert ids == ["tiny-llama", "tiny-llama-v1", "tiny-llama-v3", "tiny-llama-v4"]  # v2 pruned, v1 in use
    assert tiny_store.active_id() == v4.id and tiny_store.active_id("qingshan") == v1.id
    tiny_store.clear_style("qingshan")
    commit(tiny_store, v4.id, keep=2)
    assert [m.id for m in tiny_store.list_models()] == ["tiny-llama", "tiny-llama-v4", "tiny-llama-v5"]


def test_a_commit_never_prunes_the_parent_of_the_active_model(tiny_store):
    v1 = commit(tiny_store, "tiny-llama", keep=3)
    v2 = commit(tiny_store, v1.id, keep=3)
    commit(tiny_store, v2.id, keep=3)
    assert tiny_store.rollback(v2.id).id == v2.id  # v2 is active again; rollback from it goes to v1
    commit(tiny_store, v2.id, keep=2, activate=False)  # v4: trained, installed, not made active
    ids = [m.id for m in tiny_store.list_models()]
    assert ids == ["tiny-llama", "tiny-llama-v1", "tiny-llama-v2", "tiny-llama-v3", "tiny-llama-v4"]
    assert tiny_store.rollback().id == v1.id  # still there to roll back to
    report = tiny_store.prune(keep=2, dry_run=True)  # the manual prune follows the same rules
    assert {r["id"] for r in report.removed} == {"tiny-llama-v2"}


def test_keep_versions_comes_from_the_settings(tiny_store):
    from adcopy_desktop.core.settings import Settings, save_settings

    settings = Settings()
    if not hasattr(settings, "keep_model_versions"):
        pytest.skip("settings without keep_model_versions")
    settings.keep_model_versions = 1
    save_settings(settings)
    v1 = commit(tiny_store, "tiny-llama")
    v2 = commit(tiny_store, v1.id)
    commit(tiny_store, v2.id)
    # the newest one, and the active one's parent (what rollback returns to)
    assert [m.id for m in tiny_store.list_models()] == ["tiny-llama", "tiny-llama-v2", "tiny-llama-v3"]


def test_rollback_to_the_parent_or_a_named_version(tiny_store):
    v1 = commit(tiny_store, "tiny-llama")
    v2 = commit(tiny_store, v1.id)
    assert tiny_store.rollback().id == v1.id
    assert tiny_store.active_id() == v1.id
    assert tiny_store.rollback().id == "tiny-llama"
    with pytest.raises(ModelError, match="base model"):
        tiny_store.rollback()
    assert tiny_store.rollback(v2.id).id == v2.id and tiny_store.active_id() == v2.id
    with pytest.raises(ModelError, match="no model 'nope'"):
        tiny_store.rollback("nope")
    onnx = v1.runtime_folder / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-4])
    with pytest.raises(CorruptModelError):
        tiny_store.rollback(v1.id)
    assert tiny_store.active_id() == v2.id  # a damaged version never becomes active


def test_a_style_has_its_own_pointer_and_rollback(tiny_store):
    styled = commit(tiny_store, "tiny-llama", style="qingshan")
    assert styled.style == "qingshan" and styled.active_styles == ["qingshan"] and not styled.active
    assert tiny_store.active_id() == "tiny-llama"
    assert tiny_store.active_id("qingshan") == styled.id
    assert tiny_store.active_id("plain") == "tiny-llama"
    assert tiny_store.active_model("qingshan").id == styled.id
    pointer = json.loads((tiny_store.root / "active.json").read_text())
    assert pointer == {"model": "tiny-llama", "styles": {"qingshan": styled.id}}
    with pytest.raises(ModelError, match="style"):
        tiny_store.remove(styled.id)
    assert tiny_store.rollback(style="qingshan").id == "tiny-llama"
    assert tiny_store.active_id("qingshan") == "tiny-llama" and tiny_store.active_id() == "tiny-llama"


def test_pointer_to_a_missing_folder_or_garbage_reads_as_none(tiny_store):
    (tiny_store.root / "active.json").write_text('{"model": "gone", "styles": {"x": "gone", "y": 3}}')
    assert tiny_store.active_id() is None and tiny_store.active_id("x") is None
    (tiny_store.root / "active.json").write_text("[not json")
    assert tiny_store.active_id() is None
    tiny_store.set_active("tiny-llama")
    assert tiny_store.active_id("x") == "tiny-llama"


def test_stale_staging_of_a_dead_process_is_swept(tiny_store):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tiny_store.root / ".build-tiny-llama-train-dead"
    (leftover / "onnx").mkdir(parents=True)
    (leftover / ".owner").write_text(dead.stdout.strip())
    mine = tiny_store.new_version_staging("tiny-llama")
    assert not leftover.exists() and mine.exists()
    tiny_store.remove_stale_staging()
    assert mine.exists()  # its owner (this process) is alive


CHILD = textwrap.dedent("""
    import shutil, sys
    from pathlib import Path
    from adcopy_desktop.core.model_store import ModelStore
    store = ModelStore(Path(sys.argv[1]))
    parent = store.active_id()
    staging = store.new_version_staging(parent)
    shutil.copytree(store.get(parent).folder / "hf", staging / "hf")
    shutil.copytree(store.get(parent).folder / "onnx", staging / "onnx")
    (staging / ".owner").unlink()  # as the training pipeline hands the folder over
    store.commit_version(staging, parent_id=parent, keep=1,
                         metadata={"evaluation": {"decision": "accepted"}})
    print("committed")
""")


@pytest.mark.parametrize("step", COMMIT_STEPS)
def test_a_kill_after_any_commit_step_leaves_a_loadable_active_model(tiny_store, step):
    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyKind, CopyRequest

    # v1 is neither among the newest nor the new active model's parent: pruning removes it at "commit:pruning"
    first = commit(tiny_store, commit(tiny_store, "tiny-llama").id)
    env = {**os.environ, CRASH_AT_ENV: step}
    result = subprocess.run([sys.executable, "-c", CHILD, str(tiny_store.root)], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == -9, result.stderr  # it killed itself at the step
    active = tiny_store.active_id()
    expected_new = COMMIT_STEPS.index(step) >= COMMIT_STEPS.index("commit:activated")
    assert active == ("tiny-llama-v3" if expected_new else first.id)
    info = tiny_store.verified(active, full=True)
    assert info.problem is None
    request = CopyRequest(parse_product("Type: jacket\nColor: white"), CopyKind.TITLE, language="en")
    [candidate] = CopyGenerator(tiny_store).generate(
        request, GenerationSettings(n=1, max_new_tokens=4, temperature=0.0), score=False)
    assert candidate.model == active
    tiny_store.remove_stale_staging()  # the next training's first step
    assert not list(tiny_store.root.glob(".build-*")) and not list(tiny_store.root.glob(".trash-*"))


def test_a_staging_folder_whose_owner_file_was_removed_is_owned_again_by_the_commit(tiny_store):
    staging = trained_staging(tiny_store, "tiny-llama")
    (staging / ".owner").unlink()  # the trainer hands the folder over before committing
    info = tiny_store.commit_version(staging, parent_id="tiny-llama", metadata={})
    assert not (info.folder / ".owner").exists()
    assert ".owner" not in json.loads((info.folder / "manifest.json").read_text())["files"]


def test_an_adapter_version_runs_on_its_base_and_keeps_the_base_from_removal(tiny_store):
    import numpy as np

    from adcopy_desktop.core.candidates import GenerationSettings
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.product import parse_product
    from adcopy_desktop.core.prompts import CopyRequest
    from adcopy_desktop.core.runtime.lora import save_adapter

    base = tiny_store.active_model()
    staging = tiny_store.new_version_staging(base.id)
    rng = np.random.default_rng(0)
    save_adapter(staging, {"model.layers.0.mlp.up_proj": (rng.normal(0, 0.5, (2, 64)).astype(np.float32),
                                                          rng.normal(0, 0.5, (128, 2)).astype(np.float32))},
                 base=base.id)
    version = tiny_store.commit_version(staging, parent_id=base.id, metadata={"training": {"method": "lora"}})
    assert version.adapter["rank"] == 2 and version.adapter["bytes"] < 100_000
    assert version.runtime_folder == base.folder / "onnx" and version.adapter_folder == version.folder / "adapter"
    assert not (version.folder / "onnx").exists() and not (version.folder / "hf").exists()
    assert tiny_store.verified(version.id).id == version.id

    request = CopyRequest(parse_product("Type: scarf\nColor: navy"), "title", "en")
    settings = GenerationSettings(n=1, temperature=0.0, seed=0, max_new_tokens=12)
    adapted = CopyGenerator(tiny_store, model_id=version.id).generate(request, settings, score=False,
                                                                     fact_retries=0)[0].text
    plain = CopyGenerator(tiny_store, model_id=base.id).generate(request, settings, score=False,
                                                                fact_retries=0)[0].text
    assert adapted != plain  # the adapter is applied at load time

    tiny_store.set_active(version.id)
    with pytest.raises(ModelError, match="base model that the adapter version"):
        tiny_store.remove(base.id)
    (tiny_store.root / base.id / "onnx" / "model.onnx").write_bytes(b"damaged")
    with pytest.raises(CorruptModelError):
        tiny_store.verified(version.id)
