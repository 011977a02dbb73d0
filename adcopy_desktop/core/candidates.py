"""What one generation request asks for and what it returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings; the same settings and seed give the same candidates."""

    n: int = 3
    max_new_tokens: int = 128
    # Defaults tuned for the default model on AdvertiseGen's tuning lines (docs/benchmarks.md): a
    # repetition penalty also penalises the facts the copy should repeat from the prompt, so loops
    # are stopped with no_repeat_ngram instead.
    temperature: float = 0.7  # 0 means greedy
    top_p: float = 0.9
    top_k: int = 50  # 0 disables
    repetition_penalty: float = 1.0  # 1.0 disables
    # Never repeat an n-gram of this many tokens within a candidate's own text (0 disables): stops
    # the clause loops small models fall into without penalising the facts copied from the prompt.
    no_repeat_ngram: int = 4
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.n < 1:
            problems.append(f"n must be at least 1 (got {self.n})")
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens must be at least 1 (got {self.max_new_tokens})")
        if self.temperature < 0:
            problems.append(f"temperature must be 0 (greedy) or more (got {self.temperature})")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p must be in (0, 1] (got {self.top_p})")
        if self.top_k < 0:
            problems.append(f"top_k must be 0 (off) or more (got {self.top_k})")
        if self.no_repeat_ngram < 0 or self.no_repeat_ngram == 1:
            problems.append(f"no_repeat_ngram must be 0 (off) or at least 2 (got {self.no_repeat_ngram})")
        if self.repetition_penalty <= 0:
            problems.append(f"repetition_penalty must be above 0 (got {self.repetition_penalty})")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


@dataclass
class Timings:
    prompt_tokens: int = 0
    new_tokens: int = 0
    first_token_s: float = 0.0  # from request start to the first new token of this candidate
    total_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.total_s if self.total_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tokens_per_s"] = round(self.tokens_per_s, 2)
        return data


@dataclass
class Candidate:
    """One piece of generated copy with everything needed to reproduce and judge it."""

    text: str
    kind: str
    model: str
    language: str
    index: int = 0
    finish_reason: str = "eos"  # eos | stop | length | cancelled
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    timings: Timings = field(default_factory=Timings)
    style: str | None = None  # the brand style that produced it, if any
    provider: str = ""
    # Rule problems found in the text, e.g. a forbidden word with its span:
    # {"rule": "forbidden_word", "severity": "error", "word": "...", "start": 3, "end": 5,
    #  "style": "...", "message": "..."}; see core/styles.py.
    flags: list[dict[str, Any]] = field(default_factory=list)
    # One entry per scorer (core/scoring.py): {"scorer", "name", "value", "label", "explanation",
    # "spans": [{"start", "end", "message", "severity"}], "hard_fail", "abstained", "weight"}.
    scores: list[dict[str, Any]] = field(default_factory=list)
    # Set when candidates are ranked: {"rank": 1, "total": 0.83, "sunk": False, "reasons": [...]}.
    ranking: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "kind": self.kind,
            "model": self.model,
            "language": self.language,
            "index": self.index,
            "finish_reason": self.finish_reason,
            "style": self.style,
            "provider": self.provider,
            "settings": self.settings.to_dict(),
            "timings": self.timings.to_dict(),
            "flags": [dict(flag) for flag in self.flags],
            "scores": [dict(score) for score in self.scores],
            "ranking": dict(self.ranking) if self.ranking is not None else None,
        }
