"""The openai-compatible backend against real ``adcopy serve`` processes on 127.0.0.1: real HTTP,
real streaming, the tiny random-weight model on the other end. No HTTP is mocked."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from adcopy_desktop.builtin.openai_backend import OpenAICompatibleBackend, RemoteAuthError, test_connection
from adcopy_desktop.core.backend_pool import BackendUnavailableError
from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.endpoints import Endpoint, EndpointError, resolve_backend_choice, save_endpoint
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.prompts import CopyKind, CopyRequest
from adcopy_desktop.core.serve.tokens import TokenStore
from adcopy_desktop.paths import user_folders
from tests.serve_processes import server_home, start_server

MESSAGES = [{"role": "user", "content": "Write a title for a white linen shirt."}]


@pytest.fixture(scope="module")
def open_server(tmp_path_factory, tiny_models_root):
    server = start_server(server_home(tmp_path_factory.mktemp("open"), tiny_models_root), "--max-concurrent", "2")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slow_home(tmp_path_factory, tiny_models_root):
    return server_home(tmp_path_factory.mktemp("slow"), tiny_models_root)


def _endpoint(url: str, **options) -> Endpoint:
    return Endpoint(name=options.pop("name", "box"), base_url=url, **options)


def test_candidates_through_serve_equal_the_local_ones_for_the_same_seed(open_server, tiny_store):
    """Same prompt, settings and seed: the remote backend writes what the local ONNX one writes,
    and its candidates are scored and ranked by the same path."""
    save_endpoint(_endpoint(open_server.url))
    request = CopyRequest(parse_product("Type: linen shirt\nColor: white"), CopyKind.TITLE, language="en")
    settings = GenerationSettings(n=3, max_new_tokens=16, seed=11)
    local = CopyGenerator(tiny_store).generate(request, settings, rank=True)
    backend, options = resolve_backend_choice("box")
    remote_generator = CopyGenerator(tiny_store, backend=backend, backend_options=options)
    remote = remote_generator.generate(request, settings, rank=True)
    assert sorted(c.text for c in remote) == sorted(c.text for c in local)
    assert all(c.model == f"box/{open_server.model}" and c.scores and c.ranking for c in remote)
    assert all(c.provider.startswith("openai-compatible box") for c in remote)
    assert remote[0].timings.new_tokens > 0 and remote[0].timings.first_token_s > 0


def test_tokens_stream_before_the_answer_ends_and_add_up_to_each_candidate(open_server):
    backend = OpenAICompatibleBackend(_endpoint(open_server.url))
    events, seen_at = [], []
    started = time.perf_counter()

    def on_token(event):
        events.append(event)
        seen_at.append(time.perf_counter() - started)

    completions = backend.generate(MESSAGES, GenerationSettings(n=2, max_new_tokens=24, seed=5), on_token=on_token)
    assert [c.index for c in completions] == [0, 1]
    for completion in completions:
        assert "".join(e.text for e in events if e.index == completion.index) == completion.text
        assert completion.finish_reason in ("length", "stop", "eos")
    assert len(events) > 4 and seen_at[0] < seen_at[-1]  # pieces arrived one by one
    backend.close()


def test_parallel_mode_makes_one_request_per_candidate_with_moved_seeds(open_server):
    backend = OpenAICompatibleBackend(_endpoint(open_server.url, n_mode="parallel", max_concurrent=2))
    completions = backend.generate(MESSAGES, GenerationSettings(n=3, max_new_tokens=12, seed=7))
    single = OpenAICompatibleBackend(_endpoint(open_server.url))
    expected = [single.generate(MESSAGES, GenerationSettings(n=1, max_new_tokens=12, seed=7 + i))[0].text
                for i in range(3)]
    assert [c.text for c in completions] == expected
    log = open_server.log()
    assert log.count("n=1 stream=yes") >= 6
    backend.close()
    single.close()


def test_cancel_stops_a_stream_at_once(slow_home):
    server = start_server(slow_home, "--token-delay-ms", "40")
    try:
        backend = OpenAICompatibleBackend(_endpoint(server.url))
        cancel = CancelToken()
        first = threading.Event()

        def on_token(event):
            first.set()

        def stop_soon():
            first.wait(30)
            cancel.cancel()

        threading.Thread(target=stop_soon, daemon=True).start()
        started = time.perf_counter()
        completions = backend.generate(MESSAGES, GenerationSettings(n=1, max_new_tokens=400), cancel=cancel,
                                       on_token=on_token)
        assert completions[0].finish_reason == "cancelled"
        assert time.perf_counter() - started < 10  # 400 tokens at 40 ms would take 16 s
        deadline = time.time() + 10
        while "499" not in server.log() and time.time() < deadline:  # the server stopped that generation too
            time.sleep(0.1)
        assert "POST /v1/chat/completions 499" in server.log()
    finally:
        server.stop()


def test_a_server_killed_mid_stream_is_a_clear_error_not_half_a_candidate(slow_home):
    server = start_server(slow_home, "--token-delay-ms", "30")
    backend = OpenAICompatibleBackend(_endpoint(server.url, max_retries=1, retry_base_s=0.1))
    first = threading.Event()
    threading.Thread(target=lambda: (first.wait(30), server.kill()), daemon=True).start()
    with pytest.raises(BackendUnavailableError, match="dropped the answer after it had started"):
        backend.generate(MESSAGES, GenerationSettings(n=1, max_new_tokens=400), on_token=lambda e: first.set())
    # Without a stream to a person (a bulk job), it is retried, then given up with what to check.
    with pytest.raises(BackendUnavailableError, match="did not answer after 2 tries.*adcopy backends test box"):
        backend.generate(MESSAGES, GenerationSettings(n=1, max_new_tokens=8))
    backend.close()


def test_auth_refusals_say_what_to_do_and_a_stored_key_works(slow_home, memory_keyring):
    store = TokenStore(slow_home / "data" / "serve" / "tokens.json")
    record, token = store.create("tests")
    store.create("someone-else")  # with no token left a loopback server is open again, by design
    server = start_server(slow_home)
    try:
        raw = httpx.get(server.url + "/models")
        assert raw.status_code == 401 and raw.headers["www-authenticate"] == "Bearer"
        assert "adcopy serve token create" in raw.json()["error"]["message"]
        save_endpoint(_endpoint(server.url, name="secure"))
        report = test_connection(_endpoint(server.url, name="secure"))
        assert not report.ok and "--api-key-stdin" in report.message
        with pytest.raises(RemoteAuthError, match="HTTP 401"):
            OpenAICompatibleBackend(_endpoint(server.url), api_key="adc_wrong").generate(
                MESSAGES, GenerationSettings(n=1, max_new_tokens=4))
        saved = save_endpoint(_endpoint(server.url, name="secure"), api_key=token)
        assert saved.has_api_key and token not in user_folders().settings_file.read_text(encoding="utf-8")
        assert token not in store.path.read_text(encoding="utf-8")  # the server keeps only its hash
        report = test_connection(saved)
        assert report.ok, report.message
        store.revoke(record.id)  # a running server refuses it from the next request
        assert not test_connection(saved).ok
        assert token not in server.log()
    finally:
        server.stop()
        store.path.unlink(missing_ok=True)


def test_a_burst_beyond_the_servers_limit_gets_429_with_retry_after_and_the_backend_waits(slow_home):
    server = start_server(slow_home, "--max-concurrent", "1", "--max-waiting", "0", "--token-delay-ms", "15")
    try:
        body = {"messages": MESSAGES, "max_tokens": 30}
        answers = []

        def raw():
            answers.append(httpx.post(server.url + "/chat/completions", json=body, timeout=60))

        threads = [threading.Thread(target=raw) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refused = [a for a in answers if a.status_code == 429]
        assert refused and any(a.status_code == 200 for a in answers)
        assert all(int(a.headers["retry-after"]) >= 1 and a.json()["error"]["code"] == "rate_limit_exceeded"
                   for a in refused)
        # The backend honours Retry-After: every one of a burst of requests ends with its candidates.
        backend = OpenAICompatibleBackend(_endpoint(server.url, max_retries=8))
        results, errors = [], []

        def generate():
            try:
                results.append(backend.generate(MESSAGES, GenerationSettings(n=1, max_new_tokens=20)))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=generate) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors and len(results) == 3
        assert server.log().count(" 429 ") >= len(refused) + 1
        backend.close()
    finally:
        server.stop()


def test_unknown_backend_names_and_bad_addresses_say_what_to_do():
    with pytest.raises(EndpointError, match="adcopy backends add"):
        resolve_backend_choice("openai-compatible:nowhere")
    with pytest.raises(EndpointError, match="built-in backend name"):
        Endpoint(name="pool", base_url="http://x")
    with pytest.raises(EndpointError, match="keyring"):
        Endpoint(name="a", base_url="http://user:pw@host/v1")
    assert Endpoint(name="a", base_url="gpu-box:8000").base_url == "http://gpu-box:8000/v1"
    assert resolve_backend_choice(None) == (None, {})
    assert resolve_backend_choice("pool") == ("pool", {})


def test_a_server_that_is_not_there_fails_after_the_retries(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAICompatibleBackend(_endpoint(f"http://127.0.0.1:{port}/v1", model="m", max_retries=2,
                                                retry_base_s=0.05))
    started = time.perf_counter()
    with pytest.raises(BackendUnavailableError, match="did not answer after 3 tries.*could not connect"):
        backend.generate(MESSAGES, GenerationSettings(n=1, max_new_tokens=4))
    assert time.perf_counter() - started < 5


def test_the_model_pickers_listing_and_choice_reach_the_server(open_server):
    """list_remote_models (the writer's picker) asks each server once, quickly, and says why one has
    no list; a picker choice names server and model, and the backend writes with that model."""
    import socket

    from adcopy_desktop.builtin.openai_backend import list_remote_models
    from adcopy_desktop.core.endpoints import parse_remote_model_choice, remote_model_choice

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    box, gone = _endpoint(open_server.url), _endpoint(f"http://127.0.0.1:{free_port}/v1", name="gone")
    started = time.monotonic()
    answers = list_remote_models([box, gone])
    assert time.monotonic() - started < 10
    assert answers[0].endpoint == "box" and answers[0].models == [open_server.model] and not answers[0].error
    assert answers[1].endpoint == "gone" and not answers[1].models and "could not connect" in answers[1].error

    choice = remote_model_choice("box", "Qwen/Qwen2.5-7B-Instruct")
    assert parse_remote_model_choice(choice) == ("box", "Qwen/Qwen2.5-7B-Instruct")
    assert parse_remote_model_choice("tiny-llama") is None and parse_remote_model_choice("remote:box") is None

    save_endpoint(Endpoint(name="box", base_url=open_server.url, model="no-such-model"))
    request = CopyRequest(parse_product("Type: scarf\nColor: navy"), CopyKind.TITLE, "en")
    settings = GenerationSettings(n=1, max_new_tokens=6, seed=1)
    generator = CopyGenerator(backend="openai-compatible",
                              backend_options={"endpoint": "box", "model": open_server.model})
    [candidate] = generator.generate(request, settings, score=False, fact_retries=0)
    assert candidate.model == f"box/{open_server.model}"  # the option won over the configured model
