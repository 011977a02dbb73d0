"""BLEU, ROUGE, distinct-n and repetition against values worked out by hand."""

import math

import pytest

from adcopy_desktop.core import metrics
from adcopy_desktop.core.metrics import (
    CHATGLM_KEYS,
    bleu_stats,
    chatglm_corpus_metrics,
    chatglm_metrics,
    corpus_bleu,
    degeneration_reason,
    distinct_n,
    immediate_repeats,
    is_degenerate,
    lcs_length,
    mean_chatglm_metrics,
    repeated_phrases,
    rouge_l,
    rouge_l_f,
    rouge_n,
    rouge_n_f,
    rouge_words,
    sentence_bleu,
    sentence_bleu4_method3,
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


# ChatGLM-6B's figures. Expected values worked out by hand; each also equals what NLTK 3.10.4's
# sentence_bleu(..., smoothing_function=SmoothingFunction().method3) and rouge_chinese 1.0.3 give.


def test_bleu_method3_halves_the_smoothed_count_per_order_without_a_match():
    # 5/6, 3/5, 1/4 and no 4-gram match: 1 / (2^1 * 3 four-grams); equal lengths, no penalty
    assert sentence_bleu4_method3(REF, HYP) == pytest.approx((5 / 6 * 3 / 5 * 1 / 4 * 1 / 6) ** 0.25)
    assert sentence_bleu4_method3(REF, HYP) == pytest.approx(0.379918, abs=1e-6)
    # "abcde" vs "abxcd": 4/5, 2/4, then no 3-gram (1 / (2 * 3)) and no 4-gram (1 / (4 * 2))
    assert sentence_bleu4_method3(list("abxcd"), list("abcde")) == pytest.approx((1 / 120) ** 0.25)
    assert sentence_bleu4_method3(REF, REF) == pytest.approx(1.0)


def test_bleu_method3_short_hypotheses_clipping_and_zero_cases_as_nltk():
    # 2 characters of 4: 2/2, 1/1, then denominators of 1 (NLTK's max(1, count)): 1/2, 1/4;
    # brevity penalty exp(1 - 4/2)
    assert sentence_bleu4_method3(list("abcd"), list("ab")) == pytest.approx(math.exp(-1) * (1 / 8) ** 0.25)
    # "the" clipped to 1 of 3; 0/2 bigrams -> 1/4, 0/1 trigram -> 1/4, no 4-gram at all -> 1/8
    assert sentence_bleu4_method3(["the", "cat"], "the the the".split()) == pytest.approx((1 / 384) ** 0.25)
    # no unigram in common, an empty hypothesis or an empty reference: 0
    assert sentence_bleu4_method3(list("ab"), list("cd")) == 0.0
    assert sentence_bleu4_method3(list("ab"), []) == 0.0
    assert sentence_bleu4_method3([], list("ab")) == 0.0


def test_chatglm_rouge_counts_distinct_ngrams_and_the_lcs_of_all_words():
    ref, hyp = ["好", "看"], ["好", "好", "看"]
    # sets: {好, 看} both sides -> P = R = 1, F = 2 * 1 / (2 + 1e-8)
    assert rouge_n_f(ref, hyp, 1) == pytest.approx(0.999999995, abs=1e-12)
    # bigrams {好好, 好看} vs {好看}: P 1/2, R 1 -> 2/3 (less the 1e-8)
    assert rouge_n_f(ref, hyp, 2) == pytest.approx(2 / 3, abs=1e-8)
    # LCS 2 of 3 hypothesis words: P 2/3, R 1 -> 0.8; this module's clipped ROUGE-1 also says 0.8
    # (好 counted twice in the hypothesis), where rouge_chinese's says 1
    assert rouge_l_f(ref, hyp) == pytest.approx(0.8, abs=1e-8)
    assert rouge_n([ref], hyp, 1) == pytest.approx(0.8)
    assert rouge_n_f(ref, [], 1) == 0.0 and rouge_l_f([], hyp) == 0.0
    assert rouge_n_f(["好"], ["好"], 2) == 0.0  # no bigram on either side


def test_rouge_words_drop_whitespace_and_keep_an_empty_word_for_a_blank_line():
    assert rouge_words(["白色", " ", "上衣", "，", "宽松"]) == ["白色", "上衣", "，", "宽松"]
    # the text is cut into sentences after 。, so a newline after it leaves a sentence of spaces
    assert rouge_words(["好", "。", "\n", "很好"]) == ["好", "。", "", "很好"]
    assert rouge_words([" ", "\n"]) == [] and rouge_words([]) == []


def test_chatglm_metrics_for_one_example_by_hand():
    pytest.importorskip("jieba")
    # jieba: 白色/牛仔布/上衣/，/宽松 and 白色/上衣/，/宽松
    figures = chatglm_metrics("白色牛仔布上衣，宽松", "白色上衣，宽松")
    assert set(figures) == set(CHATGLM_KEYS)
    # ROUGE-1 and -L: 4 of 4 hypothesis words, 4 of 5 reference words -> F 8/9
    assert figures["rouge-1"] == figures["rouge-l"] == 88.8889
    # ROUGE-2: 2 of 3 hypothesis bigrams, 2 of 4 reference bigrams -> 4/7
    assert figures["rouge-2"] == 57.1429
    # BLEU on characters: 7/7, 5/6, 3/5, 2/4, brevity penalty exp(1 - 10/7)
    expected = math.exp(1 - 10 / 7) * (5 / 6 * 3 / 5 * 2 / 4) ** 0.25
    assert figures["bleu-4"] == round(expected * 100, 4) == 46.0637
    assert chatglm_metrics("白色上衣", "白色上衣") == {"bleu-4": 100.0, "rouge-1": 100.0, "rouge-2": 100.0,
                                                     "rouge-l": 100.0}
    assert chatglm_metrics("白色上衣", "") == dict.fromkeys(CHATGLM_KEYS, 0.0)


def test_chatglm_corpus_figures_are_means_of_the_examples():
    pytest.importorskip("jieba")
    corpus = chatglm_corpus_metrics(["白色牛仔布上衣，宽松", "白色上衣"], ["白色上衣，宽松", ""])
    assert corpus["rouge-2"] == pytest.approx(57.1429 / 2) and corpus["bleu-4"] == pytest.approx(46.0637 / 2)
    assert mean_chatglm_metrics([dict.fromkeys(CHATGLM_KEYS, 10.0), dict.fromkeys(CHATGLM_KEYS, 20.0)]) == \
        dict.fromkeys(CHATGLM_KEYS, 15.0)
    with pytest.raises(ValueError):
        chatglm_corpus_metrics(["a"], [])
    with pytest.raises(ValueError):
        mean_chatglm_metrics([])


# Degenerate output. The negatives are AdvertiseGen references (dev set), which repeat words and
# a phrase or two the way copy does.

NORMAL_COPY = [
    # 棉质牛仔面料 three times: the most repetitive of the 970 dev references checked (loops cover 30%)
    "这款牛仔外套采用了棉质牛仔面料制作而成，棉质牛仔面料拥有非常柔软舒适的手感，质感亲肤透气。"
    "而且棉质牛仔面料不会褪色和变形，经久耐穿。",
    # 宽松宽松 and 大大的 twice
    "本款连衣裙采用了宽松宽松直筒的版型，大大的v字领口，能大大的修饰女性的颈部线条，侧边超级实用的口袋，"
    "方便又百搭。加上领口处拼接的睫毛蕾丝，妩媚又迷人。",
    # 十分的 and 设计 again and again
    "这条裙子一眼看过去就能带来甜美的即视感，优雅的一字领设计看上去十分的精致高贵。这样一条裙子穿在身上显得"
    "十分的少女，像是捧在手里的棉花糖。半透的喇叭袖设计看上去十分的飘逸，雪纺的面料使得袖子更加有垂坠感。",
    "简约的设计，时尚的设计，百搭的设计，售价仅需199元，10000件已售……",
    "This relaxed denim jacket is made of soft cotton. It pairs with jeans, skirts and dresses, "
    "and the soft cotton keeps you comfortable all day. Soft, soft and soft again!",
]


@pytest.mark.parametrize("text", NORMAL_COPY)
def test_normal_copy_is_not_degenerate(text):
    assert degeneration_reason(text) is None and not is_degenerate(text)


@pytest.mark.parametrize("text, reason", [
    ("这款连衣裙采用纯棉面料，舒适透气，舒适透气，舒适透气，舒适透气，舒适透气", "'舒适透气' 5 times in a row"),
    ("这款T恤简约大方。这款T恤简约大方。这款T恤简约大方。", "'这款T恤简约大方' 3 times in a row"),
    ("好看好看好看好看的裙子", "'好看' 4 times in a row"),
    ("哈哈哈哈哈哈这件衣服真好看", "'哈' 6 times in a row"),
    ("这款裙子很好看，，，，，，，，", "'，' 8 times in a row"),
    # the opening sentence again at the end (2 copies, not adjacent)
    ("这款卫衣采用柔软的纯棉面料制作，穿着舒适透气。宽松的版型设计，遮肉显瘦，百搭时尚。"
     "这款卫衣采用柔软的纯棉面料制作，", "the passage '这款卫衣采用柔软的纯棉面料制作' occurs twice"),
    ("这款卫衣采用柔软的纯棉面料，穿着舒适又时尚。宽松的版型设计，遮肉显瘦。穿着舒适又时尚！",
     "the clause '穿着舒适又时尚' 2 times"),
    ("修身显瘦，百搭时尚。修身的版型，百搭时尚。简约大方，百搭时尚", "the clause '百搭时尚' 3 times"),
    # a loop of phrases in changing order: no single run, but 3+ times each
    ("简约大方舒适透气时尚百搭，舒适透气简约大方时尚百搭，时尚百搭简约大方舒适透气",
     "phrases said 3+ times cover 100% of the text"),
    ("Soft cotton tee. Soft cotton tee. Soft cotton tee.", "'Soft cotton tee' 3 times in a row"),
    ("A classic white shirt with a relaxed fit and a soft cotton feel, a classic white shirt with a "
     "relaxed fit for work.", "the passage 'A classic white shirt with a relaxed fit' occurs twice"),
])
def test_repetitive_output_is_degenerate_with_a_reason(text, reason):
    assert degeneration_reason(text) == reason
    assert is_degenerate(text)


def _de_bruijn(symbols: int, order: int) -> list[int]:
    """Every sequence of ``order`` symbols exactly once (cyclic), by concatenating Lyndon words."""
    sequence, word = [], [0] * (order + 1)

    def extend(t, p):
        if t > order:
            if order % p == 0:
                sequence.extend(word[1:p + 1])
            return
        word[t] = word[t - p]
        extend(t + 1, p)
        for symbol in range(word[t - p] + 1, symbols):
            word[t] = symbol
            extend(t + 1, t)

    extend(1, 1)
    return sequence


def test_low_distinct2_on_a_long_text_is_degenerate():
    # six words in an order where every 3-word run occurs once: no loop, run or repeated passage,
    # but only 36 distinct bigrams among 215
    words = ["soft", "cotton", "tee", "for", "summer", "days"]
    text = " ".join(words[i] for i in _de_bruijn(6, 3))
    assert degeneration_reason(text) == "distinct-2 0.17 on 216 tokens"
    assert not is_degenerate(" ".join(text.split()[:40]))  # short texts are left to the other rules


def test_degenerate_edge_cases():
    assert not is_degenerate("") and not is_degenerate("   ")
    assert not is_degenerate("好")
    assert is_degenerate("舒适舒适舒适舒适", "zh")
    assert not is_degenerate("great great great great fit", "en")  # one word needs 5 copies
    assert is_degenerate("great great great great great fit", "en")
