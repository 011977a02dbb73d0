"""Brand styles: a brand's voice, approved examples and word rules, and checking copy against them.

A ``BrandStyle`` is what a style plugin registers (``register_styles`` hook). Generation applies it
in three places (see ``core/generation.py``):

1. the prompt: ``style_notes(language, kind)`` feeds the voice and few-shot examples to
   ``prompts.build_messages`` (and the word rules to the built-in ``adjust_prompt`` plugin);
2. the length: a per-kind length rule becomes the request's length target when the user set none;
3. the result: ``check(text, language, kind)`` finds forbidden words (with their spans), missing
   required words and length-rule breaches. A candidate with a forbidden word is regenerated up to
   ``max_regenerations`` times and flagged if it still has one; the text is never cut.

Languages: every word list and voice is keyed by language code (``zh``, ``en``); the key ``all``
applies to every language. Lengths count characters for Chinese and words for English, like the
``--length`` option.

Matching: case-insensitive; a word that starts or ends with a Latin letter or digit only matches
whole words on that side ("cure" does not match "secure"), Chinese words match anywhere.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .errors import StyleError
from .languages import SUPPORTED_LANGUAGES, language_name

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from .prompts import CopyRequest

ALL_LANGUAGES = "all"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_REGENERATIONS = 5
DEFAULT_REGENERATIONS = 2
MAX_VOICE_CHARS = 500  # prompts.MAX_VOICE_CHARS: longer voices would be cut in the prompt
MAX_EXAMPLE_CHARS = 1_000
MAX_EXAMPLES_IN_PROMPT = 5
MAX_WORDS = 500
MAX_WORD_CHARS = 100
MAX_LENGTH = 2_000
COPY_KINDS = ("title", "description", "selling_points", "promo", "slogan")

SEVERITY_ERROR = "error"  # forbidden word: regenerated, flagged if it stays
SEVERITY_WARNING = "warning"  # missing required word, length: flagged


@dataclass(frozen=True)
class StyleExample:
    """One piece of approved copy; ``kind`` None means it suits every copy kind."""

    text: str
    language: str
    kind: str | None = None


@dataclass(frozen=True)
class LengthRule:
    """Bounds in characters (zh) or words (en); either may be None."""

    min: int | None = None
    max: int | None = None

    def target(self) -> int | None:
        """The length to ask the model for: the middle of the range, or a little under the maximum."""
        if self.min is not None and self.max is not None:
            return (self.min + self.max) // 2
        if self.max is not None:
            return max(1, round(self.max * 0.8))
        return self.min

    def to_dict(self) -> dict[str, int | None]:
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True, eq=True)
class BrandStyle:
    """A brand's voice and rules. Build it in code or from a TOML/JSON file (``load_style_file``)."""

    name: str  # unique id used by --style: lowercase letters, digits, - and _
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    label: str = ""  # display name, any script ("Qingshan Tea 青山茶")
    description: str = ""
    voice: Mapping[str, str] = field(default_factory=dict)  # language (or "all") -> voice text
    examples: tuple[StyleExample, ...] = ()
    required_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    forbidden_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    preferred_phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    length_rules: Mapping[str, Mapping[str, LengthRule]] = field(default_factory=dict)  # kind -> lang -> rule
    adapter: Path | None = None  # a LoRA adapter folder for this brand (used once training lands)
    max_regenerations: int = DEFAULT_REGENERATIONS
    # Scoring (docs/scoring.md): SEO keywords per language, extra advertising terms (reported as
    # errors) and exempt phrases per language, the sales channels whose rules apply, overrides of
    # those rules (channel -> kind -> {max = 28, ...}), and ranking weights per scorer name.
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ad_terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ad_exempt: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    channel_rules: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    score_weights: Mapping[str, float] = field(default_factory=dict)

    # -- reading ------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: Path | None = None, where: str = "style") -> "BrandStyle":
        """Build a style from plain data (a parsed TOML/JSON file); ``base`` resolves ``adapter``."""
        if not isinstance(data, Mapping):
            raise StyleError(f"{where}: a style must be a table/object, not {type(data).__name__}.")
        known = {
            "name", "label", "description", "languages", "voice", "examples", "required_words",
            "forbidden_words", "preferred_phrases", "length_rules", "adapter", "max_regenerations",
            "keywords", "ad_terms", "ad_exempt", "channels", "channel_rules", "score_weights",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise StyleError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        name = data.get("name")
        where = f"style '{name}'" if isinstance(name, str) else where
        languages = data.get("languages", list(SUPPORTED_LANGUAGES))
        if isinstance(languages, str):
            languages = [languages]
        if not isinstance(languages, (list, tuple)):
            raise StyleError(f"{where}: languages must be a list such as [\"zh\", \"en\"].")
        adapter = data.get("adapter")
        if adapter is not None:
            if not isinstance(adapter, (str, Path)) or not str(adapter).strip():
                raise StyleError(f"{where}: adapter must be a folder path.")
            adapter = Path(adapter).expanduser()
            if not adapter.is_absolute() and base is not None:
                adapter = base / adapter
        return cls(
            name=name,  # type: ignore[arg-type]  # checked by validate()
            languages=tuple(languages),
            label=data.get("label", ""),
            description=data.get("description", ""),
            voice=_voice_from(data.get("voice", {}), where),
            examples=_examples_from(data.get("examples", []), where),
            required_words=_words_from(data.get("required_words", {}), "required_words", where),
            forbidden_words=_words_from(data.get("forbidden_words", {}), "forbidden_words", where),
            preferred_phrases=_words_from(data.get("preferred_phrases", {}), "preferred_phrases", where),
            length_rules=_length_rules_from(data.get("length_rules", {}), where),
            adapter=adapter,
            max_regenerations=data.get("max_regenerations", DEFAULT_REGENERATIONS),
            keywords=_words_from(data.get("keywords", {}), "keywords", where),
            ad_terms=_words_from(data.get("ad_terms", {}), "ad_terms", where),
            ad_exempt=_words_from(data.get("ad_exempt", {}), "ad_exempt", where),
            channels=_channels_from(data.get("channels", ()), where),
            channel_rules=_mapping_from(data.get("channel_rules", {}), "channel_rules", where),
            score_weights=_mapping_from(data.get("score_weights", {}), "score_weights", where),
        )

    # -- checking the style itself ----------------------------------------------------------------

    def problems(self) -> list[str]:
        """Everything wrong with this style, as sentences; empty when it is valid."""
        found: list[str] = []
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            found.append(
                f"name {self.name!r} must be 1-64 lowercase letters, digits, '-' or '_', starting with a "
                "letter or digit"
            )
        if not isinstance(self.label, str) or not isinstance(self.description, str):
            found.append("label and description must be text")
        languages = self.languages
        if not languages or not all(isinstance(code, str) for code in languages):
            found.append("languages must list at least one language code (zh, en)")
            languages = ()
        else:
            unknown = [code for code in languages if code not in SUPPORTED_LANGUAGES]
            if unknown:
                found.append(f"unknown language(s) {', '.join(map(str, unknown))}; use {', '.join(SUPPORTED_LANGUAGES)}")
            if len(set(languages)) != len(languages):
                found.append("languages lists a language twice")
        allowed_keys = set(languages) | {ALL_LANGUAGES}
        if not isinstance(self.voice, Mapping):
            found.append("voice must map languages to text")
        else:
            for code, text in self.voice.items():
                if code not in allowed_keys:
                    found.append(f"voice has a '{code}' entry but the style's languages are {', '.join(languages)}")
                elif not isinstance(text, str) or not text.strip():
                    found.append(f"voice '{code}' must be non-empty text")
                elif len(text) > MAX_VOICE_CHARS:
                    found.append(f"voice '{code}' is {len(text)} characters; keep it under {MAX_VOICE_CHARS}")
        for number, example in enumerate(self.examples, start=1):
            if not isinstance(example, StyleExample):
                found.append(f"example {number} must be a StyleExample")
                continue
            if not isinstance(example.text, str) or not example.text.strip():
                found.append(f"example {number} has no text")
            elif len(example.text) > MAX_EXAMPLE_CHARS:
                found.append(f"example {number} is longer than {MAX_EXAMPLE_CHARS} characters")
            if example.language not in languages:
                found.append(f"example {number} is in '{example.language}', not one of the style's languages")
            if example.kind is not None and example.kind not in COPY_KINDS:
                found.append(f"example {number} has unknown kind '{example.kind}'; use {', '.join(COPY_KINDS)}")
        for field_name in ("required_words", "forbidden_words", "preferred_phrases", "keywords", "ad_terms",
                           "ad_exempt"):
            found.extend(_word_problems(getattr(self, field_name), field_name, allowed_keys))
        for language in languages:
            required = {w.casefold() for w in _words_for(self.required_words, language)}
            clash = sorted(w for w in _words_for(self.forbidden_words, language) if w.casefold() in required)
            if clash:
                listed = ", ".join(f"'{word}'" for word in clash)
                found.append(f"{listed} {'is' if len(clash) == 1 else 'are'} both required and forbidden in {language}")
        found.extend(_length_problems(self.length_rules, allowed_keys))
        if self.adapter is not None:
            if not isinstance(self.adapter, Path):
                found.append("adapter must be a folder path")
            elif not self.adapter.is_dir():
                found.append(f"adapter folder {self.adapter} does not exist")
        regenerations = self.max_regenerations
        if isinstance(regenerations, bool) or not isinstance(regenerations, int) or not (
            0 <= regenerations <= MAX_REGENERATIONS
        ):
            found.append(f"max_regenerations must be a whole number from 0 to {MAX_REGENERATIONS}")
        if self.channels or self.channel_rules:
            from .channels import style_channel_problems

            found.extend(style_channel_problems(self.channels, self.channel_rules))
        found.extend(_weight_problems(self.score_weights))
        return found

    def validate(self) -> "BrandStyle":
        """Return the style if it is valid; raise StyleError listing every problem otherwise."""
        problems = self.problems()
        if problems:
            raise StyleError(f"Style {self.name!r} is invalid: " + "; ".join(problems) + ".")
        return self

    # -- using it ---------------------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        return self.label or self.name

    def covers(self, language: str) -> bool:
        return language in self.languages

    def check_language(self, language: str) -> None:
        if not self.covers(language):
            covered = ", ".join(f"{code} ({language_name(code)})" for code in self.languages)
            raise StyleError(
                f"The style '{self.name}' is written for {covered} only, so it cannot shape "
                f"{language_name(language)} copy. Pick another language with --lang or another style."
            )

    def voice_for(self, language: str) -> str:
        return (self.voice.get(language) or self.voice.get(ALL_LANGUAGES) or "").strip()

    def examples_for(self, language: str, kind: str | None) -> list[str]:
        """Examples in ``language``: those written for ``kind`` first, then the ones for any kind."""
        same_kind = [e.text for e in self.examples if e.language == language and kind and e.kind == kind]
        any_kind = [e.text for e in self.examples if e.language == language and e.kind is None]
        return (same_kind + any_kind)[:MAX_EXAMPLES_IN_PROMPT]

    def required_for(self, language: str) -> tuple[str, ...]:
        return _words_for(self.required_words, language)

    def forbidden_for(self, language: str) -> tuple[str, ...]:
        return _words_for(self.forbidden_words, language)

    def preferred_for(self, language: str) -> tuple[str, ...]:
        return _words_for(self.preferred_phrases, language)

    def keywords_for(self, language: str) -> tuple[str, ...]:
        return _words_for(self.keywords, language)

    def ad_terms_for(self, language: str) -> tuple[str, ...]:
        return _words_for(self.ad_terms, language)

    def ad_exempt_for(self, language: str) -> tuple[str, ...]:
        return _words_for(self.ad_exempt, language)

    def length_rule(self, kind: str, language: str) -> LengthRule | None:
        rules = self.length_rules.get(str(kind)) or {}
        return rules.get(language) or rules.get(ALL_LANGUAGES)

    def style_notes(self, language: str, kind: str) -> dict[str, Any]:
        """What ``CopyRequest.style_notes`` carries: voice and examples for the prompt, the rest for
        plugins (the built-in word-rules plugin puts required words and preferred phrases in)."""
        rule = self.length_rule(kind, language)
        return {
            "style": self.name,
            "voice": self.voice_for(language),
            "examples": self.examples_for(language, kind),
            "required_words": list(self.required_for(language)),
            "forbidden_words": list(self.forbidden_for(language)),
            "preferred_phrases": list(self.preferred_for(language)),
            "length_rule": {**rule.to_dict(), "unit": length_unit(language)} if rule else None,
        }

    def apply(self, request: "CopyRequest") -> "CopyRequest":
        """The request with this style's notes (explicit ``style_notes`` keys win) and, when the request
        has no length, the style's length rule for the kind as the target."""
        from .prompts import resolve_language

        language = resolve_language(request)
        self.check_language(language)
        notes = self.style_notes(language, request.kind.value)
        notes.update(request.style_notes or {})
        length = request.length
        if length is None:
            rule = self.length_rule(request.kind.value, language)
            length = rule.target() if rule else None
        return replace(request, language=language, style_notes=notes, length=length)

    def check(self, text: str, language: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Flags for ``text``: forbidden words (errors, with spans), then missing required words and
        length-rule breaches (warnings)."""
        flags = self.forbidden_hits(text, language)
        for word in self.required_for(language):
            if not find_word(text, word):
                flags.append({
                    "rule": "missing_required_word", "severity": SEVERITY_WARNING, "style": self.name,
                    "word": word, "message": f"'{word}' is required by the style '{self.name}' but missing",
                })
        rule = self.length_rule(kind, language) if kind else None
        if rule is not None:
            measured = text_length(text, language)
            unit = length_unit(language)
            if rule.max is not None and measured > rule.max:
                flags.append({
                    "rule": "too_long", "severity": SEVERITY_WARNING, "style": self.name, "length": measured,
                    "limit": rule.max, "unit": unit,
                    "message": f"{measured} {unit}, over the style's maximum of {rule.max}",
                })
            if rule.min is not None and measured < rule.min:
                flags.append({
                    "rule": "too_short", "severity": SEVERITY_WARNING, "style": self.name, "length": measured,
                    "limit": rule.min, "unit": unit,
                    "message": f"{measured} {unit}, under the style's minimum of {rule.min}",
                })
        return flags

    def forbidden_hits(self, text: str, language: str) -> list[dict[str, Any]]:
        """Every forbidden word in ``text`` with its character span, in text order."""
        hits = []
        for word in self.forbidden_for(language):
            for start, end in find_word(text, word):
                hits.append({
                    "rule": "forbidden_word", "severity": SEVERITY_ERROR, "style": self.name, "word": word,
                    "start": start, "end": end, "found": text[start:end],
                    "message": f"'{text[start:end]}' is forbidden by the style '{self.name}'",
                })
        return sorted(hits, key=lambda hit: (hit["start"], hit["end"]))

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the style-file layout (for listing and round-trips)."""
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "languages": list(self.languages),
            "voice": dict(self.voice),
            "examples": [
                {"text": e.text, "language": e.language, **({"kind": e.kind} if e.kind else {})}
                for e in self.examples
            ],
            "required_words": {k: list(v) for k, v in self.required_words.items()},
            "forbidden_words": {k: list(v) for k, v in self.forbidden_words.items()},
            "preferred_phrases": {k: list(v) for k, v in self.preferred_phrases.items()},
            "length_rules": {
                kind: {lang: rule.to_dict() for lang, rule in rules.items()}
                for kind, rules in self.length_rules.items()
            },
            "adapter": str(self.adapter) if self.adapter else None,
            "max_regenerations": self.max_regenerations,
            "keywords": {k: list(v) for k, v in self.keywords.items()},
            "ad_terms": {k: list(v) for k, v in self.ad_terms.items()},
            "ad_exempt": {k: list(v) for k, v in self.ad_exempt.items()},
            "channels": list(self.channels),
            "channel_rules": {
                channel: {kind: dict(values) for kind, values in per_kind.items()}
                for channel, per_kind in self.channel_rules.items()
            },
            "score_weights": dict(self.score_weights),
        }


def load_style_file(path: "Path | Traversable") -> BrandStyle:
    """Read and validate a style from a ``.toml`` or ``.json`` file (a path or an
    ``importlib.resources`` file); errors name the file."""
    name = getattr(path, "name", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise StyleError(f"Cannot read the style file {path}: {error}") from None
    try:
        data = json.loads(text) if name.endswith(".json") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise StyleError(f"The style file {path} is not valid {'JSON' if name.endswith('.json') else 'TOML'}: {error}") from None
    base = Path(str(path)).parent if isinstance(path, Path) or Path(str(path)).exists() else None
    try:
        return BrandStyle.from_dict(data, base=base, where=str(path)).validate()
    except StyleError as error:
        raise StyleError(f"{path}: {error}") from None


# -- matching ------------------------------------------------------------------------------------

_LATIN_WORD_CHAR = r"0-9A-Za-z\u00C0-\u024F"
_pattern_cache: dict[str, re.Pattern[str]] = {}


def word_pattern(word: str) -> re.Pattern[str]:
    """Case-insensitive pattern for ``word``: whole-word on a side that is a Latin letter or digit."""
    pattern = _pattern_cache.get(word)
    if pattern is None:
        body = re.escape(word)
        if re.match(f"[{_LATIN_WORD_CHAR}]", word):
            body = f"(?<![{_LATIN_WORD_CHAR}])" + body
        if re.search(f"[{_LATIN_WORD_CHAR}]$", word):
            body += f"(?![{_LATIN_WORD_CHAR}])"
        pattern = _pattern_cache[word] = re.compile(body, re.IGNORECASE)
    return pattern


def find_word(text: str, word: str) -> list[tuple[int, int]]:
    """Spans of ``word`` in ``text`` (see the module docstring for the matching rules)."""
    if not word:
        return []
    return [(match.start(), match.end()) for match in word_pattern(word).finditer(text)]


def text_length(text: str, language: str) -> int:
    """Characters without spaces for Chinese, words for English."""
    if language == "zh":
        return sum(1 for char in text if not char.isspace())
    return len(text.split())


def length_unit(language: str) -> str:
    return "characters" if language == "zh" else "words"


# -- reading helpers -----------------------------------------------------------------------------


def _words_for(words: Mapping[str, Iterable[str]], language: str) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for key in (ALL_LANGUAGES, language):
        for word in words.get(key, ()) if isinstance(words, Mapping) else ():
            if isinstance(word, str) and word.strip():
                seen.setdefault(word.strip().casefold(), word.strip())
    return tuple(seen.values())


def _voice_from(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {ALL_LANGUAGES: value}
    if not isinstance(value, Mapping):
        raise StyleError(f"{where}: voice must be text or a table of language = text.")
    return dict(value)


def _examples_from(value: Any, where: str) -> tuple[StyleExample, ...]:
    if not isinstance(value, (list, tuple)):
        raise StyleError(f"{where}: examples must be a list of {{text, language, kind}} tables.")
    examples = []
    for number, item in enumerate(value, start=1):
        if isinstance(item, StyleExample):
            examples.append(item)
            continue
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            raise StyleError(f"{where}: example {number} needs text, language and optionally kind.")
        extra = set(item) - {"text", "language", "kind"}
        if extra:
            raise StyleError(f"{where}: example {number} has unknown field(s) {', '.join(sorted(extra))}.")
        examples.append(StyleExample(text=item["text"], language=item.get("language"), kind=item.get("kind")))
    return tuple(examples)


def _words_from(value: Any, field_name: str, where: str) -> dict[str, tuple[str, ...]]:
    if isinstance(value, (list, tuple)):
        value = {ALL_LANGUAGES: value}
    if not isinstance(value, Mapping):
        raise StyleError(f"{where}: {field_name} must be a list, or a table of language = [words].")
    result = {}
    for key, words in value.items():
        if isinstance(words, str) or not isinstance(words, (list, tuple)):
            raise StyleError(f"{where}: {field_name}.{key} must be a list of words.")
        result[str(key)] = tuple(words)
    return result


def _channels_from(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(name, str) for name in value):
        raise StyleError(f"{where}: channels must be a list such as [\"taobao\", \"jd\"].")
    return tuple(name.strip().lower() for name in value)


def _mapping_from(value: Any, field_name: str, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise StyleError(f"{where}: {field_name} must be a table.")
    return dict(value)


def _weight_problems(weights: Any) -> list[str]:
    if not isinstance(weights, Mapping):
        return ["score_weights must map scorer names to numbers"]
    found = []
    for name, weight in weights.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", name):
            found.append(f"score_weights: {name!r} is not a scorer name")
        elif isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 100:
            found.append(f"score_weights.{name} must be a number from 0 (ignore) to 100")
    return found


def _length_rules_from(value: Any, where: str) -> dict[str, dict[str, LengthRule]]:
    if not isinstance(value, Mapping):
        raise StyleError(f"{where}: length_rules must be a table: [length_rules.title] zh = {{ max = 30 }}.")
    rules: dict[str, dict[str, LengthRule]] = {}
    for kind, per_language in value.items():
        if not isinstance(per_language, Mapping):
            raise StyleError(f"{where}: length_rules.{kind} must be a table of language = {{ min, max }}.")
        rules[str(kind)] = {}
        for language, bounds in per_language.items():
            if isinstance(bounds, LengthRule):
                rules[str(kind)][str(language)] = bounds
                continue
            if not isinstance(bounds, Mapping) or set(bounds) - {"min", "max"} or not bounds:
                raise StyleError(f"{where}: length_rules.{kind}.{language} must be {{ min = N, max = N }}.")
            rules[str(kind)][str(language)] = LengthRule(min=bounds.get("min"), max=bounds.get("max"))
    return rules


def _word_problems(words: Any, field_name: str, allowed_keys: set[str]) -> list[str]:
    if not isinstance(words, Mapping):
        return [f"{field_name} must map languages to lists of words"]
    found = []
    total = 0
    for key, items in words.items():
        if key not in allowed_keys:
            found.append(f"{field_name} has a '{key}' entry; use {', '.join(sorted(allowed_keys))}")
            continue
        if isinstance(items, str) or not isinstance(items, (list, tuple)):
            found.append(f"{field_name}.{key} must be a list of words")
            continue
        for word in items:
            total += 1
            if not isinstance(word, str) or not word.strip():
                found.append(f"{field_name}.{key} has an empty or non-text entry {word!r}")
            elif len(word) > MAX_WORD_CHARS:
                found.append(f"{field_name}.{key} has an entry over {MAX_WORD_CHARS} characters")
    if total > MAX_WORDS:
        found.append(f"{field_name} has {total} entries; at most {MAX_WORDS}")
    return found


def _length_problems(rules: Any, allowed_keys: set[str]) -> list[str]:
    if not isinstance(rules, Mapping):
        return ["length_rules must map copy kinds to per-language rules"]
    found = []
    for kind, per_language in rules.items():
        if kind not in COPY_KINDS:
            found.append(f"length_rules has unknown kind '{kind}'; use {', '.join(COPY_KINDS)}")
            continue
        if not isinstance(per_language, Mapping):
            found.append(f"length_rules.{kind} must map languages to rules")
            continue
        for language, rule in per_language.items():
            where = f"length_rules.{kind}.{language}"
            if language not in allowed_keys:
                found.append(f"{where}: '{language}' is not one of the style's languages")
                continue
            if not isinstance(rule, LengthRule):
                found.append(f"{where} must be a LengthRule")
                continue
            bounds = [bound for bound in (rule.min, rule.max) if bound is not None]
            if not bounds:
                found.append(f"{where} needs min or max")
            if any(isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= MAX_LENGTH for b in bounds):
                found.append(f"{where}: min and max must be whole numbers from 1 to {MAX_LENGTH}")
            elif rule.min is not None and rule.max is not None and rule.min > rule.max:
                found.append(f"{where}: min {rule.min} is above max {rule.max}")
    return found
