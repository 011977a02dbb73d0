"""The built-in copy scorers: channel rules, faithfulness, advertising compliance, keyword coverage,
readability, repetition and language match (docs/scoring.md describes each).

Every scorer returns a ``Score`` with a value in [0, 1], a label, an explanation and spans that
highlight what the verdict is about. A scorer with nothing to check (no product facts, no keywords)
abstains, and ranking ignores it for that candidate.
"""

from __future__ import annotations

import re
from dataclasses import replace

from adcopy_desktop.core.channels import check_copy, load_channels
from adcopy_desktop.core.compliance import terms_for_style
from adcopy_desktop.core.faithfulness import check_faithfulness, describe_texts, faithfulness_value, find_form
from adcopy_desktop.core.languages import HAN_WEIGHT, count_scripts, detect_language
from adcopy_desktop.core.metrics import distinct_n, immediate_repeats, repeated_phrases, tokenize
from adcopy_desktop.core.plugins import Score, Scorer, ScoreSpan, hookimpl
from adcopy_desktop.core.texts import Joined, Text, kind_name, language_names, scorer_labels, translated_score

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


def _empty_score() -> Score:
    return translated_score(0.0, Text("empty"), Text("empty.explanation"))


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
        return translated_score(0.5, Text("channel.unknown"), Text(
            "channel.unknown.explanation", {"names": Joined(unknown), "known": Joined(sorted(book.channels))}),
            abstained=True)
    for name in names:
        overrides = (style.channel_rules.get(name, {}).get(candidate.kind) if style is not None and name else None)
        check = check_copy(candidate.text, candidate.kind, candidate.language, channel=name, overrides=overrides,
                           enforce_hard=chosen, book=book)
        if check is not None:
            checks.append(check)
    if not checks:
        return translated_score(1.0, Text("channel.no_rules"), Text(
            "channel.no_rules.explanation", {"kind": kind_name(candidate.kind), "version": book.version}),
            abstained=True)
    worst = min(checks, key=lambda check: check.value)
    parts, spans = [], []
    for check in checks:
        channel = check.label if check.channel is not None else Text("channel.any")
        where = Text("channel.where", {"channel": channel, "kind": kind_name(candidate.kind)})
        if check.problems:
            problems = Joined([problem.text or problem.message for problem in check.problems], "clauses")
            parts.append(Text("channel.problems", {"where": where, "problems": problems}))
        elif check.measured:
            measured = check.measured_text or check.measured
            parts.append(Text("channel.fits_measured", {"where": where, "measured": measured}))
        else:
            parts.append(Text("channel.fits_plain", {"where": where}))
        for problem in check.problems:
            if problem.start is not None and problem.end is not None and problem.end > problem.start:
                spans.append(_span(problem.start, problem.end, f"{check.label}: {problem.message}",
                                   "error" if problem.hard else "warning"))
    if not chosen:
        parts.append(Text("channel.advice"))
    hard = any(check.hard_problems for check in checks)
    label = "over_limit" if hard else ("fits" if worst.value >= 1.0 else "needs_edits")
    parts.append(Text("channel.version", {"version": book.version}))
    return translated_score(worst.value, Text(f"channel.{label}"), Joined(parts, "sentences"), spans=spans,
                            hard_fail=hard)


# -- faithfulness ----------------------------------------------------------------------------------


def score_faithfulness(candidate, context) -> Score:
    product = _product(context)
    if product is None or not product.attributes:
        return translated_score(0.5, Text("faithfulness.no_facts"), Text("faithfulness.no_facts.explanation"),
                                abstained=True)
    report = check_faithfulness(candidate.text, candidate.language, product.attributes)
    label, explanation = describe_texts(report, candidate.kind)
    spans = [_span(c.start, c.end, f"not in the product's facts ({c.kind})", "error") for c in report.unsupported]
    for reflection in report.reflections:
        for start, end in reflection.spans[:1]:
            spans.append(_span(start, end, f"given: {reflection.key} {reflection.value}", "info"))
    if _empty(candidate):
        return _empty_score()
    return translated_score(faithfulness_value(report, candidate.kind), label, explanation,
                            spans=sorted(spans, key=lambda s: (s.start, s.end)))


# -- advertising compliance --------------------------------------------------------------------------

WARNING_PENALTY = 0.2


def score_ad_compliance(candidate, context) -> Score:
    terms = terms_for_style(_style_for(context, candidate.language), candidate.language)
    hits = terms.find(candidate.text, candidate.language)
    errors = [hit for hit in hits if hit.severity == "error"]
    warnings = [hit for hit in hits if hit.severity != "error"]
    spans = tuple(_span(hit.start, hit.end, hit.term.reason, hit.severity) for hit in hits)
    listed = Joined([Text("compliance.hit", {"found": hit.found, "reason": hit.term.reason})
                     for hit in (errors + warnings)[:10]], "clauses")
    version = Text("compliance.version", {"version": terms.version})
    if errors:
        return translated_score(0.0, Text("compliance.violation"), Text(
            "compliance.violation.explanation", {"hits": listed, "version": version}), spans=spans, hard_fail=True)
    if warnings:
        value = max(0.2, 1.0 - WARNING_PENALTY * len(warnings))
        return translated_score(value, Text("compliance.needs_substantiation"), Text(
            "compliance.needs_substantiation.explanation", {"hits": listed, "version": version}), spans=spans)
    return translated_score(1.0, Text("compliance.compliant"),
                            Text("compliance.compliant.explanation", {"version": version}))


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
        return translated_score(1.0, Text("keywords.none"), Text("keywords.none.explanation"), abstained=True)
    spans, missing = [], []
    for keyword in keywords:
        hits = find_form(candidate.text, keyword)
        if hits:
            spans.extend(_span(start, end, f"keyword '{keyword}'", "info") for start, end in hits)
        else:
            missing.append(keyword)
    covered = len(keywords) - len(missing)
    value = covered / len(keywords)
    counts = {"covered": covered, "total": len(keywords)}
    explanation = (Text("keywords.coverage_missing", {**counts, "missing": Joined(missing)}) if missing
                   else Text("keywords.coverage", counts))
    label = "all" if not missing else ("some" if covered else "unused")
    return translated_score(round(value, 4), Text(f"keywords.{label}"), explanation,
                            spans=sorted(spans, key=lambda s: s.start))


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
        return _empty_score()
    language = candidate.language
    unit = Text("unit.characters" if language == "zh" else "unit.words")
    problems, spans = [], []
    penalty = 0.0
    for match in _ARTIFACTS.finditer(text):
        spans.append(_span(match.start(), match.end(), "leftover from the model, not copy", "error"))
    if spans:
        covered = sum(span.end - span.start for span in spans) / max(1, len(text.strip()))
        penalty += min(0.9, max(0.3 * len(spans), covered))  # copy that is mostly chat is not copy
        problems.append(Text("readability.leftovers", {"count": len(spans)}))
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
            problems.append(Text("readability.long_sentences", {"count": long_ones, "limit": limit, "unit": unit}))
        average = sum(lengths) / len(lengths) if lengths else 0
    else:
        average = None
    if language == "en":
        shouting = list(re.finditer(r"\b[A-Z]{4,}\b", text))
        if len(shouting) >= 3:
            penalty += 0.15
            problems.append(Text("readability.capitals"))
            spans.extend(_span(m.start(), m.end(), "all capitals", "warning") for m in shouting[:3])
    value = round(max(0.0, 1.0 - penalty), 4)
    listed = Joined(problems, "clauses")
    if average:
        explanation = Text("readability.detail_problems" if problems else "readability.detail_clean",
                           {"average": average, "unit": unit, "problems": listed})
    else:
        explanation = (Text("readability.problems", {"problems": listed}, capitalized=True) if problems
                       else Text("readability.clean"))
    label = "clear" if not problems else ("hard" if value < 0.6 else "could_be_clearer")
    return translated_score(value, Text(f"readability.{label}"), explanation,
                            spans=sorted(spans, key=lambda s: s.start))


# -- repetition --------------------------------------------------------------------------------------


def score_repetition(candidate, context) -> Score:
    text = candidate.text
    if not text.strip():
        return _empty_score()
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
    listed = [Text("repetition.repeat", {"phrase": repeat.phrase, "count": repeat.count})
              for repeat in (*stutters, *repeats)[:5]]
    explanation = (Text("repetition.distinct_repeated", {"d1": d1, "d2": d2, "repeats": Joined(listed, "clauses")})
                   if listed else Text("repetition.distinct", {"d1": d1, "d2": d2}))
    label = "varied" if value >= 0.9 else ("repetitive" if value < 0.6 else "some")
    return translated_score(value, Text(f"repetition.{label}"), explanation,
                            spans=sorted(spans, key=lambda s: s.start))


# -- language match ----------------------------------------------------------------------------------

_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def score_language_match(candidate, context) -> Score:
    text = candidate.text
    wanted = candidate.language
    han, latin = count_scripts(text)
    if not han and not latin:
        return translated_score(0.0, Text("empty" if not text.strip() else "language.no_words"),
                                Text("language.no_words.explanation"))
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
        label = "wrong"
    else:
        label = "mixed"
    explanation = Text("language.explanation", {"wanted": language_names(wanted),
                                                "detected": language_names(detected), "foreign": foreign})
    return translated_score(round(value, 4), Text(f"language.{label}"), explanation, spans=spans[:5])


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
        register(replace(scorer, labels=scorer_labels(scorer.name)))
