import numpy as np
import pytest

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.runtime import TokenSampler, apply_repetition_penalty, sample_tokens
from adcopy_desktop.core.runtime import sampling


def random_logits(rows=4, vocab=50, seed=0):
    return np.random.default_rng(seed).normal(scale=3.0, size=(rows, vocab)).astype(np.float32)


def draw(logits, seed=0, **options):
    params = {"temperature": 1.0, "top_k": 0, "top_p": 1.0} | options
    return sample_tokens(logits, rng=np.random.default_rng(seed), **params)


def test_temperature_zero_is_argmax():
    logits = random_logits()
    assert np.array_equal(draw(logits, temperature=0), logits.argmax(-1))


@pytest.mark.parametrize("seed", range(5))
def test_top_k_one_is_argmax(seed):
    logits = random_logits(seed=seed)
    assert np.array_equal(draw(logits, seed=seed, top_k=1, temperature=1.5), logits.argmax(-1))


@pytest.mark.parametrize("seed", range(5))
def test_tiny_top_p_is_argmax_and_keeps_one_token(seed):
    logits = random_logits(seed=seed)
    assert np.array_equal(draw(logits, seed=seed, top_p=1e-9), logits.argmax(-1))


def test_tiny_top_p_over_a_large_vocabulary_uses_the_whole_row():
    logits = random_logits(rows=3, vocab=5000, seed=3)
    assert np.array_equal(draw(logits, top_p=1e-6), logits.argmax(-1))


def test_top_k_only_picks_among_the_k_best():
    logits = random_logits(rows=2, vocab=30, seed=1)
    best3 = [set(np.argsort(-row)[:3]) for row in logits]
    rng = np.random.default_rng(0)
    for _ in range(200):
        picks = sample_tokens(logits, temperature=5.0, top_k=3, top_p=1.0, rng=rng)
        assert all(int(pick) in allowed for pick, allowed in zip(picks, best3))


@pytest.mark.parametrize("vocab", [20, 2000])
def test_top_p_only_picks_inside_the_nucleus(vocab):
    logits = random_logits(rows=2, vocab=vocab, seed=2)
    top_p = 0.6
    nuclei = []
    for row in logits:
        order = np.argsort(-row)
        probs = np.exp(row[order] - row.max())
        probs /= probs.sum()
        size = int(np.searchsorted(np.cumsum(probs), top_p)) + 1
        nuclei.append(set(order[:size]))
    rng = np.random.default_rng(0)
    seen = [set(), set()]
    for _ in range(500):
        picks = sample_tokens(logits, temperature=1.0, top_k=0, top_p=top_p, rng=rng)
        for row, pick in enumerate(picks):
            seen[row].add(int(pick))
    assert seen[0] <= nuclei[0] and seen[1] <= nuclei[1]
    assert seen[0] == nuclei[0]


def test_nucleus_shortlist_falls_back_when_the_distribution_is_flat():
    logits = np.zeros((1, sampling.NUCLEUS_SHORTLISTS[-1] * 4), dtype=np.float32)
    picks = {int(draw(logits, seed=seed, top_p=0.9)[0]) for seed in range(300)}
    assert max(picks) >= sampling.NUCLEUS_SHORTLISTS[-1]


def test_frequencies_match_softmax():
    logits = np.array([[2.0, 1.0, 0.5, -1.0, 0.0]], dtype=np.float32)
    temperature = 0.7
    expected = np.exp(logits[0] / temperature)
    expected /= expected.sum()
    rows = 20000
    picks = draw(np.repeat(logits, rows, axis=0), seed=42, temperature=temperature)
    frequencies = np.bincount(picks, minlength=5) / rows
    assert np.allclose(frequencies, expected, atol=0.015)


def test_rows_sample_independently():
    logits = np.zeros((8, 100), dtype=np.float32)
    assert len(set(draw(logits, seed=1).tolist())) > 1


def test_same_seed_same_draws():
    logits = random_logits()
    assert np.array_equal(draw(logits, seed=7, top_k=20, top_p=0.9), draw(logits, seed=7, top_k=20, top_p=0.9))


def test_repetition_penalty_follows_hugging_face():
    logits = np.array([[2.0, -2.0, 1.0, -1.0]], dtype=np.float32)
    seen = np.array([[True, True, False, False]])
    penalised = apply_repetition_penalty(logits, seen, 2.0)
    assert penalised.tolist() == [[1.0, -4.0, 1.0, -1.0]]
    assert apply_repetition_penalty(logits, seen, 1.0) is logits


def test_repetition_penalty_on_broadcast_and_strided_logits():
    """The decoder passes the prompt's logits broadcast to N rows, and ORT outputs sliced."""
    row = np.array([2.0, -2.0, 1.0, -1.0], dtype=np.float32)
    seen = np.array([[True, False, False, True], [False, True, True, False]])
    expected = [[1.0, -2.0, 1.0, -2.0], [2.0, -4.0, 0.5, -1.0]]
    broadcast = np.broadcast_to(row, (2, 4))
    strided = np.stack([row, row, row, row])[::2]
    assert apply_repetition_penalty(broadcast, seen, 2.0).tolist() == expected
    assert apply_repetition_penalty(strided, seen, 2.0).tolist() == expected


def test_repetition_penalty_lowers_a_seen_token():
    logits = np.array([[3.0, 2.9, 0.0]], dtype=np.float32)
    settings = GenerationSettings(n=1, temperature=0, repetition_penalty=1.5)
    sampler = TokenSampler(settings, rows=1, vocab_size=3, prompt_ids=[])
    assert sampler.next_tokens(logits).tolist() == [0]
    assert sampler.next_tokens(logits).tolist() == [1]


def test_sampler_counts_prompt_tokens_as_seen():
    logits = np.array([[3.0, 2.9, 0.0]], dtype=np.float32)
    settings = GenerationSettings(n=1, temperature=0, repetition_penalty=1.5)
    sampler = TokenSampler(settings, rows=1, vocab_size=3, prompt_ids=[0, 999])
    assert sampler.next_tokens(logits).tolist() == [1]


def test_dropping_rows_keeps_each_rows_random_stream():
    settings = GenerationSettings(n=3, temperature=1.0, top_k=0, top_p=1.0, repetition_penalty=1.0, seed=5)
    logits = np.zeros((3, 1000), dtype=np.float32)
    full = TokenSampler(settings, 3, 1000, [])
    dropped = TokenSampler(settings, 3, 1000, [])
    full.next_tokens(logits)
    dropped.next_tokens(logits)
    dropped.keep_rows(np.array([0, 2]))
    assert full.next_tokens(logits)[[0, 2]].tolist() == dropped.next_tokens(logits[:2]).tolist()


def _greedy_loop(settings, logits_row, steps, prompt=(0,)):
    """Always the same favourite tokens: a model stuck in a loop; returns what the sampler picks."""
    sampler = TokenSampler(settings, 1, len(logits_row), list(prompt))
    return [int(sampler.next_tokens(np.array([logits_row], dtype=np.float32))[0]) for _ in range(steps)]


def test_no_repeat_ngram_breaks_a_loop_that_greedy_decoding_would_repeat():
    # A model whose favourite is always token 1, then 2: greedy repeats "1" forever.
    row = [0.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    loop = _greedy_loop(GenerationSettings(n=1, temperature=0, no_repeat_ngram=0), row, 6)
    assert loop == [1] * 6
    picks = _greedy_loop(GenerationSettings(n=1, temperature=0, no_repeat_ngram=2), row, 6)
    pairs = list(zip(picks, picks[1:]))
    assert len(pairs) == len(set(pairs)), picks  # no bigram twice
    assert picks[:5] == [1, 1, 2, 1, 3]  # a second "1 1" and "1 2" are banned: the next best is 3


def test_no_repeat_ngram_ignores_the_prompt_so_facts_can_be_copied():
    row = [0.0, 5.0, 4.0, 3.0]
    picks = _greedy_loop(GenerationSettings(n=1, temperature=0, no_repeat_ngram=2), row, 2, prompt=(1, 1, 1))
    assert picks[0] == 1  # the prompt's "1 1" does not ban writing 1 after 1


def test_no_repeat_ngram_follows_dropped_rows():
    settings = GenerationSettings(n=2, temperature=0, no_repeat_ngram=2)
    sampler = TokenSampler(settings, 2, 4, [0])
    logits = np.array([[0, 5, 4, 3], [0, 3, 4, 5]], dtype=np.float32)
    sampler.next_tokens(logits)
    sampler.next_tokens(logits)  # row 0 wrote 1 1, row 1 wrote 3 3
    sampler.keep_rows(np.array([1]))
    assert sampler.banned_tokens(0) == [3]


def test_no_repeat_ngram_of_one_is_refused():
    with pytest.raises(ValueError, match="no_repeat_ngram must be 0"):
        GenerationSettings(no_repeat_ngram=1)
