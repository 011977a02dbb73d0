"""The models tab: list with size and origin, import with progress (cancellable), choose the active model."""

from adcopy_desktop.core.progress import ProgressEvent

from .conftest import wait_for_job


def test_lists_models_with_size_origin_and_active_mark(qtbot, open_window):
    window = open_window()
    page = window.models_page
    assert [m.id for m in page.models] == ["tiny-llama"]
    texts = [page.table.item(0, column).text() for column in range(page.table.columnCount())]
    assert texts[0] == "●" and texts[1] == "tiny-llama" and texts[3] == "en+zh"
    assert texts[4].endswith(("KB", "MB")) and texts[5] == "ok" and texts[6].startswith("model folder ")
    assert page.build_default_button.isHidden() is False  # the default model is not installed here


def test_import_a_model_folder_with_progress_then_use_it(qtbot, open_window, tiny_hf_model):
    window = open_window()
    page = window.models_page
    progress = []
    job = page.import_model(tiny_hf_model, name="tiny second")
    job.signals.progress.connect(lambda event: progress.append(event))
    assert not page.progress_box.isHidden() and not page.import_folder_button.isEnabled()
    wait_for_job(qtbot, job, timeout=300_000)
    assert job.outcome == "succeeded", window.message_bar.texts()
    assert progress and all(isinstance(event, ProgressEvent) for event in progress)
    assert page.progress_box.isHidden()
    assert sorted(m.id for m in page.models) == ["tiny-llama", "tiny-second"]
    assert page.selected_id() == "tiny-second"
    models = [window.writer.panel.model_box.itemData(i) for i in range(window.writer.panel.model_box.count())]
    assert "tiny-second" in models
    assert page.use_selected()
    assert window.context.store.active_id() == "tiny-second"
    assert "tiny second" in window.model_label.text()
    page.select("tiny-llama")
    assert page.remove_selected()
    assert [m.id for m in page.models] == ["tiny-second"]


def test_a_refused_import_names_the_problem(qtbot, open_window, tmp_path):
    window = open_window()
    folder = tmp_path / "pickles"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}')
    (folder / "pytorch_model.bin").write_bytes(b"not really")
    job = window.models_page.import_model(folder)
    wait_for_job(qtbot, job)
    assert job.outcome == "failed"
    assert window.message_bar.text.startswith("Importing pickles failed")


def test_cancelling_an_import_installs_nothing(qtbot, open_window, tiny_hf_model):
    window = open_window()
    page = window.models_page
    job = page.import_model(tiny_hf_model, name="never")
    page.cancel()
    wait_for_job(qtbot, job, timeout=120_000)
    assert job.outcome == "cancelled"
    assert [m.id for m in window.context.store.list_models()] == ["tiny-llama"]
    assert "nothing was installed" in window.message_bar.text


def test_shows_each_models_licence_and_disk_use(qtbot, open_window):
    from adcopy_desktop.core.model_store.manifest import read_manifest, write_manifest

    window = open_window()
    page = window.models_page
    headers = [page.table.horizontalHeaderItem(c).text() for c in range(page.table.columnCount())]
    licence_at, disk_at = headers.index("Licence"), headers.index("Disk use")
    assert page.table.item(0, licence_at).text() == "-"  # the user's own import: its own model card
    assert page.table.item(0, disk_at).text().endswith(("KB", "MB"))
    folder = page.models[0].folder
    manifest = read_manifest(folder)
    manifest["licence"] = {"name": "Apache-2.0", "url": "https://example.org/LICENSE", "publisher": "Qwen team",
                           "origin": "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"}
    write_manifest(folder, manifest)
    page.refresh()
    cell = page.table.item(0, licence_at)
    assert cell.text() == "Apache-2.0" and "Qwen team" in cell.toolTip() and "example.org" in cell.toolTip()
    assert page.table.item(0, 6).text() == "built in, from Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"


def test_export_for_a_server_runs_in_the_background_and_can_be_cancelled(qtbot, open_window, tmp_path,
                                                                         monkeypatch):
    """The Models tab's "Export for a server…" is adcopy models export: a folder chosen in a dialog
    (an existing one gets a new folder named after the model), progress, Cancel leaving nothing."""
    import json

    from adcopy_desktop.gui import model_manager
    from adcopy_desktop.gui.model_manager import export_destination

    window = open_window()
    page = window.models_page
    assert not page.export_button.isEnabled()  # nothing selected
    page.select("tiny-llama")
    assert page.export_button.isEnabled()

    chosen = tmp_path / "exports"
    chosen.mkdir()
    (chosen / "notes.txt").write_text("mine")
    asked = []
    monkeypatch.setattr(model_manager.QFileDialog, "getExistingDirectory",
                        lambda *args, **kwargs: asked.append(args) or str(chosen))
    progress = []
    job = page.choose_export_folder()
    job.signals.progress.connect(progress.append)
    assert asked and "tiny-llama" in asked[0][1]
    assert not page.progress_box.isHidden() and page.cancel_button.isEnabled()
    assert not page.export_button.isEnabled() and not page.import_folder_button.isEnabled()
    wait_for_job(qtbot, job, timeout=300_000)
    assert job.outcome == "succeeded", window.message_bar.texts()
    out = chosen / "tiny-llama"
    assert page.last_export.folder == out and (out / "model.safetensors").is_file()
    assert json.loads((out / "config.json").read_text())["torch_dtype"] == "float16"
    assert sorted(p.name for p in chosen.iterdir()) == ["notes.txt", "tiny-llama"]  # nothing else touched
    assert {e.stage for e in progress if isinstance(e, ProgressEvent)} >= {"verify", "load", "check", "done"}
    assert page.progress_box.isHidden() and page.export_button.isEnabled()
    assert f"Exported tiny-llama to {out}" in window.message_bar.text and "agree" in window.message_bar.text
    assert export_destination(chosen, "tiny-llama") == chosen / "tiny-llama-2"  # never over an export
    assert export_destination(tmp_path / "new", "tiny-llama") == tmp_path / "new"

    # Cancel while the child loads the model: nothing under the folder, no temporary folder beside it
    target = tmp_path / "cancelled" / "brand-x"
    job = page.export_model("tiny-llama", target)

    def cancel_when_loading(event):
        if isinstance(event, ProgressEvent) and event.stage == "load":
            page.cancel()

    job.signals.progress.connect(cancel_when_loading)
    wait_for_job(qtbot, job, timeout=300_000)
    assert job.outcome == "cancelled"
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert window.message_bar.text == "Export cancelled; nothing was written."
