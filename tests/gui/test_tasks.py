"""Which stored candidates the writer shows for a product, and streaming coalescing."""

import threading

from adcopy_desktop.core.library import StoredCandidate
from adcopy_desktop.gui.streaming import TokenStream
from adcopy_desktop.gui.tasks import latest_candidate_set


def stored(cid, generation, position, kind="title", language="en"):
    return StoredCandidate(id=cid, generation_id=generation, product_id=1, position=position, kind=kind,
                           language=language, style=None, model="m", generated_text="t", text="t",
                           finish_reason="eos", decision=None, created_at=float(generation))


def ids(rows):
    return [row.id for row in rows]


def test_the_latest_generation_is_shown():
    rows = [stored(4, 2, 0), stored(5, 2, 1), stored(1, 1, 0), stored(2, 1, 1), stored(3, 1, 2)]
    assert ids(latest_candidate_set(rows)) == [4, 5]


def test_regenerated_cards_take_their_place_newest_last():
    rows = [stored(6, 4, 2), stored(5, 3, 0), stored(4, 2, 2), stored(1, 1, 0), stored(2, 1, 1), stored(3, 1, 2)]
    assert ids(latest_candidate_set(rows)) == [5, 2, 6]


def test_a_different_kind_starts_a_new_set():
    rows = [stored(4, 2, 0, kind="slogan"), stored(1, 1, 0), stored(2, 1, 1)]
    assert ids(latest_candidate_set(rows)) == [4]


def test_nothing_stored_shows_nothing():
    assert latest_candidate_set([]) == []


def test_the_token_stream_coalesces_many_tokens_into_few_updates(qtbot):
    delivered: dict[int, str] = {}
    calls = []

    def deliver(slot, text):
        calls.append(slot)
        delivered[slot] = delivered.get(slot, "") + text

    stream = TokenStream(deliver, interval_ms=30)
    stream.begin({0: 5, 1: 6})

    def produce():
        for number in range(2000):
            stream.push(number % 2, "x")

    worker = threading.Thread(target=produce)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(delivered.get(5, "")) == 1000 and len(delivered.get(6, "")) == 1000)
    stream.end()
    assert len(calls) <= 10  # 2000 tokens, a handful of UI updates
    stream.push(0, "late")
    stream.flush()
    assert len(delivered[5]) == 1000  # nothing is delivered after the stream ended
