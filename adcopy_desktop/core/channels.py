"""Sales channels' length and format rules (``resources/channels.toml``), and checking copy against them.

A channel (Taobao, Tmall, JD, Amazon, Shopify) has rules per copy kind: length bounds in a unit
(``chars``, ``cjk2`` where two half-width characters count as one Chinese character, or ``words``),
one line or not, bullet counts and per-bullet length, characters and emoji it refuses. ``hard``
marks a platform limit (the channel refuses longer copy) as opposed to a guideline. A brand style
picks channels (``channels = ["taobao"]``) and may override single fields
(``[channel_rules.taobao.title] max = 28``). Kinds a channel does not list fall back to the
``generic`` rules of the language.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.texts import Text, unit_text
from adcopy_desktop.paths import resources_dir

UNITS = ("chars", "cjk2", "words")
RULE_FIELDS = ("max", "min", "unit", "hard", "single_line", "min_items", "max_items", "item_max",
               "forbidden_chars", "no_emoji", "note")
_INT_FIELDS = ("max", "min", "min_items", "max_items", "item_max")
_BOOL_FIELDS = ("hard", "single_line", "no_emoji")

_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\U00002B00-\U00002BFF\uFE0F]"
)
_BULLET = re.compile(r"^\s*(?:[-•·*●▪◆]|\d{1,2}[.、)）]|[①-⑩])\s*")


class ChannelError(AdCopyError):
    """An unknown channel or a malformed channel rule; the message says what to write instead."""


@dataclass(frozen=True)
class ChannelRule:
    max: int | None = None
    min: int | None = None
    unit: str = "chars"
    hard: bool = False
    single_line: bool = False
    min_items: int | None = None
    max_items: int | None = None
    item_max: int | None = None
    forbidden_chars: str = ""
    no_emoji: bool = False
    note: str = ""

    def overridden(self, changes: Mapping[str, Any]) -> "ChannelRule":
        return replace(self, **dict(changes))


@dataclass(frozen=True)
class Channel:
    name: str
    label: str
    languages: tuple[str, ...]
    rules: Mapping[str, ChannelRule] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelBook:
    """Everything in channels.toml."""

    version: str
    defaults: Mapping[str, str]
    channels: Mapping[str, Channel]
    generic: Mapping[str, Mapping[str, ChannelRule]]  # kind -> language -> rule

    def channel(self, name: str) -> Channel:
        key = str(name).strip().lower()
        if key not in self.channels:
            raise ChannelError(f"Unknown channel '{name}'. Channels: {', '.join(sorted(self.channels))}.")
        return self.channels[key]

    def rule(self, channel: str | None, kind: str, language: str) -> ChannelRule | None:
        """The channel's rule for the kind, else the generic rule for kind and language."""
        if channel is not None:
            found = self.channel(channel).rules.get(kind)
            if found is not None:
                return found
        return self.generic.get(kind, {}).get(language)


@dataclass(frozen=True)
class ChannelProblem:
    message: str
    penalty: float
    hard: bool = False
    start: int | None = None
    end: int | None = None
    text: Text | None = None  # ``message`` in every language (``message`` is its English)


def _problem(text: Text, penalty: float, **where: Any) -> ChannelProblem:
    return ChannelProblem(text.render(), penalty, text=text, **where)


@dataclass(frozen=True)
class ChannelCheck:
    channel: str | None  # None: the generic rules
    label: str
    value: float
    problems: tuple[ChannelProblem, ...]
    measured: str = ""  # "28/30 characters"
    measured_text: Text | None = None  # ``measured`` in every language

    @property
    def hard_problems(self) -> list[ChannelProblem]:
        return [problem for problem in self.problems if problem.hard]


def channels_path() -> Path:
    return resources_dir() / "channels.toml"


def load_channels(path: Path | None = None) -> ChannelBook:
    path = Path(path) if path is not None else channels_path()
    stat = path.stat()
    return _load_cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: int, size: int) -> ChannelBook:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ChannelError(f"Cannot read the channel rules {path}: {error}") from None
    where = Path(path).name
    channels = {}
    for name, table in (data.get("channels") or {}).items():
        rules = {kind: parse_rule(value, f"{where}: channels.{name}.{kind}")
                 for kind, value in table.items() if isinstance(value, Mapping)}
        channels[name] = Channel(name=name, label=str(table.get("label", name)),
                                 languages=tuple(table.get("languages", ("zh", "en"))), rules=rules)
    generic = {
        kind: {language: parse_rule(rule, f"{where}: generic.{kind}.{language}") for language, rule in per.items()}
        for kind, per in (data.get("generic") or {}).items()
    }
    defaults = dict(data.get("defaults") or {})
    for language, name in defaults.items():
        if name not in channels:
            raise ChannelError(f"{where}: defaults.{language} names unknown channel '{name}'")
    return ChannelBook(version=str(data.get("version", "")), defaults=defaults, channels=channels, generic=generic)


def rule_problems(values: Any, where: str) -> list[str]:
    """What is wrong with a (partial) rule table such as ``{max = 28}``."""
    if not isinstance(values, Mapping):
        return [f"{where} must be a table such as {{ max = 28 }}"]
    found = []
    for key, value in values.items():
        if key not in RULE_FIELDS:
            found.append(f"{where} has unknown field '{key}' (fields: {', '.join(RULE_FIELDS)})")
        elif key in _INT_FIELDS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            found.append(f"{where}.{key} must be a whole number of 0 or more")
        elif key in _BOOL_FIELDS and not isinstance(value, bool):
            found.append(f"{where}.{key} must be true or false")
        elif key == "unit" and value not in UNITS:
            found.append(f"{where}.unit must be one of {', '.join(UNITS)}")
        elif key in ("forbidden_chars", "note") and not isinstance(value, str):
            found.append(f"{where}.{key} must be text")
    return found


def parse_rule(values: Any, where: str) -> ChannelRule:
    problems = rule_problems(values, where)
    if problems:
        raise ChannelError("; ".join(problems))
    return ChannelRule(**dict(values))


# -- measuring -----------------------------------------------------------------------------------


def _is_wide(char: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(char) in ("W", "F")


def measure(text: str, unit: str) -> float:
    """Length of ``text`` in ``unit`` (see the module docstring)."""
    if unit == "words":
        return float(len(text.split()))
    if unit == "cjk2":
        bytes_ = sum(2 if _is_wide(char) else 1 for char in text if char not in "\r\n")
        return bytes_ / 2
    return float(len(text.replace("\r", "").replace("\n", "")))


def unit_name(unit: str, language: str = "en") -> str:
    return {"chars": "characters", "cjk2": "Chinese characters", "words": "words"}[unit]


def bullet_items(text: str) -> list[tuple[int, int, str]]:
    """Non-empty lines as (start, end, text without the bullet marker)."""
    items = []
    position = 0
    for line in text.split("\n"):
        start, end = position, position + len(line)
        position = end + 1
        if line.strip():
            marker = _BULLET.match(line)
            items.append((start, end, line[marker.end():] if marker else line.strip()))
    return items


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


# -- checking ------------------------------------------------------------------------------------


def check_copy(
    text: str,
    kind: str,
    language: str,
    *,
    channel: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    enforce_hard: bool = True,
    book: ChannelBook | None = None,
) -> ChannelCheck | None:
    """Check ``text`` against the channel's rule for ``kind`` (or the generic one); None when no
    rule applies. ``enforce_hard=False`` reports hard limits as advice (the channel was not chosen)."""
    book = book or load_channels()
    rule = book.rule(channel, kind, language)
    if overrides:
        rule = (rule or ChannelRule()).overridden(overrides)
    if rule is None:
        return None
    label = book.channel(channel).label if channel else "any channel"
    problems: list[ChannelProblem] = []
    hard = rule.hard and enforce_hard
    unit = unit_text(rule.unit)
    body = text.strip()
    measured: Text | None = None
    if rule.max is not None or rule.min is not None:
        length = measure(body, rule.unit)
        limit = rule.max if rule.max is not None else rule.min
        measured = Text("channel.measured", {"length": _format_number(length), "limit": limit, "unit": unit})
        if rule.max is not None and length > rule.max:
            over = length - rule.max
            problem = Text("channel.over_hard" if rule.hard else "channel.over_soft",
                           {"length": _format_number(length), "unit": unit, "over": _format_number(over),
                            "limit": rule.max})
            problems.append(_problem(
                Text("channel.note", {"problem": problem, "note": rule.note}) if rule.note else problem,
                penalty=1.0 if hard else min(0.6, 0.25 + over / max(1, rule.max)),
                hard=hard, start=_cut_point(body, rule.max, rule.unit) + (len(text) - len(text.lstrip())),
                end=len(text.rstrip()),
            ))
        if rule.min is not None and length < rule.min:
            problems.append(_problem(
                Text("channel.under", {"length": _format_number(length), "unit": unit, "limit": rule.min}),
                penalty=0.25))
    if rule.single_line and "\n" in body:
        problems.append(_problem(Text("channel.single_line"), penalty=0.25,
                                 start=body.index("\n") + (len(text) - len(text.lstrip())), end=len(text)))
    if rule.min_items is not None or rule.max_items is not None or rule.item_max is not None:
        items = bullet_items(text)
        count = len(items)
        if rule.max_items is not None and count > rule.max_items:
            problems.append(_problem(Text("channel.too_many_bullets", {"count": count, "limit": rule.max_items}),
                                     penalty=0.25, start=items[rule.max_items][0], end=items[-1][1]))
        if rule.min_items is not None and count < rule.min_items:
            key = "channel.too_few_bullets_one" if count == 1 else "channel.too_few_bullets"
            problems.append(_problem(Text(key, {"count": count, "limit": rule.min_items}), penalty=0.25))
        if rule.item_max is not None:
            long_items = [(s, e, t) for s, e, t in items if measure(t, rule.unit) > rule.item_max]
            for start, end, item in long_items[:3]:
                problems.append(_problem(
                    Text("channel.long_bullet", {"length": _format_number(measure(item, rule.unit)), "unit": unit,
                                                 "limit": rule.item_max}),
                    penalty=0.1, start=start, end=end))
    if rule.forbidden_chars:
        bad = [(i, c) for i, c in enumerate(text) if c in rule.forbidden_chars]
        for index, char in bad[:3]:
            problems.append(_problem(Text("channel.forbidden_char", {"char": char}), penalty=0.15,
                                     start=index, end=index + 1))
    if rule.no_emoji:
        for match in list(_EMOJI.finditer(text))[:3]:
            problems.append(_problem(Text("channel.no_emoji"), penalty=0.15, start=match.start(), end=match.end()))
    value = 0.0 if any(p.hard for p in problems) else max(0.0, 1.0 - sum(p.penalty for p in problems))
    return ChannelCheck(channel=channel, label=label, value=round(value, 4), problems=tuple(problems),
                        measured=measured.render() if measured is not None else "", measured_text=measured)


def _cut_point(text: str, limit: int, unit: str) -> int:
    """Index of the first character past ``limit`` (for highlighting what is over)."""
    if unit == "words":
        matches = list(re.finditer(r"\S+", text))
        return matches[limit].start() if limit < len(matches) else len(text)
    total = 0.0
    for index, char in enumerate(text):
        total += (1.0 if _is_wide(char) else 0.5) if unit == "cjk2" else 1.0
        if total > limit + 1e-9:
            return index
    return len(text)


def known_channels() -> list[str]:
    return sorted(load_channels().channels)


def style_channel_problems(channels: Any, rules: Any) -> list[str]:
    """Problems of a brand style's ``channels`` list and ``channel_rules`` overrides."""
    found = []
    book = load_channels()
    if isinstance(channels, str) or not isinstance(channels, (list, tuple)):
        return ["channels must be a list such as [\"taobao\", \"jd\"]"]
    for name in channels:
        if name not in book.channels:
            found.append(f"channels: unknown channel '{name}' (channels: {', '.join(sorted(book.channels))})")
    if not isinstance(rules, Mapping):
        return found + ["channel_rules must be a table: [channel_rules.taobao.title] max = 28"]
    for name, per_kind in rules.items():
        if name not in book.channels:
            found.append(f"channel_rules: unknown channel '{name}'")
            continue
        if not isinstance(per_kind, Mapping):
            found.append(f"channel_rules.{name} must be a table of kind = {{ field = value }}")
            continue
        for kind, values in per_kind.items():
            found.extend(rule_problems(values, f"channel_rules.{name}.{kind}"))
    return found


__all__ = [
    "Channel", "ChannelBook", "ChannelCheck", "ChannelError", "ChannelProblem", "ChannelRule", "bullet_items",
    "check_copy", "known_channels", "load_channels", "measure", "rule_problems", "style_channel_problems",
]
