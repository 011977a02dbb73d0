"""``adcopy models list`` disk use and ``adcopy models prune``."""

import json
import shutil

from click.testing import CliRunner

from adcopy_desktop.cli import cli
from adcopy_desktop.cli.models import format_bytes


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def version(store, parent_id):
    staging = store.new_version_staging(parent_id)
    shutil.copytree(store.get(parent_id).folder / "hf", staging / "hf")
    shutil.copytree(store.get(parent_id).folder / "onnx", staging / "onnx")
    return store.commit_version(staging, parent_id=parent_id, keep=100, metadata={"training": {"epochs": 1}})


def test_models_list_shows_disk_use(tiny_store):
    [model] = json.loads(run("models", "list", "--format", "json").stdout)
    assert model["disk_bytes"] == tiny_store.get("tiny-llama").disk_bytes > 0
    assert f"{format_bytes(model['disk_bytes'])} on disk" in run("models", "list").stdout


def test_format_bytes():
    assert [format_bytes(n) for n in (512, 1234, 123_456, 1_234_567, 5_600_000_000)] == \
        ["512 B", "1.2 kB", "123 kB", "1.2 MB", "5.6 GB"]


def test_prune_dry_run_asks_before_removing_and_removes_with_yes(tiny_store):
    v1 = version(tiny_store, "tiny-llama")
    v2 = version(tiny_store, v1.id)
    v3 = version(tiny_store, v2.id)
    size = tiny_store.get(v1.id).disk_bytes

    plan = json.loads(run("models", "prune", "--keep", "1", "--dry-run", "--format", "json").stdout)
    assert plan["dry_run"] and [r["id"] for r in plan["removed"]] == [v1.id]
    assert plan["freed_bytes"] == size and {k["id"] for k in plan["kept"]} == {"tiny-llama", v2.id, v3.id}
    text = run("models", "prune", "--keep", "1", "--dry-run").stdout
    assert f"would remove {v1.id}" in text and "dry run: nothing was removed" in text
    assert f"parent of the active model {v3.id}" in text

    refused = run("models", "prune", "--keep", "1", input="n\n")
    assert refused.exit_code == 1 and "Nothing was removed" in refused.output
    assert (tiny_store.root / v1.id).is_dir()

    done = run("models", "prune", "--keep", "1", "--yes")
    assert done.exit_code == 0 and f"removed {v1.id}" in done.stdout and f"{format_bytes(size)} freed" in done.stdout
    assert [m.id for m in tiny_store.list_models()] == ["tiny-llama", v2.id, v3.id]
    assert "Nothing to remove" in run("models", "prune", "--keep", "1", "--yes").stdout

    confirmed = run("models", "prune", "--keep", "1", "--format", "json", input="y\n")
    assert json.loads(confirmed.stdout)["removed"] == []
