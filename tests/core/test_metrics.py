"""BLEU, ROUGE, distinct-n and repetition against values worked out by hand."""

import math

import pytest

from adcopy_desktop.core import metrics
from adcopy_desktop.core.metrics import (
    bleu_stats,
    corpus_bleu,
    distinct_n,
    immediate_repeats,
    lcs_length,
    repeated_phrases,
    rouge_l,
    rouge_n,
    sentence_bleu,
    tokenize,
    tokens_with_spans,
)


def test_english_tokens_are_lower_case_words_without_punctuation():
    assert tokenize("A white, relaxed-fit Denim jacket!", "en") == ["a", "white", "relaxed-fit", "denim", "jacket"]


def test_chinese_character_tokens_keep_latin_runs_whole():
    assert tokenize("纯棉T恤，iPhone 15 壳", "zh", "char") == ["纯", "棉", "t", "恤", "iphone", "15", "壳"]


def test_chinese_jieba_tokens_are_words_with_spans():
    pytest.importorskip("jieba")
    tokens = tokens_with_spans("白色牛仔布上衣，宽松", "zh", "jieba")
    assert [t.text for t in tokens] == ["白色", "牛仔布", "上衣", "宽松"]
    assert [(t.start, t.end) for t in tokens] == [(0, 2), (2, 5), (5, 7), (8, 10)]
    assert metrics.zh_tokenization() == "jieba"


def test_unknown_tokenization_is_refused():
    with pytest.raises(ValueError, match="zh_tokens"):
        tokenize("好", "zh", "bpe")


# BLEU. Candidate "the cat sat on the mat" (6 tokens) vs reference "the cat is on the mat" (6):
#   1-grams: the×2, cat, sat, on, mat -> matches the×2, cat, on, mat = 5/6
#   2-grams: the cat, cat sat, sat on, on the, the mat -> the cat, on the, the mat = 3/5
#   3-grams: the cat sat, cat sat on, sat on the, on the mat -> on the mat = 1/4
#   4-grams: 3 of them, none match -> 0/3
HYP = "the cat sat on the mat".split()
REF = "the cat is on the mat".split()


def test_bleu_counts_clipped_ngrams():
    stats = bleu_stats([REF], HYP)
    assert stats.matches == [5, 3, 1, 0] and stats.totals == [6, 5, 4, 3]
    assert stats.hyp_length == 6 and stats.ref_length == 6


def test_bleu_smoothing_by_hand():
    # unsmoothed: a zero 4-gram precision makes BLEU 0
    assert sentence_bleu([REF], HYP, smoothing="none") == 0.0
    # floor (method 1): the zero count becomes 0.1 -> (5/6 * 3/5 * 1/4 * 0.1/3) ** (1/4)
    expected = (5 / 6 * 3 / 5 * 1 / 4 * 0.1 / 3) ** 0.25
    assert sentence_bleu([REF], HYP, smoothing="floor") == pytest.approx(expected)
    assert expected == pytest.approx(0.2541, abs=1e-4)
    # add1 (method 2): 5/6, 4/6, 2/5, 1/4
    assert sentence_bleu([REF], HYP, smoothing="add1") == pytest.approx((5 / 6 * 4 / 6 * 2 / 5 * 1 / 4) ** 0.25)


def test_bleu_brevity_penalty_and_identity():
    assert sentence_bleu([REF], REF) == pytest.approx(1.0)
    short = "the cat is on".split()  # 4 tokens vs 6: BP = exp(1 - 6/4)
    stats = bleu_stats([REF], short)
    precisions = [4 / 4, 3 / 3, 2 / 2, 1 / 1]
    assert stats.matches == [4, 3, 2, 1]
    assert sentence_bleu([REF], short) == pytest.approx(math.exp(1 - 6 / 4) * math.prod(precisions) ** 0.25)


def test_bleu_uses_the_closest_reference_length_and_clips_per_reference_maximum():
    hyp = "the the the".split()
    stats = bleu_stats([["the", "cat"], ["the", "the", "dog", "x"]], hyp)
    assert stats.matches[0] == 2  # "the" appears at most twice in one reference
    assert stats.ref_length == 2  # |3-2| = 1 beats |3-4| = 1 by being shorter


def test_corpus_bleu_sums_counts_before_combining():
    refs = [[REF], [["a", "b", "c", "d"]]]
    hyps = [HYP, ["a", "b", "c", "d"]]
    # summed: 1-grams (5+4)/(6+4), 2-grams (3+3)/(5+3), 3-grams (1+2)/(4+2), 4-grams (0+1)/(3+1);
    # lengths 10 vs 10, so no brevity penalty; the first sentence alone would score 0 unsmoothed
    expected = (9 / 10 * 6 / 8 * 3 / 6 * 1 / 4) ** 0.25
    assert expected == pytest.approx(0.5390, abs=1e-4)
    assert corpus_bleu(refs, hyps) == pytest.approx(expected)
    assert corpus_bleu([], []) == 0.0


def test_rouge_by_hand():
    # ROUGE-1: overlap 5 of 6 both ways -> F1 5/6; ROUGE-2: 3 of 5 -> 0.6
    assert rouge_n([REF], HYP, 1) == pytest.approx(5 / 6)
    assert rouge_n([REF], HYP, 2) == pytest.approx(3 / 5)
    # LCS("the cat sat on the mat", "the cat is on the mat") = the cat on the mat = 5 -> 5/6
    assert lcs_length(HYP, REF) == 5
    assert rouge_l([REF], HYP) == pytest.approx(5 / 6)
    # unequal lengths: hyp "a b" vs ref "a b c d": P=1, R=1/2 -> F1 = 2/3
    assert rouge_n([list("abcd")], list("ab"), 1) == pytest.approx(2 / 3)
    assert rouge_l([list("abcd"), list("ab")], list("ab")) == pytest.approx(1.0)  # best reference
    assert rouge_n([REF], [], 1) == 0.0


def test_distinct_n_by_hand():
    texts = [["a", "b", "a", "b"], ["a", "c"]]
    # unigrams: 6 in all, distinct a b c = 3 -> 0.5; bigrams: ab ba ab ac = 4, distinct 3 -> 0.75
    assert distinct_n(texts, 1) == pytest.approx(0.5)
    assert distinct_n(texts, 2) == pytest.approx(0.75)
    assert distinct_n([[]], 2) == 0.0


def test_repeated_phrases_report_each_repeat_once_with_spans():
    text = "soft cotton tee for summer, soft cotton tee for you"
    [repeat] = repeated_phrases(text, "en")
    assert repeat.phrase == "soft cotton tee for" and repeat.count == 2
    [(start, end)] = repeat.spans
    assert text[start:end] == "soft cotton tee for" and start > 0
    [zh] = repeated_phrases("宽松版型很好看，宽松版型不挑人", "zh")
    assert zh.phrase == "宽松版型" and zh.count == 2
    assert repeated_phrases("A jacket for every day.", "en") == []


def test_immediate_repeats_find_stutters_but_not_chinese_reduplication():
    text = "Soft soft soft jacket"
    [stutter] = immediate_repeats(text, "en")
    assert stutter.phrase == "Soft" and stutter.count == 3
    assert [text[s:e] for s, e in stutter.spans] == ["soft", "soft"]
    assert immediate_repeats("看看这件常常穿的外套", "zh") == []
    [zh] = immediate_repeats("舒适舒适的外套", "zh")
    assert zh.phrase == "舒适"
