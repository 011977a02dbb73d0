import shutil
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import onnxruntime as ort
import pytest

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.runtime import NO_TOKEN, OnnxCausalLM, TokenSampler

GREEDY = GenerationSettings(n=1, max_new_tokens=12, temperature=0, repetition_penalty=1.0)
SAMPLED = GenerationSettings(n=3, max_new_tokens=24, temperature=1.0, top_p=0.95, top_k=50, seed=1234)


@pytest.fixture(scope="module")
def model(tiny_onnx_model):
    return OnnxCausalLM.load(tiny_onnx_model, threads=1)


@pytest.fixture(scope="module")
def prompt_ids(model):
    messages = [{"role": "user", "content": "Slogan for a white denim jacket 牛仔"}]
    text = model.tokenizer.apply_chat_template(messages)
    return model.tokenizer.encode(text)


def generate_with_stream(model, prompt_ids, settings, cancel=None):
    streamed: dict[int, list[str]] = {}
    events = []

    def collect(event):
        events.append(event)
        streamed.setdefault(event.index, []).append(event.text)

    completions = model.generate(prompt_ids, settings, cancel=cancel, on_token=collect)
    return completions, {index: "".join(parts) for index, parts in streamed.items()}, events


def reference_generate(folder, prompt_ids, settings):
    """Recompute every row's whole sequence each step with an empty cache: slow but obviously right."""
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    pasts = [item for item in session.get_inputs() if item.name.startswith("past_key_values.")]
    rows = [list(prompt_ids) for _ in range(settings.n)]
    sampler = None
    for _ in range(settings.max_new_tokens):
        batch, length = len(rows), len(rows[0])
        feed = {
            "input_ids": np.array(rows, dtype=np.int64),
            "attention_mask": np.ones((batch, length), dtype=np.int64),
            "position_ids": np.tile(np.arange(length, dtype=np.int64), (batch, 1)),
        }
        for item in pasts:
            feed[item.name] = np.zeros((batch, item.shape[1], 0, item.shape[3]), dtype=np.float32)
        logits = session.run(["logits"], feed)[0][:, -1]
        sampler = sampler or TokenSampler(settings, batch, logits.shape[-1], prompt_ids)
        for row, token in zip(rows, sampler.next_tokens(logits).tolist()):
            row.append(token)
    return [row[len(prompt_ids) :] for row in rows]


def test_load_reports_provider_and_folder(model, tiny_onnx_model):
    assert model.provider == "CPUExecutionProvider"
    assert model.folder == tiny_onnx_model
    assert model.context_length == 4096


@pytest.mark.parametrize(
    ("settings", "finish_row_0_early"),
    [
        (GenerationSettings(n=2, max_new_tokens=10, temperature=0, repetition_penalty=3.0), False),
        (GenerationSettings(n=3, max_new_tokens=10, temperature=1.0, top_k=0, top_p=1.0, seed=3), False),
        (
            GenerationSettings(
                n=2, max_new_tokens=10, temperature=0.9, top_k=40, top_p=0.9, repetition_penalty=1.3, seed=4
            ),
            False,
        ),
        (GenerationSettings(n=4, max_new_tokens=12, temperature=1.0, top_k=0, top_p=1.0, seed=5), True),
    ],
    ids=["greedy", "sampled", "penalised", "rows-dropped"],
)
def test_cached_loop_matches_a_no_cache_reference_loop(
    model, prompt_ids, tiny_onnx_model, settings, finish_row_0_early, monkeypatch
):
    expected = reference_generate(tiny_onnx_model, prompt_ids, settings)
    assert any(len(set(tokens)) > 3 for tokens in expected), "a repetitive reference would prove little"
    eos = expected[0][2] if finish_row_0_early else 2
    monkeypatch.setattr(model.tokenizer, "eos_token_ids", {eos})
    completions = model.generate(prompt_ids, settings)
    for completion, reference in zip(completions, expected):
        ended = reference.index(eos) if eos in reference else None
        assert completion.token_ids == reference[:ended]
        assert completion.finish_reason == ("length" if ended is None else "eos")
    if finish_row_0_early:
        assert any(c.finish_reason == "length" for c in completions), "want rows that outlive row 0"


def test_io_binding_path_gives_the_same_tokens(model, prompt_ids, tiny_onnx_model):
    bound = OnnxCausalLM.load(tiny_onnx_model, threads=1, io_binding=True)
    for settings in (GREEDY, SAMPLED):
        expected = [c.token_ids for c in model.generate(prompt_ids, settings)]
        assert [c.token_ids for c in bound.generate(prompt_ids, settings)] == expected


def test_greedy_is_repeatable(model, prompt_ids):
    first = model.generate(prompt_ids, GREEDY)
    second = model.generate(prompt_ids, GREEDY)
    assert [c.token_ids for c in first] == [c.token_ids for c in second]
    assert first[0].prompt_tokens == len(prompt_ids)
    assert 0 < first[0].first_token_s <= first[0].elapsed_s


def test_max_new_tokens_is_respected(model, prompt_ids):
    [completion] = model.generate(prompt_ids, GREEDY)
    assert completion.finish_reason == "length"
    assert completion.new_tokens == GREEDY.max_new_tokens


def test_seeded_candidates_differ_from_each_other_and_repeat_across_runs(model, prompt_ids):
    first = model.generate(prompt_ids, SAMPLED)
    second = model.generate(prompt_ids, SAMPLED)
    assert [c.index for c in first] == [0, 1, 2]
    assert len({tuple(c.token_ids) for c in first}) == 3
    assert [c.token_ids for c in first] == [c.token_ids for c in second]
    assert [c.text for c in first] == [c.text for c in second]
    other_seed = model.generate(prompt_ids, replace(SAMPLED, seed=99))
    assert [c.token_ids for c in other_seed] != [c.token_ids for c in first]


def test_streamed_text_equals_final_text(model, prompt_ids):
    completions, streamed, events = generate_with_stream(model, prompt_ids, SAMPLED)
    for completion in completions:
        assert streamed[completion.index] == completion.text
        if completion.finish_reason in ("length", "eos"):
            assert completion.text == model.tokenizer.decode(completion.token_ids)
    finishing = [event for event in events if event.finish_reason]
    assert sorted(event.index for event in finishing) == [0, 1, 2]


def test_stop_string_truncates_and_stops(model, prompt_ids):
    settings = GenerationSettings(n=1, max_new_tokens=30, temperature=1.0, top_k=0, top_p=1.0, seed=7)
    [free] = model.generate(prompt_ids, settings)
    text = free.text
    stop = next(
        text[start : start + 3]
        for start in range(4, len(text) - 3)
        if text[start : start + 3].strip() and "\ufffd" not in text[start : start + 3]
    )
    expected = text[: text.find(stop)]

    stopped_settings = replace(settings, stop=("never-there", stop))
    [stopped], streamed, _ = generate_with_stream(model, prompt_ids, stopped_settings)
    assert stopped.finish_reason == "stop"
    assert stopped.text == expected
    assert streamed[0] == expected
    assert len(stopped.token_ids) < len(free.token_ids)
    assert stopped.token_ids == free.token_ids[: len(stopped.token_ids)]


def test_candidates_stopping_early_leave_the_others_running(model, prompt_ids):
    free = model.generate(prompt_ids, SAMPLED)
    stop = free[0].text[3:6]
    settings = replace(SAMPLED, stop=(stop,))
    completions, streamed, _ = generate_with_stream(model, prompt_ids, settings)
    assert completions[0].finish_reason == "stop"
    assert completions[0].text == free[0].text[: free[0].text.find(stop)]
    for completion in completions:
        assert stop not in completion.text
        assert streamed[completion.index] == completion.text
    assert any(c.finish_reason == "length" for c in completions), "want candidates of different lengths"


def test_cancel_after_first_token_ends_promptly(model, prompt_ids):
    cancel = CancelToken()
    settings = replace(SAMPLED, max_new_tokens=500)
    events = []

    def cancel_on_first(event):
        events.append(event)
        cancel.cancel()

    started = time.perf_counter()
    completions = model.generate(prompt_ids, settings, cancel=cancel, on_token=cancel_on_first)
    assert time.perf_counter() - started < 2
    assert [c.finish_reason for c in completions] == ["cancelled"] * 3
    assert all(c.new_tokens == 1 for c in completions)
    closing = [event for event in events if event.finish_reason == "cancelled"]
    assert len(closing) == 3 and all(event.token_id == NO_TOKEN for event in closing)


def test_cancel_before_start_generates_nothing(model, prompt_ids):
    cancel = CancelToken()
    cancel.cancel()
    completions = model.generate(prompt_ids, SAMPLED, cancel=cancel)
    assert [(c.finish_reason, c.text, c.token_ids) for c in completions] == [("cancelled", "", [])] * 3


def test_context_limit_clamps_and_refuses(model, prompt_ids, monkeypatch):
    monkeypatch.setattr(model, "context_length", len(prompt_ids) + 3)
    [completion] = model.generate(prompt_ids, GREEDY)
    assert completion.finish_reason == "length" and completion.new_tokens == 3

    monkeypatch.setattr(model, "context_length", len(prompt_ids) - 1)
    with pytest.raises(ModelError, match=f"{len(prompt_ids)} tokens.*{len(prompt_ids) - 1}"):
        model.generate(prompt_ids, GREEDY)


def test_eos_ends_a_candidate(model, prompt_ids, monkeypatch):
    [greedy] = model.generate(prompt_ids, GREEDY)
    eos = greedy.token_ids[2]
    monkeypatch.setattr(model.tokenizer, "eos_token_ids", {eos})
    [completion] = model.generate(prompt_ids, GREEDY)
    assert completion.finish_reason == "eos"
    assert completion.token_ids == greedy.token_ids[: greedy.token_ids.index(eos)]


def test_missing_or_corrupt_model_file_is_a_model_error(tiny_onnx_model, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_onnx_model, folder)
    (folder / "model.onnx").unlink()
    with pytest.raises(ModelError, match="model.onnx.*re-import"):
        OnnxCausalLM.load(folder)
    (folder / "model.onnx").write_bytes(b"not an onnx file" * 100)
    with pytest.raises(ModelError, match="model.onnx.*re-import"):
        OnnxCausalLM.load(folder)


def test_unavailable_provider_is_a_model_error(tiny_onnx_model):
    with pytest.raises(ModelError, match="onnxruntime-gpu"):
        OnnxCausalLM.load(tiny_onnx_model, provider="cuda")


def test_runtime_imports_no_training_stack():
    code = (
        "import sys, adcopy_desktop.core.runtime\n"
        "print(sorted({'torch', 'transformers', 'optimum'} & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def reference_logits(session, sequences):
    """Last-position logits of each sequence, recomputed from scratch with an empty cache."""
    pasts = [item for item in session.get_inputs() if item.name.startswith("past_key_values.")]
    batch, length = len(sequences), len(sequences[0])
    feed = {
        "input_ids": np.array(sequences, dtype=np.int64),
        "attention_mask": np.ones((batch, length), dtype=np.int64),
        "position_ids": np.tile(np.arange(length, dtype=np.int64), (batch, 1)),
    }
    for item in pasts:
        feed[item.name] = np.zeros((batch, item.shape[1], 0, item.shape[3]), dtype=np.float32)
    return session.run(["logits"], feed)[0][:, -1]


@pytest.mark.parametrize("io_binding", [False, True], ids=["run", "io_binding"])
def test_cache_expand_step_and_row_dropping_keep_logits_exact(tiny_onnx_model, prompt_ids, io_binding):
    """Token-level checks barely see cache mistakes on a random model; logits do."""
    model = OnnxCausalLM.load(tiny_onnx_model, threads=1, io_binding=io_binding)
    session = ort.InferenceSession(str(tiny_onnx_model / "model.onnx"), providers=["CPUExecutionProvider"])
    stepper = model._new_stepper(3, len(prompt_ids) + 4)
    logits = stepper.prefill(prompt_ids)
    assert np.allclose(logits, reference_logits(session, [prompt_ids]), atol=1e-5)
    check_expand_step_and_keep(stepper, session, prompt_ids, atol=1e-5)


def check_expand_step_and_keep(stepper, session, prompt_ids, atol):
    """Copy the prompt to 3 rows, step them, drop the middle one: the reference's logits each step."""
    stepper.expand(3)
    sequences = {row: list(prompt_ids) for row in range(3)}
    active = [0, 1, 2]
    for step, tokens in enumerate([[100, 200, 300], [101, 301], [102, 302]]):
        if step == 1:
            stepper.keep(np.array([0, 2]))
            active = [0, 2]
        for row, token in zip(active, tokens):
            sequences[row].append(token)
        logits = stepper.step(np.array(tokens, dtype=np.int64), len(prompt_ids) + step)
        expected = reference_logits(session, [sequences[row] for row in active])
        assert np.abs(expected[0] - expected[1]).max() > 1e-3, "rows must differ for this check to mean anything"
        assert np.allclose(logits, expected, atol=atol)


def test_fused_graph_steps_its_shared_cache_exactly_like_the_export(tiny_onnx_model, fused_onnx_model, prompt_ids):
    """Prefill, copy to rows, step, drop a row: in place in one buffer, the export's logits each time."""
    from adcopy_desktop.core.runtime.decoder import _SharedStepper

    model = OnnxCausalLM.load(fused_onnx_model, threads=1)
    assert model.fused
    session = ort.InferenceSession(str(tiny_onnx_model / "model.onnx"), providers=["CPUExecutionProvider"])
    stepper = model._new_stepper(3, len(prompt_ids) + 4)
    assert isinstance(stepper, _SharedStepper)
    logits = stepper.prefill(prompt_ids)
    assert np.allclose(logits, reference_logits(session, [prompt_ids]), atol=1e-4)
    check_expand_step_and_keep(stepper, session, prompt_ids, atol=1e-4)


@pytest.mark.parametrize("io_binding", [None, True], ids=["shared-cache", "io_binding"])
def test_fused_graph_writes_the_exports_candidates(model, fused_onnx_model, prompt_ids, io_binding):
    fused = OnnxCausalLM.load(fused_onnx_model, threads=1, io_binding=io_binding)
    for settings in (GREEDY, SAMPLED, replace(SAMPLED, stop=("e",))):
        expected = [c.token_ids for c in model.generate(prompt_ids, settings)]
        assert [c.token_ids for c in fused.generate(prompt_ids, settings)] == expected


def test_the_fused_graph_computes_only_the_logits_asked_for(fused_onnx_model, prompt_ids):
    session = ort.InferenceSession(str(fused_onnx_model / "model.onnx"), providers=["CPUExecutionProvider"])
    pasts = [item for item in session.get_inputs() if item.name.startswith("past_key_values.")]
    feed = {"input_ids": np.array([prompt_ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(prompt_ids)), dtype=np.int64)}
    feed.update({item.name: np.zeros((1, item.shape[1], 0, item.shape[3]), dtype=np.float32) for item in pasts})
    every = session.run(["logits"], {**feed, "num_logits_to_keep": np.array([0], dtype=np.int64)})[0]
    last = session.run(["logits"], {**feed, "num_logits_to_keep": np.array([1], dtype=np.int64)})[0]
    assert every.shape[1] == len(prompt_ids) and last.shape[1] == 1
    assert np.allclose(every[:, -1:], last, atol=1e-6)


def _shop_prompt(model, facts: str) -> list[int]:
    system = "You write product copy for an online shop. Use only the given facts. " * 3
    messages = [{"role": "system", "content": system}, {"role": "user", "content": f"Describe it.\n{facts}"}]
    return model.tokenizer.encode(model.tokenizer.apply_chat_template(messages))


def _chunked(folder, chunk: int = 8) -> OnnxCausalLM:
    model = OnnxCausalLM.load(folder, threads=1)
    model.prefill_chunk = chunk  # the tiny prompts are shorter than the real chunk
    return model


def test_a_prompt_that_starts_like_the_last_one_reads_only_the_rest(fused_onnx_model):
    """Two products behind the same system prompt: the second reuses the first's cached chunks and
    writes exactly what a model without the cache writes, sampled with a seed too."""
    cached, fresh = _chunked(fused_onnx_model), _chunked(fused_onnx_model)
    first, second = _shop_prompt(cached, "Type: backpack"), _shop_prompt(cached, "Type: ceramic mug, 350 ml")
    shared = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)
    assert shared >= 3 * cached.prefill_chunk
    cached.generate(first, GREEDY)
    for settings in (GREEDY, SAMPLED):
        got = [c.token_ids for c in cached.generate(second, settings)]
        fresh.prefix_cache.clear()
        assert [c.token_ids for c in fresh.generate(second, settings)] == got
        assert fresh.prefix_cache.reused_tokens == 0
    # the same prompt again: every whole chunk before the last token
    assert cached.prefix_cache.reused_tokens == (len(second) - 1) // 8 * 8


def test_the_prefix_cache_reuses_whole_chunks_of_what_matches(fused_onnx_model):
    from adcopy_desktop.core.runtime.decoder import _SharedStepper

    model = _chunked(fused_onnx_model)
    first = _shop_prompt(model, "Type: backpack")
    model.generate(first, GREEDY)
    second = _shop_prompt(model, "Type: mug")
    stepper = model._new_stepper(1, len(second) + 4)
    assert isinstance(stepper, _SharedStepper)
    fresh = _chunked(fused_onnx_model)._new_stepper(1, len(second) + 4)
    # bit for bit: the same chunks computed from the same cache
    assert np.array_equal(stepper.prefill(second), fresh.prefill(second))
    shared = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)
    assert model.prefix_cache.reused_tokens == shared // 8 * 8 > 0
    # a prompt that differs from the start reuses nothing
    model.generate([second[-1], *second[:-1]], GREEDY)
    assert model.prefix_cache.reused_tokens == 0


def test_chunked_reading_matches_reading_the_prompt_at_once(fused_onnx_model, prompt_ids):
    whole = OnnxCausalLM.load(fused_onnx_model, threads=1)
    whole.prefix_cache = None
    chunked = _chunked(fused_onnx_model, chunk=3)
    chunked.prefix_cache = None
    assert len(prompt_ids) > 3 * 3
    once = whole._new_stepper(1, len(prompt_ids) + 1).prefill(prompt_ids)
    assert np.allclose(chunked._new_stepper(1, len(prompt_ids) + 1).prefill(prompt_ids), once, atol=1e-4)


def test_the_export_graph_has_no_prefix_cache(model):
    assert model.prefix_cache is None


def test_the_prefix_cache_keeps_one_entry_per_kind_of_prompt(fused_onnx_model):
    """Titles and descriptions alternate in a batch: each finds its own kind's cached start."""
    model = _chunked(fused_onnx_model)

    def prompt(kind: str, facts: str) -> list[int]:
        system = f"You write {kind} for an online shop. Use only the given facts. " * 3
        messages = [{"role": "system", "content": system}, {"role": "user", "content": facts}]
        return model.tokenizer.encode(model.tokenizer.apply_chat_template(messages))

    titles = [prompt("short titles", f"Type: {name}") for name in ("bag", "mug", "scarf")]
    descriptions = [prompt("long descriptions", f"Type: {name}") for name in ("bag", "mug", "scarf")]
    reused = []
    for title, description in zip(titles, descriptions):
        for ids in (title, description):
            model.generate(ids, GREEDY)
            reused.append(model.prefix_cache.reused_tokens)
    assert reused[0] == 0 and reused[1] < 20  # the first description shares only the chat header
    assert all(count > 40 for count in reused[2:])  # from the second product on, its kind's whole system prompt
    assert len(model.prefix_cache._entries) == 2
