"""The built-in copy scorers: channel rules, faithfulness, advertising compliance, keyword coverage,
readability, repetition and language match (docs/scoring.md describes each).

Every scorer returns a ``Score`` with a value in [0, 1], a label, an explanation and spans that
highlight what the verdict is about. A scorer with nothing to check (no product facts, no keywords)
abstains, and ranking ignores it for that candidate.
"""

from __future__ import annotations

import re

from adcopy_desktop.core.channels import check_copy, load_channels
from adcopy_desktop.core.compliance import terms_for_style
from adcopy_desktop.core.faithfulness import check_faithfulness, describe, faithfulness_value, find_form
from adcopy_desktop.core.languages import HAN_WEIGHT, count_scripts, detect_language, language_name
from adcopy_desktop.core.metrics import distinct_n, immediate_repeats, repeated_phrases, tokenize
from adcopy_desktop.core.plugins import Score, Scorer, ScoreSpan, hookimpl

KEYWORD_KEYS = frozenset({"关键词", "关键字", "搜索词", "keywords", "keyword", "seo keywords", "seo", "tags", "标签"})
_KEYWORD_SPLIT = re.compile(r"\s*[,，、;；|]\s*")


def _product(context):
    request = context.request
    return getattr(request, "product", None) if request is not None else None


def _style_for(context, language):
    style = context.style
    return style if style is not None and style.covers(language) else None


def _span(start, end, message, severity="warning"):
    return ScoreSpan(start=int(start), end=int(end), message=message, severity=severity)


def _empty(candidate):
    return not candidate.text.strip()


# -- channel rules ---------------------------------------------------------------------------------


def channels_for(context, language):
    """(channels to check, chosen by the user or style?)."""
    option = str(context.options.get("channel", "") or "").strip().lower()
    if option:
        return [name for name in _KEYWORD_SPLIT.split(option) if name], True
    style = _style_for(context, language)
    if style is not None and style.channels:
        return list(style.channels), True
    book = load_channels()
    default = book.defaults.get(language)
    return ([default] if default else [None]), False


def score_channel_rules(candidate, context) -> Score:
    book = load_channels()
    names, chosen = channels_for(context, candidate.language)
    style = _style_for(context, candidate.language)
    checks = []
    unknown = [name for name in names if name is not None and name not in book.channels]
    if unknown:
        return Score(0.5, "unknown channel", f"Unknown channel(s) {', '.join(unknown)}; channels: "
                     f"{', '.join(sorted(book.channels))}.", abstained=True)
    for name in names:
        overrides = (style.channel_rules.get(name, {}).get(candidate.kind) if style is not None and name else None)
        check = check_copy(candidate.text, candidate.kind, candidate.language, channel=name, overrides=overrides,
                           enforce_hard=chosen, book=book)
        if check is not None:
            checks.append(check)
    if not checks:
        return Score(1.0, "no rules", f"No channel rule covers {candidate.kind} copy (rules {book.version}).",
                     abstained=True)
    worst = min(checks, key=lambda check: check.value)
    parts, spans = [], []
    for check in checks:
        where = f"{check.label} {candidate.kind}"
        if check.problems:
            parts.append(f"{where}: " + "; ".join(problem.message for problem in check.problems) + ".")
        else:
            parts.append(f"{where}: fits" + (f" ({check.measured})" if check.measured else "") + ".")
        for problem in check.problems:
            if problem.start is not None and problem.end is not None and problem.end > problem.start:
                spans.append(_span(problem.start, problem.end, f"{check.label}: {problem.message}",
                                   "error" if problem.hard else "warning"))
    if not chosen:
        parts.append("Checked as advice against the default channel; choose channels with --channel or the "
                     "brand style's channels.")
    hard = any(check.hard_problems for check in checks)
    label = "over the channel limit" if hard else ("fits" if worst.value >= 1.0 else "needs edits")
    parts.append(f"(channel rules {book.version})")
    return Score(worst.value, label, " ".join(parts), spans=tuple(spans), hard_fail=hard)


# -- faithfulness ----------------------------------------------------------------------------------


def score_faithfulness(candidate, context) -> Score:
    product = _product(context)
    if product is None or not product.attributes:
        return Score(0.5, "no facts", "No product facts were given, so faithfulness cannot be checked.",
                     abstained=True)
    report = check_faithfulness(candidate.text, candidate.language, product.attributes)
    label, explanation = describe(report, candidate.kind)
    spans = [_span(c.start, c.end, f"not in the product's facts ({c.kind})", "error") for c in report.unsupported]
    for reflection in report.reflections:
        for start, end in reflection.spans[:1]:
            spans.append(_span(start, end, f"given: {reflection.key} {reflection.value}", "info"))
    if _empty(candidate):
        return Score(0.0, "empty", "The copy is empty.")
    return Score(faithfulness_value(report, candidate.kind), label, explanation,
                 spans=tuple(sorted(spans, key=lambda s: (s.start, s.end))))


# -- advertising compliance --------------------------------------------------------------------------

WARNING_PENALTY = 0.2


def score_ad_compliance(candidate, context) -> Score:
    terms = terms_for_style(_style_for(context, candidate.language), candidate.language)
    hits = terms.find(candidate.text, candidate.language)
    errors = [hit for hit in hits if hit.severity == "error"]
    warnings = [hit for hit in hits if hit.severity != "error"]
    spans = tuple(_span(hit.start, hit.end, hit.term.reason, hit.severity) for hit in hits)
    listed = "; ".join(f"'{hit.found}': {hit.term.reason}" for hit in (errors + warnings)[:10])
    version = f"(word list {terms.version})"
    if errors:
        return Score(0.0, "violation", f"Not allowed in advertising: {listed}. {version}", spans=spans, hard_fail=True)
    if warnings:
        value = max(0.2, 1.0 - WARNING_PENALTY * len(warnings))
        return Score(value, "needs substantiation", f"Check before publishing: {listed}. {version}", spans=spans)
    return Score(1.0, "compliant", f"No listed advertising term found. {version}")


# -- keyword coverage --------------------------------------------------------------------------------


def keywords_for(candidate, context) -> list[str]:
    found: dict[str, str] = {}

    def add(words):
        for word in words:
            word = word.strip()
            if word:
                found.setdefault(word.casefold(), word)

    add(_KEYWORD_SPLIT.split(str(context.options.get("keywords", "") or "")))
    product = _product(context)
    if product is not None:
        for key, value in product.attributes:
            if key.strip().casefold() in KEYWORD_KEYS:
                add(_KEYWORD_SPLIT.split(value))
    style = _style_for(context, candidate.language)
    if style is not None:
        add(style.keywords_for(candidate.language))
    return list(found.values())


def score_keyword_coverage(candidate, context) -> Score:
    keywords = keywords_for(candidate, context)
    if not keywords:
        return Score(1.0, "no keywords", "No SEO keywords were given (product 'keywords'/'关键词', the style's "
                     "keywords, or --keywords).", abstained=True)
    spans, missing = [], []
    for keyword in keywords:
        hits = find_form(candidate.text, keyword)
        if hits:
            spans.extend(_span(start, end, f"keyword '{keyword}'", "info") for start, end in hits)
        else:
            missing.append(keyword)
    covered = len(keywords) - len(missing)
    value = covered / len(keywords)
    explanation = f"{covered} of {len(keywords)} keywords" + (f"; missing: {', '.join(missing)}" if missing else "") + "."
    label = "all keywords" if not missing else ("some keywords" if covered else "no keywords used")
    return Score(round(value, 4), label, explanation, spans=tuple(sorted(spans, key=lambda s: s.start)))


# -- readability -------------------------------------------------------------------------------------

_SENTENCE_END = {"zh": re.compile(r"[。！？!?；;\n]+"), "en": re.compile(r"(?<=[.!?])\s+|\n+")}
_ARTIFACTS = re.compile(
    r"<\|[^|]*\|>|\*\*|^#+\s|"  # special tokens, markdown
    # the model talking to the user instead of writing copy
    r"\b(?:sure|certainly|of course)[,!.]?\s+here(?:'s| is| are)\b[^\n]*|"
    r"\bhere(?:'s| is| are) (?:the|a|an|your|some|my)\b[^\n]*?(?::|$)|\bas an ai\b|"
    r"\b(?:i'?m|i am|i'?d be|i would be|i'?ll be) (?:happy|glad|delighted) to\b[^\n.!]*[.!]?|"
    r"\bi hope (?:this|that|it) helps\b|\blet me know\b[^\n.!]*[.!]?|"
    r"\b(?:title|description|slogan|tagline|copy) for (?:a|the|your) product\b|"
    r"(?:好的|当然)[，,！!]|以下是|作为(?:一个)?(?:AI|人工智能)|希望(?:对你|对您|能)有(?:所)?帮助|"
    r"我(?:很)?(?:乐意|愿意|高兴)(?:为你|为您|帮)",
    re.I | re.M,
)
LONG_SENTENCE = {"zh": 45, "en": 28}  # characters / words
SHORT_KINDS = ("title", "slogan")


def score_readability(candidate, context) -> Score:
    text = candidate.text
    if not text.strip():
        return Score(0.0, "empty", "The copy is empty.")
    language = candidate.language
    problems, spans = [], []
    penalty = 0.0
    for match in _ARTIFACTS.finditer(text):
        spans.append(_span(match.start(), match.end(), "leftover from the model, not copy", "error"))
    if spans:
        covered = sum(span.end - span.start for span in spans) / max(1, len(text.strip()))
        penalty += min(0.9, max(0.3 * len(spans), covered))  # copy that is mostly chat is not copy
        problems.append(f"{len(spans)} leftover(s) from the model (labels, markdown, chat phrases)")
    if candidate.kind not in SHORT_KINDS:
        limit = LONG_SENTENCE.get(language, 28)
        position = 0
        long_ones = 0
        lengths = []
        for part in _SENTENCE_END["zh" if language == "zh" else "en"].split(text):
            start = text.find(part, position)
            position = start + len(part)
            size = len(re.sub(r"\s", "", part)) if language == "zh" else len(part.split())
            if not size:
                continue
            lengths.append(size)
            if size > limit:
                long_ones += 1
                spans.append(_span(start, start + len(part), f"a long sentence ({size} "
                                   f"{'characters' if language == 'zh' else 'words'})", "warning"))
        if long_ones:
            penalty += min(0.4, 0.15 * long_ones)
            problems.append(f"{long_ones} sentence(s) over {limit} {'characters' if language == 'zh' else 'words'}")
        average = sum(lengths) / len(lengths) if lengths else 0
    else:
        average = None
    if language == "en":
        shouting = list(re.finditer(r"\b[A-Z]{4,}\b", text))
        if len(shouting) >= 3:
            penalty += 0.15
            problems.append("words in capitals")
            spans.extend(_span(m.start(), m.end(), "all capitals", "warning") for m in shouting[:3])
    value = round(max(0.0, 1.0 - penalty), 4)
    detail = f"average sentence {average:.0f} {'characters' if language == 'zh' else 'words'}; " if average else ""
    explanation = detail + ("; ".join(problems) + "." if problems else "reads cleanly.")
    label = "clear" if not problems else ("hard to read" if value < 0.6 else "could be clearer")
    return Score(value, label, explanation[:1].upper() + explanation[1:],
                 spans=tuple(sorted(spans, key=lambda s: s.start)))


# -- repetition --------------------------------------------------------------------------------------


def score_repetition(candidate, context) -> Score:
    text = candidate.text
    if not text.strip():
        return Score(0.0, "empty", "The copy is empty.")
    language = candidate.language
    tokens = tokenize(text, language, zh_tokens="char")
    d1, d2 = distinct_n([tokens], 1), distinct_n([tokens], 2)
    repeats = repeated_phrases(text, language)
    stutters = immediate_repeats(text, language)
    penalty = sum(0.2 * (repeat.count - 1) for repeat in repeats) + sum(0.2 * (s.count - 1) for s in stutters)
    if len(tokens) >= 8 and d2 < 0.85:
        penalty += (0.85 - d2)
    value = round(max(0.0, 1.0 - min(1.0, penalty)), 4)
    spans = tuple(_span(start, end, f"'{repeat.phrase}' again ({repeat.count}×)", "warning")
                  for repeat in (*repeats, *stutters) for start, end in repeat.spans)
    listed = "; ".join(f"'{repeat.phrase}' ×{repeat.count}" for repeat in (*stutters, *repeats)[:5])
    explanation = f"distinct-1 {d1:.2f}, distinct-2 {d2:.2f}" + (f"; repeated: {listed}" if listed else "") + "."
    label = "varied" if value >= 0.9 else ("repetitive" if value < 0.6 else "some repetition")
    return Score(value, label, explanation[:1].upper() + explanation[1:], spans=tuple(sorted(spans, key=lambda s: s.start)))


# -- language match ----------------------------------------------------------------------------------

_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def score_language_match(candidate, context) -> Score:
    text = candidate.text
    wanted = candidate.language
    han, latin = count_scripts(text)
    if not han and not latin:
        return Score(0.0, "empty" if not text.strip() else "no words", "The copy has no words to check.")
    total = han * HAN_WEIGHT + latin
    foreign = (latin / total) if wanted == "zh" else (han * HAN_WEIGHT / total)
    value = 1.0 if foreign <= 0.25 else max(0.0, 1.0 - (foreign - 0.25) / 0.5)
    detected = detect_language(text)
    spans = ()
    if wanted == "en" and han:
        spans = tuple(_span(m.start(), m.end(), "Chinese in English copy", "warning") for m in _HAN_RUN.finditer(text))
    if value >= 1.0:
        label = "matches"
    elif detected != wanted:
        label = "wrong language"
    else:
        label = "mixed"
    explanation = (f"Asked for {language_name(wanted)}; the copy reads as {language_name(detected)} "
                   f"({foreign:.0%} in the other script).")
    return Score(round(value, 4), label, explanation, spans=spans[:5])


SCORERS = (
    Scorer(name="channel-rules", label="Channel rules", score=score_channel_rules,
           description="Length and format rules of the sales channel (resources/channels.toml) for the kind: "
                       "1 when it fits, 0 and a hard failure over a chosen channel's platform limit.",
           settings_schema={"channel": {"type": "string", "default": "",
                                        "label": "Channel(s), e.g. taobao or amazon,shopify (default: the style's)"}}),
    Scorer(name="faithfulness", label="Faithfulness", score=score_faithfulness,
           description="Reflects the given attribute values and claims nothing the facts do not support "
                       "(numbers, materials, certifications, superlatives)."),
    Scorer(name="ad-compliance", label="Advertising compliance", score=score_ad_compliance,
           description="Chinese advertising-law absolute terms and English claims that need substantiation "
                       "(resources/compliance/ad_terms.toml, extended by the brand style); a violation is a hard "
                       "failure."),
    Scorer(name="keyword-coverage", label="Keyword coverage", score=score_keyword_coverage,
           description="Share of the SEO keywords (product, style or --keywords) that the copy uses.",
           settings_schema={"keywords": {"type": "string", "default": "",
                                         "label": "Extra keywords, comma-separated"}}),
    Scorer(name="readability", label="Readability", score=score_readability,
           description="Sentence length, leftovers from the model (labels, markdown, chat phrases), capitals."),
    Scorer(name="repetition", label="Repetition", score=score_repetition,
           description="Repeated phrases and distinct-1/2 of the copy."),
    Scorer(name="language-match", label="Language match", score=score_language_match,
           description="Whether the copy is written in the language asked for."),
)


@hookimpl
def register_scorers(register):
    for scorer in SCORERS:
        register(scorer)
