"""The training loop hands memory back only when the heap has drifted past its slack."""

from __future__ import annotations

import sys

import pytest

from adcopy_desktop.core.training import trainer


def test_the_heap_is_trimmed_only_after_it_grew_past_the_slack(monkeypatch):
    sizes = iter([1000, 1100, 1290, 1400, 1050, 1200, 1500, 1000, 1100])
    trims = []
    monkeypatch.setattr(trainer, "_rss_bytes", lambda: next(sizes))
    monkeypatch.setattr(trainer, "trim_heap", lambda: trims.append(True))
    heap = trainer.HeapTrimmer(slack=300)  # baseline 1000
    heap.step()  # 1100: within the slack
    heap.step()  # 1290: within
    assert heap.trims == 0
    heap.step()  # 1400: past it -> trimmed, the size after the trim (1050) is the new baseline
    assert heap.trims == 1 and heap.baseline == 1050
    heap.step()  # 1200: within
    heap.step()  # 1500: past -> trimmed again, baseline 1000
    assert heap.trims == 2 and len(trims) == 2 and heap.baseline == 1000


def test_without_a_reading_nothing_is_trimmed(monkeypatch):
    monkeypatch.setattr(trainer, "_rss_bytes", lambda: None)
    monkeypatch.setattr(trainer, "trim_heap", lambda: pytest.fail("trimmed without a reading"))
    heap = trainer.HeapTrimmer()
    heap.step()
    assert heap.trims == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and glibc")
def test_trimming_gives_freed_heap_back_on_linux():
    """Many freed mid-sized blocks with a live one above them: the heap cannot shrink from its top,
    only malloc_trim hands their pages back."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    block = 64 * 1024  # below glibc's mmap threshold: from the heap
    blocks = [libc.malloc(block) for _ in range(2000)]
    for pointer in blocks:
        ctypes.memset(pointer, 1, block)  # touch: resident
    keep = libc.malloc(block)  # pins the heap's top
    for pointer in blocks:
        libc.free(pointer)
    before = trainer._rss_bytes()
    trainer.trim_heap()
    after = trainer._rss_bytes()
    libc.free(keep)
    assert before - after > 50 * 2**20  # most of the 125 MB freed came back
