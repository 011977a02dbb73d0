"""The serving runner: requests generating at once share the local model's decode steps."""

from __future__ import annotations

import threading

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.serve.app import MAX_N, ModelRunner

MESSAGES = [[{"role": "user", "content": f"A slogan for a {thing}"}] for thing in ("mug", "linen shirt", "hat")]
SETTINGS = GenerationSettings(n=2, max_new_tokens=24, temperature=1.0, seed=5)


def texts(completions):
    return [c.text for c in completions]


def test_concurrent_requests_decode_as_one_batch_and_answer_as_alone(tiny_store):
    alone = ModelRunner(CopyGenerator(tiny_store), max_concurrent=1)
    expected = [texts(alone.run(m, SETTINGS, cancel=CancelToken())[0]) for m in MESSAGES]
    assert getattr(alone.generator.backend.model, "batcher", None) is None  # one at a time: nothing to share

    runner = ModelRunner(CopyGenerator(tiny_store), max_concurrent=3)
    runner.warm()
    got = {}

    def ask(index):
        got[index] = texts(runner.run(MESSAGES[index], SETTINGS, cancel=CancelToken())[0])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(MESSAGES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [got[i] for i in range(len(MESSAGES))] == expected
    batcher = runner.generator.backend.model.batcher
    assert batcher is not None and batcher.rows >= MAX_N and batcher.steps > 0
