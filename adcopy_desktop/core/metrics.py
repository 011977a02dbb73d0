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

ChatGLM-6B's AdvertiseGen figures (``chatglm_metrics``): what its P-tuning evaluation reports, so
numbers compare with the published ones: sentence BLEU-4 on characters with NLTK's smoothing
method3, and the ``rouge_chinese`` package's ROUGE-1/2/L F on raw jieba words, 0-100, averaged over
examples. Its ROUGE differs from the one above: n-grams count once each (sets), LCS over the whole
text, F = 2PR / (P + R + 1e-8).

Degenerate output (``is_degenerate``): text that repeats itself the way a lost model does (loops,
one sentence three times); rules at ``degeneration_reason``.
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


# -- ChatGLM-6B's AdvertiseGen figures -------------------------------------------------------------
#
# ChatGLM-6B's P-tuning evaluation (ptuning/main.py, ``compute_metrics``) scores one example as
#   ROUGE-1/2/L: the F of the ``rouge_chinese`` package on jieba words (``jieba.cut`` of the raw text,
#                punctuation and all), the words joined with spaces;
#   BLEU-4:      NLTK ``sentence_bleu`` of the characters against the reference's characters, uniform
#                weights, ``SmoothingFunction().method3``;
# each times 100 and rounded to 4 places, then averaged over the examples. The functions below
# reproduce that without NLTK or rouge_chinese (checked against both, see tests/core/test_metrics.py).

CHATGLM_KEYS = ("bleu-4", "rouge-1", "rouge-2", "rouge-l")


def sentence_bleu4_method3(reference_tokens: Sequence[str], hypothesis_tokens: Sequence[str]) -> float:
    """NLTK's ``sentence_bleu([reference], hypothesis, smoothing_function=SmoothingFunction().method3)``.

    Modified precision p_n = clipped matches / max(1, hypothesis n-grams); an order with no match
    gets 1 / (2^k * that denominator), k = 1, 2, ... over the orders without a match (NIST geometric
    smoothing); BLEU = BP * exp(sum(0.25 * log p_n)), BP = 1 when the hypothesis is longer than the
    reference, else exp(1 - r / c). As in NLTK, no unigram match (an empty hypothesis or reference
    included) gives 0, and a hypothesis shorter than 4 tokens still scores: its missing orders count
    as unmatched with denominator 1 (two matching characters score 0.5946...).
    """
    hyp, ref = list(hypothesis_tokens), list(reference_tokens)
    if not hyp:
        return 0.0
    log_terms = []
    k = 1
    for n in range(1, 5):
        hyp_counts = Counter(ngrams(hyp, n))
        ref_counts = Counter(ngrams(ref, n))
        matches = sum(min(count, ref_counts[gram]) for gram, count in hyp_counts.items())
        denominator = max(1, sum(hyp_counts.values()))
        if matches == 0:
            if n == 1:
                return 0.0
            precision = 1 / (2 ** k * denominator)
            k += 1
        else:
            precision = matches / denominator
        log_terms.append(0.25 * math.log(precision))
    brevity = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return brevity * math.exp(math.fsum(log_terms))


# rouge_chinese splits the joined text into sentences after 。！？? (not before a closing quote),
# six dots or two ellipses; the words are the space-separated pieces of each sentence after its
# whitespace is collapsed. A sentence of whitespace only (a blank line) leaves one empty word.
_SENTENCE_CUTS = (
    (re.compile(r"([。！？?])([^”’])"), "\\1\n\\2"),
    (re.compile(r"(\.{6})([^”’])"), "\\1\n\\2"),
    (re.compile(r"(…{2})([^”’])"), "\\1\n\\2"),
    (re.compile(r"([。！？?][”’])([^，。！？?])"), "\\1\n\\2"),
)


def rouge_words(tokens: Sequence[str]) -> list[str]:
    """The words ``rouge_chinese`` scores when given ``" ".join(tokens)`` (empty when it would refuse
    the text as empty)."""
    text = " ".join(tokens)
    for pattern, replacement in _SENTENCE_CUTS:
        text = pattern.sub(replacement, text)
    sentences = [" ".join(part.split()) for part in text.rstrip().split("\n") if part]
    return [word for sentence in sentences for word in sentence.split(" ")]


def _rouge_f(precision: float, recall: float) -> float:
    return 2.0 * ((precision * recall) / (precision + recall + 1e-8))


def rouge_n_f(reference_tokens: Sequence[str], hypothesis_tokens: Sequence[str], n: int) -> float:
    """ROUGE-N F as ``rouge_chinese`` (and pltrdy/rouge) compute it: over the SETS of distinct
    n-grams, F = 2PR / (P + R + 1e-8). 0 when either side has no words (where the package raises)."""
    hyp, ref = rouge_words(hypothesis_tokens), rouge_words(reference_tokens)
    if not hyp or not ref:
        return 0.0
    hyp_grams, ref_grams = set(ngrams(hyp, n)), set(ngrams(ref, n))
    overlap = len(hyp_grams & ref_grams)
    precision = overlap / len(hyp_grams) if hyp_grams else 0.0
    recall = overlap / len(ref_grams) if ref_grams else 0.0
    return _rouge_f(precision, recall)


def rouge_l_f(reference_tokens: Sequence[str], hypothesis_tokens: Sequence[str]) -> float:
    """ROUGE-L F as ``rouge_chinese`` computes it: the LCS of all hypothesis words and all reference
    words (sentences joined, repeats counted), P = LCS / hypothesis words, R = LCS / reference words,
    F = 2PR / (P + R + 1e-8). (pltrdy/rouge instead takes the union LCS per reference sentence over
    sets of words; ChatGLM-6B uses rouge_chinese.)"""
    hyp, ref = rouge_words(hypothesis_tokens), rouge_words(reference_tokens)
    if not hyp or not ref:
        return 0.0
    common = lcs_length(ref, hyp)
    return _rouge_f(common / len(hyp), common / len(ref))


def _jieba_words(text: str) -> list[str]:
    jieba = _load_jieba()
    if jieba is None:
        raise RuntimeError("ChatGLM-6B's figures need jieba (pip install jieba)")
    return jieba.lcut(text)


def chatglm_metrics(reference: str, hypothesis: str) -> dict[str, float]:
    """One example scored as ChatGLM-6B scores AdvertiseGen: ``bleu-4`` (characters, NLTK method3),
    ``rouge-1/2/l`` (F on jieba words), each 0-100 and rounded to 4 places as ChatGLM does.

    An empty hypothesis scores 0 everywhere (ChatGLM's script would stop with an error). The texts
    are scored as given; ChatGLM scored its tokenizer's decoding of them, which can differ in spaces.
    """
    hyp_words, ref_words = _jieba_words(hypothesis), _jieba_words(reference)
    return {
        "bleu-4": round(sentence_bleu4_method3(list(reference), list(hypothesis)) * 100, 4),
        "rouge-1": round(rouge_n_f(ref_words, hyp_words, 1) * 100, 4),
        "rouge-2": round(rouge_n_f(ref_words, hyp_words, 2) * 100, 4),
        "rouge-l": round(rouge_l_f(ref_words, hyp_words) * 100, 4),
    }


def mean_chatglm_metrics(per_example: Iterable[dict[str, float]]) -> dict[str, float]:
    """The mean of each ChatGLM figure over examples (ChatGLM's corpus figure)."""
    rows = list(per_example)
    if not rows:
        raise ValueError("no examples to average")
    return {key: math.fsum(row[key] for row in rows) / len(rows) for key in CHATGLM_KEYS}


def chatglm_corpus_metrics(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
    """ChatGLM-6B's figures for a data set: :func:`chatglm_metrics` per pair, averaged."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    return mean_chatglm_metrics(chatglm_metrics(r, h) for r, h in zip(references, hypotheses))


# -- degenerate output -----------------------------------------------------------------------------
#
# A small model that loses its way repeats itself: "舒适透气，舒适透气，舒适透气", the same sentence
# three times, or a loop that runs until the token limit. Judged on the tokens of the repetition
# checks (Chinese: characters, Latin runs whole; English: words; punctuation dropped), except the
# run of one character, which punctuation counts for ("！！！！！！"). The thresholds keep all 970
# references of the AdvertiseGen dev lines 101-1070 clear (there: at most 2 copies back to back, no
# clause twice, the longest repeated passage 8 characters, loop coverage 0.30, distinct-2 >= 0.80).

_DEGENERATE_LIMITS = {
    # language: (clause unit, passage said twice, back-to-back unit said twice)
    "zh": (4, 12, 8),
    "en": (3, 8, 5),
}
_CLAUSE_SPLIT = re.compile(r"[，。！？；：、,.!?;:\n]+")
_CHAR_RUN = re.compile(r"(\S)\1{4,}")
_RUN_ALLOWED = set(".…-—_=*~·")  # ellipses and separator lines (digits are allowed too: 10000)
LOOP_COVERAGE = 0.4
LOW_DISTINCT2 = 0.6
LOW_DISTINCT2_MIN_TOKENS = 50


def _quoted(text: str, tokens: Sequence[Token], limit: int = 24) -> str:
    """The tokens' stretch of ``text`` as written, in quotes, cut after ``limit`` tokens."""
    if not tokens:
        return "''"
    shown = text[tokens[0].start:tokens[min(len(tokens), limit) - 1].end]
    return f"'{shown}{'…' if len(tokens) > limit else ''}'"


def _back_to_back(words: Sequence[str], clause_unit: int, twice_unit: int) -> tuple[int, int, int] | None:
    """The first run of a unit said again at once past its limit: 1 token 5 times, 2+ tokens
    4 times, ``clause_unit`` tokens 3 times, ``twice_unit`` tokens twice; (start, unit, copies)."""
    length = len(words)
    for unit in range(1, length // 2 + 1):
        needed = 5 if unit == 1 else 4 if unit < clause_unit else 3 if unit < twice_unit else 2
        run = 0  # positions j with words[j] == words[j + unit], consecutive
        for j in range(length - unit + 1):
            if j < length - unit and words[j] == words[j + unit]:
                run += 1
                continue
            copies = (run + unit) // unit
            if copies >= needed:
                return j - run, unit, copies
            run = 0
    return None


def _repeated_passage(words: Sequence[str], size: int) -> tuple[int, int] | None:
    """(start, length) of the first passage of ``size``+ tokens that occurs again later without
    overlapping, as long as the two copies go on agreeing."""
    first: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - size + 1):
        gram = tuple(words[i:i + size])
        if gram in first and i >= first[gram] + size:
            start, length = first[gram], size
            while i + length < len(words) and start + length < i and words[start + length] == words[i + length]:
                length += 1
            return start, length
        first.setdefault(gram, i)
    return None


def _loop_coverage(words: Sequence[str], shortest: int) -> float:
    """Share of tokens inside n-grams (n >= ``shortest``) that occur 3+ times without overlap."""
    covered: set[int] = set()
    for n in range(shortest, len(words) // 3 + 1):
        starts: dict[tuple[str, ...], list[int]] = {}
        for i in range(len(words) - n + 1):
            kept = starts.setdefault(tuple(words[i:i + n]), [])
            if not kept or i >= kept[-1] + n:
                kept.append(i)
        repeated = [kept for kept in starts.values() if len(kept) >= 3]
        if not repeated:
            break  # no n-gram thrice means no longer one either
        for kept in repeated:
            for start in kept:
                covered.update(range(start, start + n))
    return len(covered) / len(words) if words else 0.0


def degeneration_reason(text: str, language: str | None = None) -> str | None:
    """Why ``text`` counts as degenerate (repeats itself), or None. The first rule that applies:

    1. one character 5+ times in a row ("哈哈哈哈哈", "！！！！！"; digits, dots, ellipses, dashes aside);
    2. a unit said again back to back: 1 token 5 times, 2+ tokens 4 times, a clause-sized unit
       (4+ characters / 3+ words) 3 times, 8+ characters / 5+ words twice;
    3. a passage of 12+ characters / 8+ words that occurs twice anywhere;
    4. the same clause (between punctuation) twice when it has 6+ characters / 4+ words, or three
       times when it has 2+;
    5. phrases of 4+ characters / 3+ words that occur 3+ times cover 40% of the text or more;
    6. distinct-2 below 0.6 on a text of 50+ tokens.
    ``language`` is "zh" or "en" (None: detected). Normal copy repeats words such as 的 or 设计, and a
    phrase or two, and stays clear; an empty text is not degenerate (it is empty).
    """
    if not text.strip():
        return None
    if language is None:
        from adcopy_desktop.core.languages import detect_language  # noqa: PLC0415

        language = detect_language(text)
    language = "zh" if language == "zh" else "en"
    clause_unit, passage, twice_unit = _DEGENERATE_LIMITS[language]
    sentence_clause = 6 if language == "zh" else 4

    for match in _CHAR_RUN.finditer(text):
        if match.group(1) not in _RUN_ALLOWED and not match.group(1).isdigit():
            return f"'{match.group(1)}' {len(match.group())} times in a row"

    spans = tokens_with_spans(text, language, "char")
    words = [token.text for token in spans]
    found = _back_to_back(words, clause_unit, twice_unit)
    if found:
        start, unit, copies = found
        return f"{_quoted(text, spans[start:start + unit])} {copies} times in a row"

    found_passage = _repeated_passage(words, passage)
    if found_passage:
        start, length = found_passage
        return f"the passage {_quoted(text, spans[start:start + length])} occurs twice"

    clauses: Counter = Counter()
    written: dict[tuple[str, ...], str] = {}
    for part in _CLAUSE_SPLIT.split(text):
        clause = tuple(tokenize(part, language, "char"))
        clauses[clause] += 1
        written.setdefault(clause, part.strip())
    for clause, count in clauses.most_common():
        if count < 2:
            break
        if (len(clause) >= sentence_clause and count >= 2) or (len(clause) >= 2 and count >= 3):
            return f"the clause '{written[clause]}' {count} times"

    coverage = _loop_coverage(words, clause_unit)
    if coverage >= LOOP_COVERAGE:
        return f"phrases said 3+ times cover {coverage:.0%} of the text"

    if len(words) >= LOW_DISTINCT2_MIN_TOKENS:
        distinct2 = distinct_n([words], 2)
        if distinct2 < LOW_DISTINCT2:
            return f"distinct-2 {distinct2:.2f} on {len(words)} tokens"
    return None


def is_degenerate(text: str, language: str | None = None) -> bool:
    """Whether ``text`` repeats itself the way a model that lost its way does (rules:
    :func:`degeneration_reason`)."""
    return degeneration_reason(text, language) is not None
