"""Continuous batching: requests of different prompts share decode steps and write exactly what
each writes alone."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.runtime import OnnxCausalLM
from adcopy_desktop.core.runtime.batching import ContinuousBatcher

SAMPLED = GenerationSettings(n=3, max_new_tokens=30, temperature=1.0, top_p=0.95, top_k=50, seed=7)
GREEDY = GenerationSettings(n=1, max_new_tokens=30, temperature=0)


def prompt(model, text: str) -> list[int]:
    messages = [{"role": "user", "content": text}]
    return model.tokenizer.encode(model.tokenizer.apply_chat_template(messages))


@pytest.fixture(scope="module")
def alone(fused_onnx_model):
    """The same graph without batching: what each request must write."""
    return OnnxCausalLM.load(fused_onnx_model, threads=1)


@pytest.fixture
def batched(fused_onnx_model):
    model = OnnxCausalLM.load(fused_onnx_model, threads=1)
    model.prefill_chunk = 8  # the tiny prompts are shorter than the real chunk
    return model


def run_alone(model, prompts_and_settings):
    model.prefix_cache = None
    return [[c.token_ids for c in model.generate(ids, settings)] for ids, settings in prompts_and_settings]


def drain(batcher, requests):
    results = []
    for request in requests:
        events = batcher.events(request)
        while True:
            try:
                next(events)
            except StopIteration as done:
                results.append(done.value)
                break
    return results


def requests_of(model):
    texts = ["Slogan for a white denim jacket", "A title for a 350 ml ceramic mug with a long handle, 牛仔",
             "Promo line", "Describe a leather backpack in one sentence for the summer sale"]
    settings = [SAMPLED, replace(SAMPLED, seed=99, n=2), GREEDY, replace(SAMPLED, stop=("e",), n=2)]
    return [(prompt(model, text), choice) for text, choice in zip(texts, settings)]


def test_requests_of_different_prompts_share_steps_and_write_what_each_writes_alone(batched, alone):
    work = requests_of(batched)
    assert len({len(ids) for ids, _ in work}) == len(work), "prompts of different lengths"
    expected = run_alone(alone, work)
    assert batched.enable_batching(rows=8)
    batcher = batched.batcher
    requests = [batcher.submit(ids, settings) for ids, settings in work]
    results = drain(batcher, requests)
    assert [[c.token_ids for c in completions] for completions in results] == expected
    # they ran together: more rows in one step than any single request has candidates
    assert batcher.peak_rows > max(settings.n for _, settings in work)
    assert batcher.rows_stepped > batcher.steps


def test_a_request_waits_for_free_rows_and_takes_those_a_finished_candidate_left(batched, alone):
    work = requests_of(batched)
    expected = run_alone(alone, work)
    batched.enable_batching(rows=3)  # never all four at once
    batcher = batched.batcher
    results = drain(batcher, [batcher.submit(ids, settings) for ids, settings in work])
    assert [[c.token_ids for c in completions] for completions in results] == expected
    assert batcher.peak_rows <= 3


def test_requests_from_many_threads_at_once(batched, alone):
    work = requests_of(batched) * 2
    expected = run_alone(alone, work)
    batched.enable_batching(rows=6)
    got: dict[int, list] = {}

    def worker(index, ids, settings):
        got[index] = [c.token_ids for c in batched.generate(ids, settings)]

    threads = [threading.Thread(target=worker, args=(i, ids, s)) for i, (ids, s) in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [got[i] for i in range(len(work))] == expected


def test_a_cancelled_request_ends_while_the_others_go_on(batched, alone):
    work = requests_of(batched)[:2]
    expected = run_alone(alone, work)
    batched.enable_batching(rows=8)
    batcher = batched.batcher
    cancel = CancelToken()
    stopped = batcher.submit(work[0][0], replace(work[0][1], max_new_tokens=200), cancel)
    other = batcher.submit(*work[1])
    events = batcher.events(stopped)
    next(events)
    cancel.cancel()
    completions = drain(batcher, [stopped])[0]
    assert {c.finish_reason for c in completions} <= {"cancelled", "eos", "stop", "length"}
    assert "cancelled" in {c.finish_reason for c in completions}
    assert [c.token_ids for c in drain(batcher, [other])[0]] == expected[1]


def test_a_caller_that_stops_reading_frees_its_rows(batched, alone):
    ids, settings = requests_of(batched)[0]
    expected = run_alone(alone, [(ids, settings)])
    batched.enable_batching(rows=3)
    events = batched.stream(ids, replace(settings, max_new_tokens=500))
    next(events)
    events.close()  # the caller went away: its three rows must come free
    assert [c.token_ids for c in batched.generate(ids, settings)] == expected[0]


def test_a_long_request_joining_short_ones_grows_the_cache_and_keeps_theirs(batched, alone, monkeypatch):
    from adcopy_desktop.core.runtime import batching

    monkeypatch.setattr(batching, "_LENGTH_STEP", 8)  # grow often
    short = (prompt(batched, "Promo"), replace(SAMPLED, max_new_tokens=12))
    long = (prompt(batched, "Describe a leather backpack " * 6), replace(SAMPLED, max_new_tokens=40, n=2))
    expected = run_alone(alone, [short, long])
    batched.enable_batching(rows=8)
    batcher = batched.batcher
    results = drain(batcher, [batcher.submit(*short), batcher.submit(*long)])
    assert [[c.token_ids for c in completions] for completions in results] == expected


def test_requests_that_cannot_run_are_refused_at_once(batched):
    batched.enable_batching(rows=2)
    with pytest.raises(ModelError, match="3 candidates do not fit a batch of 2 rows"):
        batched.batcher.submit(prompt(batched, "Slogan"), SAMPLED)
    with pytest.raises(ValueError, match="empty"):
        batched.batcher.submit([], GREEDY)


def test_only_a_fused_graph_on_the_cpu_batches(tiny_onnx_model):
    export = OnnxCausalLM.load(tiny_onnx_model, threads=1)
    assert not export.can_batch
    assert export.enable_batching(rows=4) is False and export.batcher is None
    with pytest.raises(ModelError, match="fused graph"):
        ContinuousBatcher(export)
