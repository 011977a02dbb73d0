"""Text metrics for evaluation and scoring: tokens, BLEU-4, ROUGE-1/2/L, distinct-n, repeated phrases.

Implemented here in plain Python (tests check them against hand-computed values) so results do not
depend on which metric package happens to be installed.

Tokens
  English: lower-cased words (letters, digits, inner ' and -); punctuation is dropped.
  Chinese: jieba words when jieba is installed (``zh_tokens="jieba"``, the default), else
  characters (``"char"``): every Han character on its own, Latin/digit runs as one token,
  punctuation dropped. Reports name the tokenisation they used.

BLEU-4 (Papineni et al. 2002): geometric mean of clipped 1- to 4-gram precisions times the brevity
penalty ``exp(1 - r/c)`` when the candidate is shorter than the closest reference. Smoothing for
zero counts: ``"floor"`` (Chen & Cherry method 1: a zero numerator becomes 0.1), ``"add1"``
(method 2: add 1 to numerator and denominator of 2- to 4-grams), or ``"none"``.
Corpus BLEU sums the clipped counts and lengths over all examples before combining.

ROUGE-N F1: clipped n-gram overlap over candidate (precision) and reference (recall) counts.
ROUGE-L F1: longest common subsequence over candidate and reference lengths. With several
references the best F1 counts. Corpus ROUGE is the mean over examples.

distinct-n (Li et al. 2016): distinct n-grams / all n-grams, over the texts given.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

ZH_TOKENS = ("jieba", "char")

_EN_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+(?:['’\-][0-9A-Za-z\u00C0-\u024F]+)*")
_LATIN_RUN = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+(?:['’\-.][0-9A-Za-z\u00C0-\u024F]+)*")

_jieba = None
_jieba_checked = False


@dataclass(frozen=True)
class Token:
    text: str  # normalised (lower case, NFKC)
    start: int  # character span in the original text
    end: int


def jieba_available() -> bool:
    return _load_jieba() is not None


def _load_jieba():
    global _jieba, _jieba_checked
    if not _jieba_checked:
        _jieba_checked = True
        try:
            import jieba  # noqa: PLC0415

            jieba.setLogLevel(logging.WARNING)
            try:
                from adcopy_desktop.paths import user_folders

                cache = user_folders().cache
                cache.mkdir(parents=True, exist_ok=True)
                jieba.dt.tmp_dir = str(cache)
            except OSError:
                pass
            _jieba = jieba
        except ImportError:
            _jieba = None
    return _jieba


def zh_tokenization(requested: str | None = None) -> str:
    """The Chinese tokenisation in use: the requested one, jieba when installed, else characters."""
    if requested not in (None, *ZH_TOKENS):
        raise ValueError(f"zh_tokens must be one of {', '.join(ZH_TOKENS)}, not {requested!r}")
    if requested == "char":
        return "char"
    return "jieba" if jieba_available() else "char"


def _is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in ("L", "N")


def tokens_with_spans(text: str, language: str, zh_tokens: str | None = None) -> list[Token]:
    """Tokens of ``text`` (see the module docstring) with their character spans."""
    normalised = unicodedata.normalize("NFKC", text)
    same_length = len(normalised) == len(text)
    source = normalised if same_length else text
    if language != "zh":
        return [Token(m.group().lower(), m.start(), m.end()) for m in _EN_WORD.finditer(source)]
    if zh_tokenization(zh_tokens) == "jieba":
        jieba = _load_jieba()
        tokens = []
        for word, start, end in jieba.tokenize(source):
            if any(_is_word_char(char) for char in word):
                tokens.append(Token(word.lower(), start, end))
        return tokens
    tokens = []
    index = 0
    while index < len(source):
        char = source[index]
        latin = _LATIN_RUN.match(source, index) if char.isascii() or "\u00C0" <= char <= "\u024F" else None
        if latin:
            tokens.append(Token(latin.group().lower(), index, latin.end()))
            index = latin.end()
            continue
        if _is_word_char(char):
            tokens.append(Token(char.lower(), index, index + 1))
        index += 1
    return tokens


def tokenize(text: str, language: str, zh_tokens: str | None = None) -> list[str]:
    return [token.text for token in tokens_with_spans(text, language, zh_tokens)]


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)] if n > 0 else []


# -- BLEU ----------------------------------------------------------------------------------------


@dataclass
class BleuStats:
    """Sufficient statistics for BLEU: clipped matches and totals per order, lengths."""

    matches: list[int]
    totals: list[int]
    hyp_length: int
    ref_length: int

    def __add__(self, other: "BleuStats") -> "BleuStats":
        return BleuStats([a + b for a, b in zip(self.matches, other.matches)],
                         [a + b for a, b in zip(self.totals, other.totals)],
                         self.hyp_length + other.hyp_length, self.ref_length + other.ref_length)


def bleu_stats(references: Sequence[Sequence[str]], hypothesis: Sequence[str], max_n: int = 4) -> BleuStats:
    matches, totals = [], []
    for n in range(1, max_n + 1):
        counts = Counter(ngrams(hypothesis, n))
        max_ref: Counter = Counter()
        for reference in references:
            for gram, count in Counter(ngrams(reference, n)).items():
                max_ref[gram] = max(max_ref[gram], count)
        matches.append(sum(min(count, max_ref[gram]) for gram, count in counts.items()))
        totals.append(max(0, len(hypothesis) - n + 1))
    hyp_length = len(hypothesis)
    # closest reference length (ties: the shorter), as in the original BLEU
    ref_length = min((abs(len(r) - hyp_length), len(r)) for r in references)[1] if references else 0
    return BleuStats(matches, totals, hyp_length, ref_length)


def bleu_from_stats(stats: BleuStats, smoothing: str = "floor", epsilon: float = 0.1) -> float:
    if smoothing not in ("floor", "add1", "none"):
        raise ValueError(f"smoothing must be floor, add1 or none, not {smoothing!r}")
    if stats.hyp_length == 0:
        return 0.0
    log_sum = 0.0
    orders = len(stats.matches)
    for order, (match, total) in enumerate(zip(stats.matches, stats.totals), start=1):
        if smoothing == "add1" and order > 1:
            match, total = match + 1, total + 1
        if total == 0:
            return 0.0
        if match == 0:
            if smoothing == "none":
                return 0.0
            match = epsilon if smoothing == "floor" else match
            if match == 0:
                return 0.0
        log_sum += math.log(match / total)
    brevity = 1.0 if stats.hyp_length > stats.ref_length else math.exp(1 - stats.ref_length / stats.hyp_length)
    return brevity * math.exp(log_sum / orders)


def sentence_bleu(references: Sequence[Sequence[str]], hypothesis: Sequence[str], *, max_n: int = 4,
                  smoothing: str = "floor") -> float:
    return bleu_from_stats(bleu_stats(references, hypothesis, max_n), smoothing)


def corpus_bleu(references: Sequence[Sequence[Sequence[str]]], hypotheses: Sequence[Sequence[str]], *,
                max_n: int = 4, smoothing: str = "floor") -> float:
    if not hypotheses:
        return 0.0
    total = BleuStats([0] * max_n, [0] * max_n, 0, 0)
    for refs, hyp in zip(references, hypotheses):
        total = total + bleu_stats(refs, hyp, max_n)
    return bleu_from_stats(total, smoothing)


# -- ROUGE ---------------------------------------------------------------------------------------


def _f1(overlap: float, hyp_total: int, ref_total: int) -> float:
    if overlap == 0 or hyp_total == 0 or ref_total == 0:
        return 0.0
    precision, recall = overlap / hyp_total, overlap / ref_total
    return 2 * precision * recall / (precision + recall)


def rouge_n(references: Sequence[Sequence[str]], hypothesis: Sequence[str], n: int) -> float:
    """Best ROUGE-N F1 over the references."""
    hyp = Counter(ngrams(hypothesis, n))
    best = 0.0
    for reference in references:
        ref = Counter(ngrams(reference, n))
        overlap = sum(min(count, ref[gram]) for gram, count in hyp.items())
        best = max(best, _f1(overlap, sum(hyp.values()), sum(ref.values())))
    return best


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(references: Sequence[Sequence[str]], hypothesis: Sequence[str]) -> float:
    """Best ROUGE-L F1 (beta = 1) over the references."""
    return max((_f1(lcs_length(hypothesis, r), len(hypothesis), len(r)) for r in references), default=0.0)


# -- diversity and repetition --------------------------------------------------------------------


def distinct_n(texts_tokens: Iterable[Sequence[str]], n: int) -> float:
    """Distinct n-grams over all n-grams of the given token lists (0 when there are none)."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for tokens in texts_tokens:
        grams = ngrams(tokens, n)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


@dataclass(frozen=True)
class RepeatedPhrase:
    phrase: str  # as written at its first occurrence
    count: int
    spans: tuple[tuple[int, int], ...]  # every occurrence after the first


def repeated_phrases(text: str, language: str, *, min_tokens: int | None = None,
                     zh_tokens: str | None = "char") -> list[RepeatedPhrase]:
    """Phrases of at least ``min_tokens`` tokens (default: 4 characters for Chinese, 3 words for
    English) that occur more than once, longest first; a phrase inside a longer reported one is
    not reported again."""
    tokens = tokens_with_spans(text, language, zh_tokens)
    if min_tokens is None:
        min_tokens = 4 if language == "zh" else 3
    words = [t.text for t in tokens]
    found: list[RepeatedPhrase] = []
    covered: set[int] = set()  # token indices already inside a reported repeat
    for n in range(min(len(words) // 2, 12), min_tokens - 1, -1):
        positions: dict[tuple[str, ...], list[int]] = {}
        for i in range(len(words) - n + 1):
            positions.setdefault(tuple(words[i:i + n]), []).append(i)
        for gram, starts in positions.items():
            # non-overlapping occurrences only
            kept = []
            for start in starts:
                if not kept or start >= kept[-1] + n:
                    kept.append(start)
            if len(kept) < 2 or all(i in covered for start in kept for i in range(start, start + n)):
                continue
            for start in kept:
                covered.update(range(start, start + n))
            first = kept[0]
            found.append(RepeatedPhrase(
                phrase=text[tokens[first].start:tokens[first + n - 1].end],
                count=len(kept),
                spans=tuple((tokens[s].start, tokens[s + n - 1].end) for s in kept[1:]),
            ))
    return found


def immediate_repeats(text: str, language: str, *, max_tokens: int = 4) -> list[RepeatedPhrase]:
    """Words or short phrases repeated back to back ("soft soft soft", "舒适舒适"): a phrase of 1 to
    ``max_tokens`` tokens (Chinese: at least 2 characters, since 看看 and 常常 are ordinary words)
    followed at once by itself. Each run is reported once with its extra copies as spans."""
    tokens = tokens_with_spans(text, language, "char")
    words = [t.text for t in tokens]
    found: list[RepeatedPhrase] = []
    index = 0
    shortest = 2 if language == "zh" else 1
    while index < len(words):
        best = None
        for n in range(shortest, max_tokens + 1):
            copies = 1
            while index + (copies + 1) * n <= len(words) and \
                    words[index + copies * n:index + (copies + 1) * n] == words[index:index + n]:
                copies += 1
            if copies > 1 and (best is None or copies * n > best[0] * best[1]):
                best = (copies, n)
        if best is None:
            index += 1
            continue
        copies, n = best
        first = text[tokens[index].start:tokens[index + n - 1].end]
        spans = tuple((tokens[index + k * n].start, tokens[index + (k + 1) * n - 1].end) for k in range(1, copies))
        found.append(RepeatedPhrase(first, copies, spans))
        index += copies * n
    return found
