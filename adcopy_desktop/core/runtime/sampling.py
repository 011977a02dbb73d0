"""Next-token choice for a whole batch at once, in numpy, with Hugging Face's semantics.

Order as in transformers: repetition penalty, temperature, top-k, top-p, then one draw per row.
Everything is vectorised over the batch so the per-step cost stays flat as candidates are added.
"""

from __future__ import annotations

import numpy as np

from adcopy_desktop.core.candidates import GenerationSettings

# Top-p without top-k first tries the best few hundred (then thousand) tokens, an O(vocab)
# partition each, and sorts the whole vocabulary only when they do not hold the nucleus: a full
# sort of a 49k vocabulary costs about 10 ms a row.
NUCLEUS_SHORTLISTS = (256, 4096)


def apply_repetition_penalty(logits: np.ndarray, seen: np.ndarray, penalty: float) -> np.ndarray:
    """Make already-seen tokens less likely: positive logits divided, negative ones multiplied."""
    if penalty == 1.0:
        return logits
    penalised = np.array(logits, order="C")  # C order so that reshape(-1) is a view, even of a broadcast
    flat = penalised.reshape(-1)
    positions = np.flatnonzero(seen)  # seen tokens are few: 20x faster than np.where over the vocabulary
    values = flat[positions]
    flat[positions] = np.where(values > 0, values / penalty, values * penalty)
    return penalised


def _take(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Row-wise gather; plain fancy indexing is several times cheaper than np.take_along_axis."""
    return values[np.arange(values.shape[0])[:, None], indices]


def _nucleus_shortlist(scaled: np.ndarray, top_p: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The best tokens per row, when they surely hold the top-p nucleus, and each row's total mass."""
    vocab = scaled.shape[-1]
    row_max = scaled.max(axis=-1, keepdims=True)
    full_mass = np.exp(scaled - row_max).sum(axis=-1, keepdims=True)
    for width in NUCLEUS_SHORTLISTS:
        if width >= vocab:
            return None
        shortlist = np.argpartition(scaled, vocab - width, axis=-1)[:, vocab - width :]
        short_mass = np.exp(_take(scaled, shortlist) - row_max).sum(axis=-1, keepdims=True)
        if bool(np.all(short_mass >= top_p * full_mass)):
            return shortlist, full_mass
    return None


def sample_tokens(
    logits: np.ndarray,
    *,
    temperature: float,
    top_k: int,
    top_p: float,
    rng: np.random.Generator,
    uniforms: np.ndarray | None = None,
) -> np.ndarray:
    """One token id per row of ``logits`` [rows, vocab]; argmax when ``temperature`` is 0.

    ``uniforms`` (one value in [0, 1) per row) replaces the draws from ``rng`` when given.
    """
    if temperature == 0:
        return np.argmax(logits, axis=-1)
    rows, vocab = logits.shape
    scaled = np.asarray(logits, dtype=np.float32) / np.float32(temperature)

    candidates: np.ndarray | None = None
    mass: np.ndarray | None = None  # set when top-p must be measured against the whole vocabulary
    if 0 < top_k < vocab:
        candidates = np.argpartition(scaled, vocab - top_k, axis=-1)[:, vocab - top_k :]
    elif top_p < 1.0 and (shortlisted := _nucleus_shortlist(scaled, top_p)) is not None:
        candidates, mass = shortlisted
    candidate_logits = scaled if candidates is None else _take(scaled, candidates)

    order: np.ndarray | None = None
    if top_p < 1.0:
        order = np.argsort(-candidate_logits, axis=-1, kind="stable")
        ranked_logits = _take(candidate_logits, order)
        probs = np.exp(ranked_logits - ranked_logits[:, :1])
        cumulative = np.cumsum(probs, axis=-1)
        if mass is None:
            mass = cumulative[:, -1:]
        keep = (cumulative - probs) < top_p * mass
        cumulative = np.cumsum(np.where(keep, probs, 0.0), axis=-1)
    else:
        probs = np.exp(candidate_logits - candidate_logits.max(axis=-1, keepdims=True))
        cumulative = np.cumsum(probs, axis=-1)

    if uniforms is None:
        uniforms = rng.random(rows)
    draws = uniforms.reshape(rows, 1) * cumulative[:, -1:]
    picks = np.minimum((cumulative <= draws).sum(axis=-1), cumulative.shape[-1] - 1)[:, None]
    if order is not None:
        picks = _take(order, picks)
    if candidates is not None:
        picks = _take(candidates, picks)
    return picks[:, 0]


class TokenSampler:
    """Per-request sampling state: the random generator and, for the penalty, the tokens seen."""

    def __init__(
        self, settings: GenerationSettings, rows: int, vocab_size: int, prompt_ids: list[int]
    ) -> None:
        self.settings = settings
        self.rng = np.random.default_rng(settings.seed)
        # Every original row draws each step, even once finished, so a candidate's randomness
        # does not depend on when the other candidates of the request stop.
        self._total_rows = rows
        self._alive_rows = np.arange(rows)
        self.seen: np.ndarray | None = None
        if settings.repetition_penalty != 1.0:
            self.seen = np.zeros((rows, vocab_size), dtype=bool)
            prompt = np.asarray(prompt_ids, dtype=np.int64)
            self.seen[:, prompt[(prompt >= 0) & (prompt < vocab_size)]] = True

        self.generated: list[list[int]] = [[] for _ in range(rows)]

    def banned_tokens(self, row: int) -> list[int]:
        """Tokens that would complete an n-gram this row already wrote (``no_repeat_ngram``)."""
        size = self.settings.no_repeat_ngram
        tokens = self.generated[row]
        if size < 2 or len(tokens) < size:
            return []
        prefix = tuple(tokens[len(tokens) - size + 1:])
        return [tokens[i + size - 1] for i in range(len(tokens) - size + 1)
                if tuple(tokens[i:i + size - 1]) == prefix]

    def next_tokens(self, logits: np.ndarray) -> np.ndarray:
        """Sample from ``logits`` [rows, vocab] and remember the picks for the penalty."""
        settings = self.settings
        if self.seen is not None:
            logits = apply_repetition_penalty(logits, self.seen, settings.repetition_penalty)
        if settings.no_repeat_ngram >= 2:
            banned = [(row, self.banned_tokens(row)) for row in range(logits.shape[0])]
            if any(tokens for _, tokens in banned):
                logits = np.array(logits, copy=True)
                for row, tokens in banned:
                    logits[row, tokens] = -np.inf
        uniforms = None
        if settings.temperature != 0:
            uniforms = self.rng.random(self._total_rows)[self._alive_rows]
        tokens = sample_tokens(
            logits,
            temperature=settings.temperature,
            top_k=settings.top_k,
            top_p=settings.top_p,
            rng=self.rng,
            uniforms=uniforms,
        )
        if self.seen is not None:
            self.seen[np.arange(tokens.shape[0]), tokens] = True
        for row, token in enumerate(tokens.tolist()):
            self.generated[row].append(int(token))
        return tokens

    def keep_rows(self, rows: np.ndarray) -> None:
        """Follow the decoder when it drops finished candidates from the batch."""
        self._alive_rows = self._alive_rows[rows]
        self.generated = [self.generated[row] for row in np.asarray(rows).tolist()]
        if self.seen is not None:
            self.seen = self.seen[rows]
