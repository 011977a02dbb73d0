"""The one background-work abstraction: results, progress and errors reach the UI thread through
signals; cancel works; failures name the job."""

import threading
import time

from adcopy_desktop.core.errors import Cancelled, ModelError
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.gui.worker import BackgroundJob, JobTracker

from .conftest import wait_for_job


def record(job: BackgroundJob) -> list:
    seen = []
    ui_thread = threading.get_ident()
    for name in ("progress", "succeeded", "failed"):
        getattr(job.signals, name).connect(
            lambda value, name=name: seen.append((name, value, threading.get_ident() == ui_thread)))
    job.signals.cancelled.connect(lambda: seen.append(("cancelled", None, threading.get_ident() == ui_thread)))
    job.signals.finished.connect(lambda: seen.append(("finished", None, threading.get_ident() == ui_thread)))
    return seen


def test_progress_and_result_arrive_on_the_ui_thread_in_order(qtbot):
    worker_threads = []

    def task(report, cancel):
        worker_threads.append(threading.get_ident())
        for step in range(3):
            report(ProgressEvent("step", f"step {step}", step / 3))
        return "done"

    job = BackgroundJob("Counting", task)
    seen = record(job)
    job.start()
    wait_for_job(qtbot, job)
    assert worker_threads and worker_threads[0] != threading.get_ident()
    assert [name for name, _, _ in seen] == ["progress"] * 3 + ["succeeded", "finished"]
    assert all(on_ui for _, _, on_ui in seen)
    assert seen[3][1] == "done" and job.result == "done" and job.outcome == "succeeded"


def test_failures_name_the_job(qtbot):
    def user_error(report, cancel):
        raise ModelError("the model folder has no config.json")

    def bug(report, cancel):
        return {}["missing"]

    for task, expected in ((user_error, "Importing a model failed: the model folder has no config.json"),
                           (bug, "Importing a model failed unexpectedly: KeyError: 'missing'")):
        job = BackgroundJob("Importing a model", task)
        seen = record(job)
        job.start()
        wait_for_job(qtbot, job)
        assert [(name, value) for name, value, _ in seen] == [("failed", expected), ("finished", None)]
        assert job.error == expected and job.outcome == "failed"


def test_cancel_is_seen_by_the_task_between_steps(qtbot):
    started = threading.Event()

    def task(report, cancel):
        started.set()
        while not cancel.cancelled:
            time.sleep(0.005)
        raise Cancelled("stopped")

    job = BackgroundJob("Waiting", task)
    seen = record(job)
    job.start()
    assert started.wait(5)
    job.cancel()
    wait_for_job(qtbot, job)
    assert [name for name, _, _ in seen] == ["cancelled", "finished"] and job.outcome == "cancelled"


def test_a_task_that_returns_after_cancel_reports_both(qtbot):
    def task(report, cancel):
        cancel.cancel()
        return ["partial"]

    job = BackgroundJob("Partial", task)
    seen = record(job)
    job.start()
    wait_for_job(qtbot, job)
    assert [name for name, _, _ in seen] == ["cancelled", "succeeded", "finished"]


def test_the_tracker_keeps_jobs_until_they_finish_and_cancels_them_together(qtbot):
    tracker = JobTracker()
    busy = []
    tracker.busy_changed.connect(busy.append)
    release = threading.Event()

    def slow(report, cancel):
        while not (cancel.cancelled or release.is_set()):
            time.sleep(0.005)
        return "ok"

    first = tracker.start(BackgroundJob("First", slow, kind="generation"))
    second = tracker.start(BackgroundJob("Second", slow, kind="model"))
    assert tracker.busy and [j.name for j in tracker.running("generation")] == ["First"]
    tracker.cancel_all()
    assert tracker.wait_all(5)
    wait_for_job(qtbot, first)
    wait_for_job(qtbot, second)
    assert not tracker.busy and busy == [True, False]
    assert first.cancelled and second.cancelled


def test_a_failure_is_logged_whole_in_the_interface_language(qtbot, caplog):
    """The log line is the message the user reads: in Chinese "加载模型失败：…", never "加载模型 failed: …"."""
    import logging

    from PySide6.QtCore import QCoreApplication

    from adcopy_desktop.gui.i18n import CHINESE, install_interface_language

    def user_error(report, cancel):
        raise ModelError("the model folder has no config.json")

    def bug(report, cancel):
        return {}["missing"]

    install_interface_language(CHINESE)
    name = QCoreApplication.translate("AppContext", "Loading the model")
    assert name == "加载模型"
    with caplog.at_level(logging.WARNING, logger="adcopy.gui.worker"):
        for task in (user_error, bug):
            job = BackgroundJob(name, task)
            job.start()
            wait_for_job(qtbot, job)
    messages = [record.getMessage() for record in caplog.records if record.name == "adcopy.gui.worker"]
    assert messages[0] == "加载模型失败：the model folder has no config.json"
    assert messages[1].startswith("加载模型意外失败：KeyError: 'missing'\nTraceback")
    assert not any("failed" in message or "crashed" in message for message in messages)
