"""What the openai-compatible backend sends and how it copes with a misbehaving server, against a
scripted OpenAI-compatible server on 127.0.0.1 (tests/openai_servers.py): real HTTP and SSE, the
server records each request's body and time."""

from __future__ import annotations

import time

import pytest

from adcopy_desktop.builtin.openai_backend import OpenAICompatibleBackend
from adcopy_desktop.core.backend_pool import BackendUnavailableError
from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.endpoints import Endpoint
from tests.openai_servers import MODEL, ScriptedServer

MESSAGES = [{"role": "user", "content": "Write a title for a white linen shirt."}]


def _backend(server: ScriptedServer, **options) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(Endpoint(name="box", base_url=server.url, model=MODEL, **options))


def test_the_server_receives_stop_temperature_top_p_and_seed():
    with ScriptedServer() as server:
        backend = _backend(server)
        settings = GenerationSettings(n=2, max_new_tokens=20, temperature=0.35, top_p=0.8, seed=42,
                                      stop=("\n", "。"), top_k=30, repetition_penalty=1.1)
        completions = backend.generate(MESSAGES, settings)
        [request] = server.chat_requests()
        body = request.body
        assert (body["stop"], body["temperature"], body["top_p"], body["seed"]) == (["\n", "。"], 0.35, 0.8, 42)
        assert (body["n"], body["max_tokens"], body["model"], body["stream"]) == (2, 20, MODEL, True)
        assert (body["top_k"], body["repetition_penalty"]) == (30, 1.1)
        assert body["messages"] == MESSAGES
        assert [c.text for c in completions] == ["copy seed 42 choice 0", "copy seed 42 choice 1"]
        backend.close()

        # Greedy, no seed, no stop: those fields are absent or zero; no extras for a strict server.
        strict = _backend(server, extra_sampling=False)
        strict.generate(MESSAGES, GenerationSettings(n=1, max_new_tokens=5, temperature=0.0))
        body = server.chat_requests()[-1].body
        assert body["temperature"] == 0.0 and "seed" not in body and "stop" not in body and "n" not in body
        assert not {"top_k", "repetition_penalty", "no_repeat_ngram"} & set(body)
        strict.close()


@pytest.mark.parametrize("statuses", [[500, 503], [503, 503]])
def test_5xx_answers_are_retried_with_growing_waits_then_succeed(statuses):
    with ScriptedServer(failures=statuses) as server:
        backend = _backend(server, max_retries=3, retry_base_s=0.2)
        [completion] = backend.generate(MESSAGES, GenerationSettings(n=1, seed=3))
        assert completion.text == "copy seed 3 choice 0" and completion.finish_reason == "stop"
        times = [r.at for r in server.chat_requests()]
        assert len(times) == 3
        first_wait, second_wait = times[1] - times[0], times[2] - times[1]
        assert 0.09 <= first_wait and 0.19 <= second_wait  # 0.2 s, then 0.4 s, each with jitter down to half
        backend.close()


def test_retry_after_on_a_503_is_honoured():
    with ScriptedServer(failures=[(503, {"Retry-After": "1"})]) as server:
        backend = _backend(server, max_retries=1, retry_base_s=0.01)
        backend.generate(MESSAGES, GenerationSettings(n=1))
        first, second = server.chat_requests()
        assert second.at - first.at >= 0.95
        backend.close()


def test_retries_give_up_after_the_limit_with_the_servers_error():
    with ScriptedServer(failures=[503] * 10) as server:
        backend = _backend(server, max_retries=2, retry_base_s=0.05)
        with pytest.raises(BackendUnavailableError) as raised:
            backend.generate(MESSAGES, GenerationSettings(n=1))
        message = str(raised.value)
        assert len(server.chat_requests()) == 3
        assert "'box' (" in message and "an error 3 tries, giving up" in message
        assert "HTTP 503: scripted failure 503" in message and "Is it running" not in message
        assert "adcopy backends test box" in message
        backend.close()


@pytest.mark.parametrize("retries", [0, 1])
def test_a_server_that_accepts_but_never_answers_ends_with_a_read_timeout_error(retries):
    with ScriptedServer(hang=True) as server:
        backend = _backend(server, timeout_s=1.0, max_retries=retries, retry_base_s=0.05)
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError) as raised:
            backend.generate(MESSAGES, GenerationSettings(n=1))
        elapsed = time.monotonic() - started
        tries = retries + 1
        assert tries * 1.0 - 0.1 <= elapsed < tries * 1.0 + 1.5  # each try waits the configured 1 s, no longer
        message = str(raised.value)
        assert "sent nothing for 1 s" in message and "read timeout" in message
        assert f"{tries} tr{'y' if tries == 1 else 'ies'}" in message
        assert len(server.chat_requests()) == tries
        backend.close()


def test_a_server_that_stops_sending_mid_answer_ends_with_a_read_timeout_error():
    with ScriptedServer(stall=True) as server:
        backend = _backend(server, timeout_s=1.0, max_retries=1, retry_base_s=0.05)
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError, match="dropped the answer after it had started.*"
                                                          "stopped sending mid-answer: nothing for 1 s"):
            backend.generate(MESSAGES, GenerationSettings(n=1), on_token=lambda event: None)
        assert time.monotonic() - started < 2.5 and len(server.chat_requests()) == 1  # streamed text: no retry
        backend.close()


def test_auto_n_mode_fills_in_for_a_server_that_ignores_n():
    """llama.cpp and Ollama answer one choice for n=4: the backend asks for the other three one at a
    time (seeds moved on per candidate) and from then on asks one per request."""
    with ScriptedServer(honours_n=False) as server:
        backend = _backend(server, n_mode="auto", max_concurrent=2)
        completions = backend.generate(MESSAGES, GenerationSettings(n=4, seed=7))
        assert [c.text for c in completions] == ["copy seed 7 choice 0", "copy seed 8 choice 0",
                                                 "copy seed 9 choice 0", "copy seed 10 choice 0"]
        assert [c.index for c in completions] == [0, 1, 2, 3] and all(c.finish_reason == "stop" for c in completions)
        bodies = [r.body for r in server.chat_requests()]
        assert bodies[0]["n"] == 4 and sorted(b["seed"] for b in bodies[1:]) == [8, 9, 10]
        assert all("n" not in b for b in bodies[1:])

        # Remembered: the next call sends four requests of one each straight away.
        again = backend.generate(MESSAGES, GenerationSettings(n=4, seed=20))
        later = [r.body for r in server.chat_requests()[4:]]
        assert len(later) == 4 and all("n" not in b for b in later)
        assert sorted(b["seed"] for b in later) == [20, 21, 22, 23]
        assert [c.text for c in again] == [f"copy seed {s} choice 0" for s in (20, 21, 22, 23)]
        backend.close()


def test_stop_ends_a_request_the_server_has_not_answered_yet():
    """A busy server may send nothing for its whole read timeout: Stop must not wait for it."""
    import threading

    from adcopy_desktop.core.progress import CancelToken

    with ScriptedServer(hang=True) as server:
        backend = _backend(server, timeout_s=30.0, max_retries=3)
        cancel = CancelToken()
        threading.Timer(0.3, cancel.cancel).start()
        started = time.monotonic()
        completions = backend.generate(MESSAGES, GenerationSettings(n=2), cancel=cancel)
        assert time.monotonic() - started < 2.0
        assert [c.finish_reason for c in completions] == ["cancelled", "cancelled"]
        assert len(server.chat_requests()) == 1  # no retry after a cancel
        backend.close()
