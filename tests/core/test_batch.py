"""Bulk generation over a library selection: progress with ETA, stop, resume, failures kept apart."""

import pytest

from adcopy_desktop.core.batch import BatchError, BatchOptions, job_key, plan_batch, run_batch
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.plugins.testing import plugin_manager_for, scripted_backend
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.progress import CancelToken


def _library(tmp_path, texts):
    library = Library(tmp_path / "lib.sqlite3")
    ids = [library.add_product(parse_product(text)) for text in texts]
    return library, ids


EN = ["Type: linen shirt\nColor: white", "Type: wool hat\nColor: grey", "Type: mug\nMaterial: ceramic"]


def test_every_product_and_kind_is_generated_and_stored(tmp_path, tiny_store):
    library, ids = _library(tmp_path, EN)
    options = BatchOptions(kinds=("title", "description"), n=2, language="en", seed=3)
    job_id, resumed = plan_batch(library, ids, options)
    events = []
    status = run_batch(library, CopyGenerator(tiny_store), job_id, progress=events.append)
    assert not resumed and (status.done, status.failed, status.total, status.stopped) == (6, 0, 6, False)
    assert status.products_per_minute > 0 and events[-1].stage == "done"
    assert any("left" in e.message for e in events if e.stage == "batch")  # an ETA while items remain
    for product_id in ids:
        stored = library.candidates(product_id=product_id)
        assert sorted({c.kind for c in stored}) == ["description", "title"] and len(stored) == 4
    assert library.batch_job(job_id).status == "finished"
    assert all(item.generation_id for item in library.batch_items(job_id))
    library.close()


def _scripted(languages=("zh", "en")):
    backend = scripted_backend(lambda call, messages, settings: [f"copy {chr(97 + call % 26)}"] * settings.n, languages=languages)
    return CopyGenerator(plugins=plugin_manager_for(backend), backend="scripted"), backend


def test_stop_then_resume_continues_where_it_stopped(tmp_path):
    library, ids = _library(tmp_path, EN)
    options = BatchOptions(kinds=("title",), n=1)
    job_id, _ = plan_batch(library, ids, options)
    generator, backend = _scripted()
    cancel = CancelToken()

    def stop_after_first(status):
        if status.done == 1:
            cancel.cancel()

    first = run_batch(library, generator, job_id, cancel=cancel, on_status=stop_after_first)
    assert first.stopped and first.done == 1 and library.batch_job(job_id).status == "stopped"
    again, resumed = plan_batch(library, ids, options)  # the same selection and options
    assert (again, resumed) == (job_id, True)
    second = run_batch(library, generator, job_id)
    assert (second.done, second.done_this_run, second.stopped) == (3, 2, False)
    generated_for = [c.product_id for c in library.candidates()]
    assert sorted(generated_for) == sorted(ids)  # nothing generated twice
    assert len(backend.calls) == 3
    library.close()


def test_failures_are_recorded_and_retried_on_resume(tmp_path):
    library, ids = _library(tmp_path, [EN[0], "类型#上衣*颜色#白色"])
    job_id, _ = plan_batch(library, ids, BatchOptions(kinds=("title",), n=1))
    english_only, _ = _scripted(languages=("en",))
    status = run_batch(library, english_only, job_id)
    assert (status.done, status.failed) == (1, 1) and "product #2 title" in status.errors[0]
    assert library.batch_job(job_id).status == "stopped"  # not finished while an item failed
    both, _ = _scripted()
    status = run_batch(library, both, job_id)
    assert (status.done, status.failed) == (2, 0) and library.batch_job(job_id).status == "finished"
    library.close()


def test_options_are_checked_and_identify_the_job():
    with pytest.raises(BatchError, match="Unknown copy kind"):
        BatchOptions(kinds=("poem",))
    with pytest.raises(BatchError, match="between 1 and 16"):
        BatchOptions(n=0)
    a = BatchOptions(kinds=("title", "标题", "description"))
    assert a.kinds == ("title", "description")
    assert job_key(a, catalog="x.csv") == job_key(BatchOptions.from_dict(a.to_dict()), catalog="x.csv")
    assert job_key(a, catalog="x.csv") != job_key(BatchOptions(kinds=("title",)), catalog="x.csv")


def test_no_products_is_an_error(tmp_path):
    with Library(tmp_path / "lib.sqlite3") as library, pytest.raises(BatchError, match="no products"):
        plan_batch(library, [], BatchOptions())


def test_local_items_run_batched_together_and_write_what_one_at_a_time_writes(tmp_path, tiny_store):
    """Continuous batching: with the tiny model's fused graph, two items decode as one batch, and
    each item's candidates (seeded) are the ones a run of one item at a time stores."""
    from adcopy_desktop.core.batch import LOCAL_ITEMS_AT_ONCE, batch_workers

    options = BatchOptions(kinds=("title", "description"), n=2, language="en", seed=3)
    stored = {}
    for name, wanted in (("alone", 1), ("batched", None)):
        library, ids = _library(tmp_path / name, EN)
        job_id, _ = plan_batch(library, ids, options)
        generator = CopyGenerator(tiny_store)
        workers, note = batch_workers(generator, options.n, wanted)
        assert note is None
        status = run_batch(library, generator, job_id, workers=workers)
        assert (status.done, status.failed) == (6, 0)
        stored[name] = sorted((c.product_id, c.kind, c.text) for c in library.candidates())
        if name == "batched":
            assert workers == LOCAL_ITEMS_AT_ONCE and generator.backend.model.batcher.peak_rows > options.n
        library.close()
    assert stored["batched"] == stored["alone"]


def test_a_server_backend_keeps_its_own_capacity():
    from adcopy_desktop.core.batch import batch_workers

    generator, backend = _scripted()
    assert batch_workers(generator, 3) == (int(getattr(backend, "capacity", 1) or 1), None)
    assert batch_workers(generator, 3, 5) == (5, None)
