"""Advertising terms: the versioned word list in ``resources/compliance/ad_terms.toml`` and finding
its terms in copy.

Chinese copy is checked against absolute terms (《广告法》第九条第三项 as the 2023 SAMR guideline
reads it) and the other statutory bans listed there; English copy against claims that need
substantiation or are not allowed for ordinary goods. Exempt phrases (最佳保质期, 第一次, dog treats)
hide the terms inside them. A brand style adds terms (``ad_terms``, reported as errors) and exempt
phrases (``ad_exempt``). See the list file's header for the matching rules.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.styles import find_word
from adcopy_desktop.paths import resources_dir

SEVERITIES = ("error", "warning")


class TermListError(AdCopyError):
    """The advertising word list is missing or malformed; the message names the file and entry."""


@dataclass(frozen=True)
class AdTerm:
    term: str
    severity: str  # error | warning
    reason: str
    source: str = "list"  # list | style
    category: str = "absolute"  # absolute | claim | government | medical | trademark | style


@dataclass(frozen=True)
class TermHit:
    term: AdTerm
    start: int
    end: int
    found: str  # the text as written

    @property
    def severity(self) -> str:
        return self.term.severity

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term.term, "found": self.found, "start": self.start, "end": self.end,
                "severity": self.severity, "reason": self.term.reason, "source": self.term.source,
                "category": self.term.category}


@dataclass(frozen=True)
class TermList:
    version: str
    terms: Mapping[str, tuple[AdTerm, ...]]  # language -> terms
    exempt: Mapping[str, tuple[str, ...]]  # language -> phrases
    path: str = ""

    def extended(self, language: str, terms: Iterable[str] = (), exempt: Iterable[str] = (),
                 reason: str = "listed by the brand style") -> "TermList":
        """This list plus a brand's own terms (errors) and exempt phrases for ``language``."""
        extra_terms = tuple(AdTerm(word, "error", reason, "style", "style") for word in terms if word.strip())
        extra_exempt = tuple(phrase for phrase in exempt if phrase.strip())
        if not extra_terms and not extra_exempt:
            return self
        all_terms = dict(self.terms)
        all_terms[language] = (*self.terms.get(language, ()), *extra_terms)
        all_exempt = dict(self.exempt)
        all_exempt[language] = (*self.exempt.get(language, ()), *extra_exempt)
        return TermList(self.version, all_terms, all_exempt, self.path)

    def find(self, text: str, language: str) -> list[TermHit]:
        """Every reported term in ``text``: exempt phrases hide what they contain, and of
        overlapping hits the longest (then the earliest) wins. In text order."""
        exempt_spans = [span for phrase in self.exempt.get(language, ()) for span in find_word(text, phrase)]
        hits = []
        for term in self.terms.get(language, ()):
            for start, end in find_word(text, term.term):
                if any(low <= start and end <= high for low, high in exempt_spans):
                    continue
                hits.append(TermHit(term, start, end, text[start:end]))
        hits.sort(key=lambda hit: (-(hit.end - hit.start), hit.start, hit.term.severity != "error"))
        kept: list[TermHit] = []
        for hit in hits:
            if all(hit.end <= other.start or hit.start >= other.end for other in kept):
                kept.append(hit)
        return sorted(kept, key=lambda hit: hit.start)


def terms_path() -> Path:
    return resources_dir() / "compliance" / "ad_terms.toml"


def load_terms(path: Path | None = None) -> TermList:
    path = Path(path) if path is not None else terms_path()
    try:
        stat = path.stat()
    except OSError as error:
        raise TermListError(f"The advertising word list {path} is missing ({error}).") from None
    return _load_cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: int, size: int) -> TermList:
    name = Path(path).name
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise TermListError(f"Cannot read the advertising word list {path}: {error}") from None
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise TermListError(f"{name}: needs a version such as version = \"2026.11\"")
    terms: dict[str, tuple[AdTerm, ...]] = {}
    exempt: dict[str, tuple[str, ...]] = {}
    for language in ("zh", "en"):
        entries = data.get(f"{language}_terms", [])
        parsed = []
        seen = set()
        for number, entry in enumerate(entries, start=1):
            where = f"{name}: {language}_terms entry {number}"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("term"), str) or not entry["term"].strip():
                raise TermListError(f"{where} needs term, severity and reason")
            if entry.get("severity") not in SEVERITIES:
                raise TermListError(f"{where} ('{entry['term']}'): severity must be error or warning")
            if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
                raise TermListError(f"{where} ('{entry['term']}') needs a reason")
            if entry["term"].casefold() in seen:
                raise TermListError(f"{where}: '{entry['term']}' is listed twice")
            seen.add(entry["term"].casefold())
            category = entry.get("category", "absolute" if language == "zh" else "claim")
            if not isinstance(category, str):
                raise TermListError(f"{where} ('{entry['term']}'): category must be text")
            parsed.append(AdTerm(entry["term"], entry["severity"], entry["reason"], category=category))
        terms[language] = tuple(parsed)
        phrases = data.get(f"{language}_exempt", [])
        if not all(isinstance(p, str) and p.strip() for p in phrases):
            raise TermListError(f"{name}: {language}_exempt must be a list of phrases")
        exempt[language] = tuple(phrases)
    return TermList(version=version, terms=terms, exempt=exempt, path=path)


def terms_for_style(style: Any, language: str, base: TermList | None = None) -> TermList:
    """The word list extended by a brand style's ``ad_terms`` and ``ad_exempt`` for ``language``."""
    base = base or load_terms()
    if style is None:
        return base
    return base.extended(language, style.ad_terms_for(language), style.ad_exempt_for(language),
                         reason=f"listed by the brand style '{style.name}'")
