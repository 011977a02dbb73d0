import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from adcopy_desktop.core.candidates import Candidate, GenerationSettings
from adcopy_desktop.core.library import MIGRATIONS, Library, LibraryError
from adcopy_desktop.core.product import parse_product


def make_candidates(n=3, kind="title"):
    settings = GenerationSettings(n=n, seed=4)
    return [
        Candidate(text=f"copy {i}", kind=kind, model="tiny", language="en", index=i, settings=settings,
                  style="qingshan")
        for i in range(n)
    ]


@pytest.fixture
def library(tmp_path):
    with Library(tmp_path / "library.sqlite3") as lib:
        yield lib


def test_new_library_is_wal_and_migrated(library):
    assert library.schema_version == len(MIGRATIONS)
    mode = library._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_products_keep_repeated_keys_and_can_be_searched(library):
    product = parse_product("类型#上衣*风格#简约*风格#休闲")
    pid = library.add_product(product, external_id="sku-1")
    stored = library.get_product(pid)
    assert stored.product.attributes == product.attributes and stored.external_id == "sku-1"
    library.add_product(parse_product("Type: denim jacket"))
    assert [p.id for p in library.list_products("休闲")] == [pid]
    assert len(library.list_products()) == 2
    library.update_product(pid, parse_product("类型#外套"))
    assert library.get_product(pid).product.values("类型") == ["外套"]
    library.delete_product(pid)
    assert [p.product.values("Type") for p in library.list_products()] == [["denim jacket"]]
    with pytest.raises(LibraryError, match=f"#{pid}"):
        library.get_product(pid)


def test_decisions_and_edits_feed_accepted_copy(library):
    pid = library.add_product(parse_product("Type: jacket"))
    ids = library.record_generation(pid, make_candidates(), length="short", tone="calm")
    library.decide(ids[0], "accepted")
    library.edit(ids[0], "copy 0, edited by the merchant")
    library.decide(ids[1], "rejected")
    accepted = library.accepted_copy()
    assert [c.id for c in accepted] == [ids[0]]
    assert accepted[0].text == "copy 0, edited by the merchant" and accepted[0].generated_text == "copy 0"
    assert accepted[0].edited and accepted[0].style == "qingshan"
    assert accepted[0].details["settings"]["seed"] == 4
    assert [c.id for c in library.candidates(decision="undecided")] == [ids[2]]
    assert [a for a, _, _ in library.decision_history(ids[0])] == ["accepted", "edited"]
    library.decide(ids[0], None)
    assert library.accepted_copy() == []
    assert library.candidates(kind="description") == []
    assert len(library.candidates(product_id=pid, style="qingshan")) == 3


def test_bad_decision_and_unknown_candidate(library):
    with pytest.raises(ValueError):
        library.decide(1, "maybe")
    with pytest.raises(LibraryError, match="#99"):
        library.decide(99, "accepted")


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "library.sqlite3"
    Library(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(LibraryError, match="newer AdCopy"):
        Library(path)


def test_not_a_database_is_explained(tmp_path):
    path = tmp_path / "library.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LibraryError, match="move it aside"):
        Library(path)


def test_killed_process_keeps_every_committed_write(tmp_path):
    path = tmp_path / "library.sqlite3"
    script = textwrap.dedent(f"""
        import os, signal, sys
        from adcopy_desktop.core.library import Library
        from adcopy_desktop.core.product import parse_product
        lib = Library({str(path)!r})
        for i in range(50):
            lib.add_product(parse_product(f"Type: item {{i}}"))
        print("committed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ)
    assert out.returncode == -signal.SIGKILL and "committed" in out.stdout
    with Library(path) as reopened:
        assert len(reopened.list_products()) == 50


def test_a_stored_candidate_becomes_a_candidate_with_the_users_text(library):
    pid = library.add_product(parse_product("Type: mug"))
    original = make_candidates(2)
    original[1].flags = [{"rule": "forbidden_word", "severity": "error", "word": "best", "message": "no 'best'"}]
    original[1].provider = "CPUExecutionProvider"
    ids = library.record_generation(pid, original)
    library.edit(ids[1], "edited copy")
    [stored] = [c for c in library.candidates(product_id=pid) if c.id == ids[1]]
    candidate = stored.to_candidate()
    assert candidate.text == "edited copy" and candidate.index == 1 and candidate.style == "qingshan"
    assert candidate.settings == original[1].settings and candidate.flags == original[1].flags
    assert (candidate.kind, candidate.model, candidate.language, candidate.provider) == (
        "title", "tiny", "en", "CPUExecutionProvider")


def test_readers_on_worker_threads_see_whole_writes_while_the_main_thread_writes(library):
    """One connection serves the UI thread and workers (the Insights job, the outbox): reads on
    several threads during writes neither raise nor see a generation half written."""
    import threading

    pid = library.add_product(parse_product("Type: jacket"))
    writes, per_generation = 60, 3
    errors: list[BaseException] = []
    done = threading.Event()
    readers = 4
    reading = threading.Barrier(readers + 1, timeout=30)  # the writes start once every reader has read

    def reader() -> None:
        seen, first = 0, True
        try:
            while first or not done.is_set():
                candidates, generations = library.read(
                    "SELECT (SELECT COUNT(*) FROM candidates), (SELECT COUNT(*) FROM generations)").fetchone()
                assert candidates == generations * per_generation  # a transaction is seen whole or not at all
                assert candidates >= seen  # and nothing written goes missing
                seen = candidates
                listed = library.candidates(product_id=pid)
                assert len(listed) % per_generation == 0
                if listed:
                    assert library.candidate(listed[-1].id).id == listed[-1].id
                    library.decision_log(listed[0].id)
                assert all(c.decision == "accepted" for c in library.accepted_copy())
                items = library.list_products(search="item")
                assert pid not in [p.id for p in items] and all(p.product.values("Type") for p in items)
                assert pid in [p.id for p in library.list_products()]
                if first:
                    first = False
                    reading.wait()
        except BaseException as exc:  # collected: an assertion on a worker would not fail the test
            errors.append(exc)
            reading.abort()

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for thread in threads:
        thread.start()
    try:
        try:
            reading.wait()
        except threading.BrokenBarrierError:
            pass  # a reader failed before the writes: its error is reported below
        for number in range(writes):
            ids = library.record_generation(pid, make_candidates(per_generation))
            library.decide(ids[number % per_generation], "accepted")
            library.edit(ids[0], f"edited {number}")
            library.add_product(parse_product(f"Type: item {number}"))
    finally:
        done.set()
        for thread in threads:
            thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert library.read("SELECT COUNT(*) FROM candidates").fetchone()[0] == writes * per_generation
    assert len(library.accepted_copy()) == writes
