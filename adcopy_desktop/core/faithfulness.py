"""Faithfulness: does the copy reflect the product's facts, and does it claim only what they support?

Two checks, both against the product's attributes (keys and values):

1. **Reflection**: each given attribute value (lists such as "白色、蓝色" count per item) is found in
   the copy: as written for a value in the copy's language, through the bilingual glossary of
   ``resources/faithfulness/lexicon.toml`` for one in the other language (颜色#白色 → "white"), by
   its numbers for values such as "500ml". Values that cannot be checked (another language, no
   glossary entry) are listed and not counted. Values of bookkeeping keys (SKU, keywords, links)
   are skipped.
2. **Unsupported claims**: numbers, materials, colours, certifications and labels (organic,
   patented, waterproof ...) and superlatives in the copy that the attributes do not contain.
   Materials and certifications count as supported when any form of their lexicon group, in either
   language, appears in the attributes; colours likewise, or when the attributes name a shade of
   the colour (米白色 supports 白色, not the other way round), or when a colour attribute names
   no colour the lexicon knows (图片色). Words that merely contain a colour (白领, 网红, 显白,
   "black friday", "go green") and colours of the items a pairing suggestion names ("搭配黑色裤子")
   are no colour claims. Chinese superlatives are the advertising word list's terms, English ones
   the lexicon's list plus "-est" adjectives and "most <adjective>".

The score rewards reflection against what a kind can carry (a slogan is not expected to name every
fact) and punishes every unsupported claim; see ``score_faithfulness``.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from adcopy_desktop.core.languages import count_scripts, detect_language
from adcopy_desktop.core.texts import Joined, Text
from adcopy_desktop.paths import resources_dir

SKIPPED_KEYS = frozenset({
    "sku", "id", "货号", "编号", "款号", "url", "link", "链接", "图片", "image", "关键词", "关键字", "搜索词",
    "keywords", "keyword", "seo keywords", "tags", "标签",
})
# Share of the given values each kind is expected to reflect for a full reflection score.
EXPECTED_COVERAGE = {"description": 0.8, "selling_points": 0.8, "promo": 0.6, "title": 0.5, "slogan": 0.25}
REFLECTION_FLOOR = 0.3  # the value of copy that reflects none of the facts (and claims nothing)
_VALUE_SPLIT = re.compile(r"\s*[,，、/;；|]\s*")
_NUMBER = re.compile(r"(?<![0-9.])\d+(?:[.,]\d+)*")
_LIST_MARKER = re.compile(r"^\s*(?:[-•·*]\s*)?\d{1,2}[.、)）]\s*", re.M)
_LATIN = "0-9A-Za-z\u00C0-\u024F"
# "most <word>" is a superlative when the word looks like an adjective ("most durable", not "most faces")
_ADJECTIVE_ENDING = re.compile(r"(?:ful|able|ible|ive|ous|al|ic|ing|ed|y|ent|ant|ar|ile|ish|less|ite|ure|ive)$")
# A material or colour named while suggesting what to wear or use it with is about the other item.
# "百搭" (goes with anything), "配色" (colour scheme) and "标配" (comes with) describe the product itself.
_PAIRING_BEFORE = {
    "zh": re.compile(r"(?:搭配|配上|(?<!百)搭|(?<!标)配(?!色)|叠穿|内搭|外搭)[^，。；！？,.;!?]{0,6}$"),
    "en": re.compile(r"\b(?:pairs?|paired|wear|style|goes|team|layer|layers|match(?:es)?)\b[^.;!?]{0,30}"
                     r"\b(?:with|over|under)\b[^.;!?]{0,20}$", re.I),
}
# "与黑色裤子搭配": the other item comes between "with" and the pairing verb.
_PAIRING_WITH_BEFORE = re.compile(r"(?:和|与|跟|同)[^，。；！？,.;!?]{0,4}$")
_PAIRING_WITH_AFTER = re.compile(r"^[^，。；！？,.;!?]{0,6}(?:搭配|混搭|相配|很配|一起穿)")
# Attribute keys that give the product's colour: when their value names no colour we know (图片色,
# 多色, "as shown"), colours in the copy cannot be checked.
_COLOUR_KEY = re.compile(r"颜色|色系|配色|色彩|colou?rs?(?![a-z])|colorway", re.I)


@dataclass(frozen=True)
class Claim:
    kind: str  # number | material | colour | certification | superlative
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Reflection:
    key: str
    value: str
    status: str  # reflected | missing | unchecked
    spans: tuple[tuple[int, int], ...] = ()


@dataclass
class FaithfulnessReport:
    reflections: list[Reflection] = field(default_factory=list)
    unsupported: list[Claim] = field(default_factory=list)
    supported: list[Claim] = field(default_factory=list)

    @property
    def checked(self) -> list[Reflection]:
        return [r for r in self.reflections if r.status != "unchecked"]

    @property
    def coverage(self) -> float | None:
        checked = self.checked
        return sum(r.status == "reflected" for r in checked) / len(checked) if checked else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "coverage": self.coverage,
            "reflected": [r.value for r in self.reflections if r.status == "reflected"],
            "missing": [r.value for r in self.reflections if r.status == "missing"],
            "unchecked": [r.value for r in self.reflections if r.status == "unchecked"],
            "unsupported": [c.to_dict() for c in self.unsupported],
        }


# -- the lexicon ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    zh: tuple[str, ...]
    en: tuple[str, ...]

    def forms(self, language: str | None = None) -> tuple[str, ...]:
        if language == "zh":
            return self.zh
        if language == "en":
            return self.en
        return (*self.zh, *self.en)


@dataclass(frozen=True)
class Colour(Group):
    name: str = ""
    shade_of: str = ""  # the name of the broader colour: 米白 is a shade of white


@dataclass(frozen=True)
class Lexicon:
    version: str
    materials: tuple[Group, ...]
    certifications: tuple[Group, ...]
    glossary: tuple[Group, ...]
    superlatives_en: tuple[str, ...]
    not_superlatives_en: frozenset[str]
    not_after_most_en: frozenset[str]
    colours: tuple[Colour, ...] = ()
    not_colours: tuple[str, ...] = ()  # words that contain a colour but name none (白领, "black friday")


def lexicon_path() -> Path:
    return resources_dir() / "faithfulness" / "lexicon.toml"


def load_lexicon(path: Path | None = None) -> Lexicon:
    path = Path(path) if path is not None else lexicon_path()
    stat = path.stat()
    return _load_cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: int, size: int) -> Lexicon:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))

    def groups(name: str) -> tuple[Group, ...]:
        return tuple(Group(tuple(g.get("zh", ())), tuple(g.get("en", ()))) for g in data.get(name, ()))

    return Lexicon(
        version=str(data.get("version", "")),
        materials=groups("materials"),
        certifications=groups("certifications"),
        glossary=groups("glossary"),
        superlatives_en=tuple(data.get("superlatives_en", ())),
        not_superlatives_en=frozenset(w.lower() for w in data.get("not_superlatives_en", ())),
        not_after_most_en=frozenset(w.lower() for w in data.get("not_after_most_en", ())),
        colours=tuple(Colour(tuple(g.get("zh", ())), tuple(g.get("en", ())),
                             str(g.get("name") or [*g.get("en", ()), *g.get("zh", ())][0]), str(g.get("shade_of", "")))
                      for g in data.get("colours", ())),
        not_colours=(*data.get("not_colours_zh", ()), *data.get("not_colours_en", ())),
    )


# -- matching helpers ----------------------------------------------------------------------------


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


_pattern_cache: dict[str, re.Pattern[str]] = {}


def _form_pattern(form: str) -> re.Pattern[str]:
    pattern = _pattern_cache.get(form)
    if pattern is None:
        body = re.escape(normalise(form)).replace(r"\ ", r"[\s\-]+")
        if re.match(f"[{_LATIN}]", form):
            body = f"(?<![{_LATIN}])" + body
        if re.search(f"[{_LATIN}]$", form):
            body += f"(?:e?s)?(?![{_LATIN}])" if re.search("[A-Za-z]$", form) else f"(?![{_LATIN}])"
        pattern = _pattern_cache[form] = re.compile(body)
    return pattern


def find_form(text: str, form: str) -> list[tuple[int, int]]:
    """Spans of ``form`` in ``text`` (NFKC, case-insensitive; whole words for Latin forms, plural
    -s/-es allowed). ``text`` must already be ``normalise``d when spans are used on the original."""
    if not form.strip():
        return []
    return [(m.start(), m.end()) for m in _form_pattern(form).finditer(normalise(text))]


def numbers_in(text: str, *, skip_list_markers: bool = False) -> list[tuple[str, int, int]]:
    """Numbers as (normalised value, start, end); "1,000" is 1000 and "2.50" is 2.5."""
    source = unicodedata.normalize("NFKC", text)
    if len(source) != len(text):
        source = text
    marker_spans = [(m.start(), m.end()) for m in _LIST_MARKER.finditer(source)] if skip_list_markers else []
    found = []
    for match in _NUMBER.finditer(source):
        if any(start <= match.start() < end for start, end in marker_spans):
            continue
        raw = match.group()
        value = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw) else raw.replace(",", ".")
        try:
            number = float(value)
        except ValueError:
            continue
        found.append((f"{number:g}", match.start(), match.end()))
    return found


def _language_of(text: str) -> str | None:
    han, latin = count_scripts(text)
    if not han and not latin:
        return None
    return detect_language(text)


# -- the checks ----------------------------------------------------------------------------------


def attribute_items(attributes: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(key, single value) pairs worth reflecting: list values split, bookkeeping keys skipped."""
    items = []
    for key, value in attributes:
        if normalise(key).strip() in SKIPPED_KEYS:
            continue
        for part in _VALUE_SPLIT.split(value.strip()):
            if part.strip():
                items.append((key, part.strip()))
    return items


def reflect_value(text: str, language: str, value: str, lexicon: Lexicon) -> Reflection:
    """Whether one attribute value shows in the copy."""
    digits = [n for n, _, _ in numbers_in(value)]
    if digits:
        text_numbers = {n: (s, e) for n, s, e in numbers_in(text)}
        if all(n in text_numbers for n in digits):
            return Reflection("", value, "reflected", tuple(text_numbers[n] for n in digits))
        letters_only = re.sub(r"[\d.,\s%]+", "", value)
        if not letters_only or len(letters_only) <= 3:  # "500ml", "38码": the number is the fact
            return Reflection("", value, "missing")
    value_language = _language_of(value)
    if value_language is None:
        return Reflection("", value, "unchecked")
    if value_language == language:
        spans = find_form(text, value)
        if spans:
            return Reflection("", value, "reflected", tuple(spans))
        if language == "en":
            words = [w for w in re.findall(rf"[{_LATIN}]+", value) if len(w) > 2]
            found = [span for w in words for span in find_form(text, w)[:1]]
            if words and len(found) / len(words) >= 0.5:
                return Reflection("", value, "reflected", tuple(found))
        elif len(value) >= 6:
            grams = {value[i:i + 2] for i in range(len(value) - 1)}
            normalised = normalise(text)
            hits = [g for g in grams if normalise(g) in normalised]
            if len(hits) / len(grams) >= 0.5:
                return Reflection("", value, "reflected")
        # the same thing under another name (a glossary synonym in the same language)
        for group in (*lexicon.glossary, *lexicon.colours, *lexicon.materials):
            forms = group.forms(language)
            if any(normalise(value) == normalise(form) for form in forms):
                for form in forms:
                    spans = find_form(text, form)
                    if spans:
                        return Reflection("", value, "reflected", tuple(spans))
        return Reflection("", value, "missing")
    # a value in the other language: through the glossary, the group with the longest matching form
    # (米白色 is off-white, not white; 绿茶 is green tea, not green)
    best, best_length = None, 0
    for group in (*lexicon.glossary, *lexicon.colours, *lexicon.materials, *lexicon.certifications):
        if not group.forms(language):
            continue
        for form in group.forms(value_language):
            if normalise(form) == normalise(value) or (value_language == "zh" and normalise(form) in normalise(value)):
                if len(form) > best_length:
                    best, best_length = group, len(form)
    if best is None:
        return Reflection("", value, "unchecked")
    for form in best.forms(language):
        spans = find_form(text, form)
        if spans:
            return Reflection("", value, "reflected", tuple(spans))
    return Reflection("", value, "missing")


def _about_other_item(text: str, start: int, end: int, language: str) -> bool:
    """Whether the words at start:end describe the item a pairing suggestion names ("搭配牛仔裤",
    "与黑色裤子搭配", "pair it with black jeans") rather than the product."""
    before = text[max(0, start - 40):start]
    pairing = _PAIRING_BEFORE.get(language)
    if pairing is not None and pairing.search(before):
        return True
    return language == "zh" and bool(_PAIRING_WITH_BEFORE.search(before) and _PAIRING_WITH_AFTER.search(text[end:]))


def colour_mentions(text: str, lexicon: Lexicon) -> list[tuple[int, int, Colour]]:
    """Colours named in ``text`` as (start, end, colour), longest mention first: "米白" is off-white,
    not white. Words of the lexicon's ``not_colours`` (白领, 显白, "black friday") hide the colours
    inside them; on a tie the earlier word wins ("明白色" is 明白)."""
    normalised = normalise(text)
    found: list[tuple[int, int, Colour | None]] = []
    for phrase in lexicon.not_colours:
        found.extend((m.start(), m.end(), None) for m in _form_pattern(phrase).finditer(normalised))
    for colour in lexicon.colours:
        for form in colour.forms():
            found.extend((m.start(), m.end(), colour) for m in _form_pattern(form).finditer(normalised))
    found.sort(key=lambda m: (-(m[1] - m[0]), m[0], m[2] is not None))
    kept: list[tuple[int, int, Colour | None]] = []
    for mention in found:
        if all(mention[1] <= k[0] or mention[0] >= k[1] for k in kept):
            kept.append(mention)
    return sorted((s, e, c) for s, e, c in kept if c is not None)


def _colour_claims(text: str, language: str, attributes: Sequence[tuple[str, str]],
                   lexicon: Lexicon) -> tuple[list[Claim], list[Claim]]:
    """Colours in the copy: (unsupported, supported). A colour is supported when the attributes name
    it or one of its shades, when a colour attribute names no colour we know, or when it belongs
    to an item the copy suggests pairing the product with."""
    given: set[str] = set()
    unknown = False
    for key, value in attributes:
        names = {c.name for _, _, c in colour_mentions(f"{key} {value}", lexicon)}
        given |= names
        if not names and _COLOUR_KEY.search(key):
            unknown = True  # 颜色#图片色: no way to tell
    broader = {c.shade_of for c in lexicon.colours if c.name in given and c.shade_of}
    unsupported, supported = [], []
    for start, end, colour in colour_mentions(text, lexicon):
        claim = Claim("colour", text[start:end], start, end)
        ok = unknown or colour.name in given or colour.name in broader or _about_other_item(text, start, end, language)
        (supported if ok else unsupported).append(claim)
    return unsupported, supported


def _group_claims(text: str, groups: Sequence[Group], kind: str, facts: str,
                  language: str = "en", idioms: Sequence[tuple[int, int]] = ()) -> tuple[list[Claim], list[Claim]]:
    """Mentions of lexicon groups in ``text``: (unsupported, supported); the longest mention wins.
    A material named in a pairing suggestion ("搭配牛仔裤", "pair it with denim shorts") counts as
    supported: it describes the other item. Mentions inside a longer ``idioms`` span are skipped."""
    mentions = []
    normalised_facts = normalise(facts)
    for group in groups:
        supported = any(find_form(facts, form) for form in group.forms())
        for form in group.forms():
            for start, end in find_form(text, form):
                if any(s <= start and end <= e and e - s > end - start for s, e in idioms):
                    continue
                about_other = kind == "material" and _about_other_item(text, start, end, language)
                # "glasses" in copy about sunglasses: the word ends a word of the facts
                in_facts = re.search(re.escape(normalise(text[start:end])) + f"(?![{_LATIN}])", normalised_facts)
                mentions.append((start, end, bool(supported or about_other or in_facts)))
    mentions.sort(key=lambda m: (-(m[1] - m[0]), m[0]))
    kept: list[tuple[int, int, bool]] = []
    for mention in mentions:
        if all(mention[1] <= k[0] or mention[0] >= k[1] for k in kept):
            kept.append(mention)
    unsupported = [Claim(kind, text[s:e], s, e) for s, e, ok in kept if not ok]
    supported = [Claim(kind, text[s:e], s, e) for s, e, ok in kept if ok]
    return unsupported, supported


def _superlatives(text: str, language: str, lexicon: Lexicon) -> list[Claim]:
    if language == "zh":
        from adcopy_desktop.core.compliance import load_terms

        hits = load_terms().find(text, "zh")
        return [Claim("superlative", hit.found, hit.start, hit.end) for hit in hits if hit.term.category == "absolute"]
    claims = []
    for word in lexicon.superlatives_en:
        for start, end in find_form(text, word):
            claims.append(Claim("superlative", text[start:end], start, end))
    normalised = normalise(text)
    for match in re.finditer(rf"(?<![{_LATIN}])([a-z]{{2,}}(?:i?est))(?![{_LATIN}])", normalised):
        word = match.group(1)
        if word in lexicon.not_superlatives_en or len(word) < 5:
            continue
        claims.append(Claim("superlative", text[match.start():match.end()], match.start(), match.end()))
    for match in re.finditer(rf"(?<![{_LATIN}])most\s+([a-z][a-z\-]+)", normalised):
        if match.group(1) in lexicon.not_after_most_en or not _ADJECTIVE_ENDING.search(match.group(1)):
            continue
        claims.append(Claim("superlative", text[match.start():match.end()], match.start(), match.end()))
    claims.sort(key=lambda c: (-(c.end - c.start), c.start))
    kept: list[Claim] = []
    for claim in claims:
        if all(claim.end <= k.start or claim.start >= k.end for k in kept):
            kept.append(claim)
    return sorted(kept, key=lambda c: c.start)


def check_faithfulness(
    text: str,
    language: str,
    attributes: Sequence[tuple[str, str]],
    *,
    lexicon: Lexicon | None = None,
) -> FaithfulnessReport:
    lexicon = lexicon or load_lexicon()
    report = FaithfulnessReport()
    for key, value in attribute_items(attributes):
        reflection = reflect_value(text, language, value, lexicon)
        report.reflections.append(Reflection(key, value, reflection.status, reflection.spans))
    facts = "\n".join(f"{key} {value}" for key, value in attributes)
    fact_numbers = {n for n, _, _ in numbers_in(facts)}
    for number, start, end in numbers_in(text, skip_list_markers=True):
        if text[end:end + 1] in ("%", "％"):
            end += 1
        claim = Claim("number", text[start:end], start, end)
        (report.supported if number in fact_numbers else report.unsupported).append(claim)
    # gold and silver are metals as well as colours: "黄金比例" and "silver lining" name neither
    idioms = [(m.start(), m.end()) for phrase in lexicon.not_colours
              for m in _form_pattern(phrase).finditer(normalise(text))]
    for groups, kind in ((lexicon.materials, "material"), (lexicon.certifications, "certification")):
        unsupported, supported = _group_claims(text, groups, kind, facts, language, idioms if kind == "material" else ())
        report.unsupported.extend(unsupported)
        report.supported.extend(supported)
    unsupported, supported = _colour_claims(text, language, attributes, lexicon)
    report.unsupported.extend(unsupported)
    report.supported.extend(supported)
    normalised_facts = normalise(facts)
    for claim in _superlatives(text, language, lexicon):
        target = report.supported if normalise(claim.text) in normalised_facts else report.unsupported
        target.append(claim)
    # one claim per stretch of text: a number inside a material ("100% cotton") is reported once, and
    # "gold" for a product of gold (material) is not an invented colour
    report.unsupported = _without_overlaps(report.unsupported)
    report.unsupported = [c for c in report.unsupported
                          if not any(s.start <= c.start and c.end <= s.end and s.kind != "number"
                                     for s in report.supported)]
    return report


def _without_overlaps(claims: list[Claim]) -> list[Claim]:
    ordered = sorted(claims, key=lambda c: (-(c.end - c.start), c.start))
    kept: list[Claim] = []
    for claim in ordered:
        if all(claim.end <= k.start or claim.start >= k.end for k in kept):
            kept.append(claim)
    return sorted(kept, key=lambda c: c.start)


def faithfulness_value(report: FaithfulnessReport, kind: str) -> float:
    """``(0.3 + 0.7 * reflection) / (1 + unsupported claims)``: reflection is the share of checked
    values found over what the kind is expected to carry (capped at 1), so copy that names none of
    the facts keeps 0.3 and every invented claim divides the rest. Without checkable values the
    claims part alone decides."""
    claims_part = 1.0 / (1 + len(report.unsupported))
    coverage = report.coverage
    if coverage is None:
        return round(claims_part, 4)
    expected = EXPECTED_COVERAGE.get(kind, 0.8)
    reflection = min(1.0, coverage / expected)
    return round((REFLECTION_FLOOR + (1 - REFLECTION_FLOOR) * reflection) * claims_part, 4)


CLAIM_NAMES = {"number": "number", "material": "material", "colour": "colour",
               "certification": "certification or label", "superlative": "superlative"}


def describe(report: FaithfulnessReport, kind: str) -> tuple[str, str]:
    """(label, explanation) for a report, in English."""
    label, explanation = describe_texts(report, kind)
    return label.render(), explanation.render()


def describe_texts(report: FaithfulnessReport, kind: str) -> tuple[Text, Joined]:
    """(label, explanation) for a report, in every language (``core/texts.py``)."""
    parts: list[Text] = []
    checked = report.checked
    if checked:
        reflected = [r.value for r in checked if r.status == "reflected"]
        missing = [r.value for r in checked if r.status == "missing"]
        counts = {"reflected": len(reflected), "checked": len(checked)}
        parts.append(Text("faithfulness.reflects_missing", {**counts, "missing": Joined(missing[:8])}) if missing
                     else Text("faithfulness.reflects", counts))
    unchecked = [r.value for r in report.reflections if r.status == "unchecked"]
    if unchecked:
        parts.append(Text("faithfulness.unchecked", {"values": Joined(unchecked[:5])}))
    if report.unsupported:
        claims = [Text("faithfulness.claim", {"text": c.text, "kind": Text(f"claim.{c.kind}")})
                  for c in report.unsupported[:8]]
        parts.append(Text("faithfulness.unsupported", {"claims": Joined(claims, "clauses")}))
        if any(c.kind == "colour" for c in report.unsupported):
            parts.append(Text("faithfulness.colour_rule"))
    else:
        parts.append(Text("faithfulness.no_claims"))
    if report.unsupported:
        label = "unsupported_claims"
    elif checked and (report.coverage or 0) < EXPECTED_COVERAGE.get(kind, 0.8):
        label = "missing_facts"
    else:
        label = "faithful"
    return Text(f"faithfulness.{label}"), Joined(parts, "sentences")


__all__ = [
    "CLAIM_NAMES", "Claim", "Colour", "FaithfulnessReport", "Lexicon", "Reflection", "attribute_items",
    "check_faithfulness", "colour_mentions", "describe", "describe_texts", "faithfulness_value", "find_form",
    "load_lexicon", "numbers_in", "reflect_value",
]
