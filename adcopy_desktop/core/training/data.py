"""Training data: accepted copy (with the user's edits) as supervised examples, rejected candidates
of the same request as preference pairs, and dataset files (AdvertiseGen or prompt/completion).

Every example carries the chat messages the model saw at generation time, rebuilt from the stored
product and request through ``CopyGenerator.prompt_messages`` (templates, brand style, the
``adjust_prompt`` plugins), so the model learns to answer exactly the prompts it will be given.

The held-out split hashes a stable key (the library's product id, a file line's product text), so
an example stays on its side as data grows and every copy of one product lands on the same side:
the gate never scores a product the model trained on.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.evaluation import DatasetError, read_dataset
from adcopy_desktop.core.prompts import CopyRequest, resolve_language

log = logging.getLogger("adcopy.training")

HOLDOUT_SALT = "adcopy-holdout-v1"
DEFAULT_FILE_KIND = "description"  # AdvertiseGen summaries are product descriptions

Messages = list[dict[str, str]]
# (request, style, *, worked_example) -> messages; worked_example None: as the builder's model uses it
PromptBuilder = Callable[..., Messages]


@dataclass
class Example:
    key: str  # what the held-out split hashes
    messages: Messages  # the prompt as the trained version will see it (no worked example)
    completion: str
    kind: str
    language: str
    style: str | None = None
    origin: str = ""  # "candidate 12" / "line 7"
    product: dict[str, Any] | None = None  # Product.to_dict(): the gate checks faithfulness against it
    # the prompt as the model being trained from sees it, when that differs (a base model is shown
    # a worked example): the gate runs the old model on the prompt it is really used with
    parent_messages: Messages | None = None


@dataclass
class PreferencePair:
    key: str
    messages: Messages
    chosen: str
    rejected: str
    kind: str
    language: str
    style: str | None = None
    origin: str = ""


@dataclass
class TrainingData:
    train: list[Example] = field(default_factory=list)
    heldout: list[Example] = field(default_factory=list)
    pairs: list[PreferencePair] = field(default_factory=list)
    heldout_pairs: list[PreferencePair] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def examples(self) -> int:
        return len(self.train) + len(self.heldout)

    def counts(self) -> dict[str, int]:
        return {"train": len(self.train), "held_out": len(self.heldout), "pairs": len(self.pairs),
                "held_out_pairs": len(self.heldout_pairs)}

    def for_child(self) -> dict[str, Any]:
        """What the training child reads (JSON): no library objects, only messages and text."""
        return {key: [asdict(item) for item in getattr(self, key)]
                for key in ("train", "heldout", "pairs", "heldout_pairs")}


class NotEnoughDataError(AdCopyError):
    """Too little accepted copy to train and still hold some out for the gate."""


# -- the held-out split ------------------------------------------------------------------------------


def holdout_bucket(key: str) -> float:
    """A number in [0, 1) fixed by the key alone."""
    digest = hashlib.sha256(f"{HOLDOUT_SALT}:{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(key: str, share: float) -> bool:
    return holdout_bucket(key) < share


def split_items(items: Sequence[Any], share: float) -> tuple[list[Any], list[Any]]:
    """(train, held out) by each item's ``key``. With data but nothing under the share, the key with
    the lowest bucket is held out (the gate needs something to compare on) unless that would leave
    nothing to train on."""
    train = [item for item in items if not is_held_out(item.key, share)]
    heldout = [item for item in items if is_held_out(item.key, share)]
    if not heldout and len({item.key for item in items}) >= 2:
        lowest = min((item.key for item in items), key=holdout_bucket)
        heldout = [item for item in items if item.key == lowest]
        train = [item for item in items if item.key != lowest]
    return train, heldout


# -- prompts -------------------------------------------------------------------------------------------


def default_prompt_builder(plugins: Any = None, special_tokens: Sequence[str] = ()) -> PromptBuilder:
    """Messages as ``CopyGenerator`` builds them (no model is loaded for this)."""
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.model_store import ModelStore

    generator = CopyGenerator(ModelStore(), plugins=plugins)
    return generator_prompt_builder(generator, special_tokens)


def generator_prompt_builder(generator: Any, special_tokens: Sequence[str] = ()) -> PromptBuilder:
    def build(request: CopyRequest, style: str | None, *, worked_example: bool | None = None) -> Messages:
        request_, brand = generator.styled_request(request, style)
        if special_tokens and getattr(generator, "_backend", None) is None:
            special = tuple(special_tokens)
        else:
            special = generator._backend.special_tokens if getattr(generator, "_backend", None) is not None else ()
        return generator._messages(request_, brand, resolve_language(request_), special,
                                   worked_example=worked_example)

    return build


def trained_and_parent_prompts(build: PromptBuilder, request: CopyRequest, style: str | None
                               ) -> tuple[Messages, Messages | None]:
    """The prompt a trained version sees (no worked example) and, when different, the prompt of
    the model it is trained from."""
    trained = build(request, style, worked_example=False)
    parent = build(request, style)
    return trained, (parent if parent != trained else None)


# -- from the library ----------------------------------------------------------------------------------


def library_data(
    library: Any,
    *,
    style: str | None = None,
    holdout_share: float = 0.2,
    prompt_builder: PromptBuilder | None = None,
) -> TrainingData:
    """Accepted copy (the user's edit is the target) and accepted-vs-rejected pairs of the same
    request; ``style`` keeps only that brand style's copy."""
    build = prompt_builder or default_prompt_builder()
    data = TrainingData(source="library" + (f" (style {style})" if style else ""))
    accepted = library.accepted_copy(style=style) if style else library.accepted_copy()
    rejected = library.candidates(decision="rejected", style=style) if style else library.candidates(decision="rejected")
    # copy accepted automatically (batch --accept-top) is the model's own output: no lesson in it
    accepted = [c for c in accepted if c.decided_by_person]
    rejected = [c for c in rejected if c.decided_by_person]
    messages_of: dict[int, tuple[Messages, Messages | None] | None] = {}
    products: dict[int, dict[str, Any]] = {}

    def messages_for(candidate) -> tuple[Messages, Messages | None] | None:
        if candidate.generation_id not in messages_of:
            messages_of[candidate.generation_id] = _rebuild_messages(library, candidate, build, data.warnings, products)
        return messages_of[candidate.generation_id]

    examples: list[Example] = []
    seen: set[tuple[str, str]] = set()
    chosen_by_generation: dict[int, list[Example]] = {}
    for candidate in sorted(accepted, key=lambda c: c.id):
        text = candidate.text.strip()
        prompts = messages_for(candidate)
        if not text or prompts is None:
            continue
        messages, parent_messages = prompts
        example = Example(
            key=f"product:{candidate.product_id}", messages=messages, completion=text, kind=candidate.kind,
            language=candidate.language, style=candidate.style, origin=f"candidate {candidate.id}",
            product=products.get(candidate.generation_id), parent_messages=parent_messages,
        )
        chosen_by_generation.setdefault(candidate.generation_id, []).append(example)
        signature = (json.dumps(messages, ensure_ascii=False), text)
        if signature not in seen:
            seen.add(signature)
            examples.append(example)
    pairs: list[PreferencePair] = []
    for candidate in sorted(rejected, key=lambda c: c.id):
        for chosen in chosen_by_generation.get(candidate.generation_id, []):
            bad = candidate.text.strip()
            if not bad or bad == chosen.completion:
                continue
            pairs.append(PreferencePair(
                key=chosen.key, messages=chosen.messages, chosen=chosen.completion, rejected=bad,
                kind=chosen.kind, language=chosen.language, style=chosen.style,
                origin=f"{chosen.origin} over candidate {candidate.id}",
            ))
    data.train, data.heldout = split_items(examples, holdout_share)
    heldout_keys = {example.key for example in data.heldout}
    data.pairs = [pair for pair in pairs if pair.key not in heldout_keys]
    data.heldout_pairs = [pair for pair in pairs if pair.key in heldout_keys]
    return data


def _rebuild_messages(library: Any, candidate: Any, build: PromptBuilder, warnings: list[str],
                      products: dict[int, dict[str, Any]]) -> tuple[Messages, Messages | None] | None:
    try:
        product, stored = library.generation_request(candidate.generation_id)
        products[candidate.generation_id] = product.to_dict()
        request = CopyRequest(
            product=product, kind=candidate.kind, language=candidate.language,
            length=stored.get("length"), tone=stored.get("tone"),
        )
    except (AdCopyError, ValueError, TypeError) as exc:
        warnings.append(f"candidate {candidate.id}: skipped, its request cannot be rebuilt ({exc})")
        return None
    try:
        return trained_and_parent_prompts(build, request, candidate.style)
    except AdCopyError as exc:  # e.g. the style's plugin is gone: train on the plain prompt
        if candidate.style is None:
            warnings.append(f"candidate {candidate.id}: skipped ({exc})")
            return None
        warnings.append(f"candidate {candidate.id}: style '{candidate.style}' is not available ({exc}); "
                        "used the prompt without it")
        return trained_and_parent_prompts(build, request, None)


# -- from a dataset file ---------------------------------------------------------------------------------


def file_data(
    path: Path,
    *,
    holdout_share: float = 0.2,
    kind: str = DEFAULT_FILE_KIND,
    style: str | None = None,
    prompt_builder: PromptBuilder | None = None,
) -> TrainingData:
    """A back catalogue in the AdvertiseGen or prompt/completion layout (``core/evaluation.py``
    reads it and names malformed lines by number). Each line's first reference is the target."""
    build = prompt_builder or default_prompt_builder()
    data = TrainingData(source=str(Path(path).name))
    examples: list[Example] = []
    problems: list[str] = []
    for item in read_dataset(Path(path)):
        try:
            request = CopyRequest(product=item.product, kind=item.kind or kind, language=item.language)
            language = resolve_language(request)
            request.language = language
            messages, parent_messages = trained_and_parent_prompts(build, request, style)
        except (AdCopyError, ValueError) as exc:
            problems.append(f"line {item.line}: {exc}")
            continue
        examples.append(Example(
            key=f"text:{_normalised(item.source)}", messages=messages, completion=item.references[0],
            kind=request.kind.value, language=language, style=style, origin=f"line {item.line}",
            product=item.product.to_dict(), parent_messages=parent_messages,
        ))
    if problems:
        shown = "\n  ".join(problems[:10])
        raise DatasetError(f"{Path(path).name} has {len(problems)} line(s) that cannot be used:\n  {shown}")
    data.train, data.heldout = split_items(examples, holdout_share)
    return data


def _normalised(text: str) -> str:
    return " ".join(text.split())


def require_enough(data: TrainingData, *, minimum_train: int = 2) -> None:
    if len(data.train) < minimum_train or not data.heldout:
        raise NotEnoughDataError(
            f"Not enough copy to train on: {len(data.train)} example(s) to train and {len(data.heldout)} "
            f"held out from {data.source or 'the data'}. Accept (and edit) more candidates, or give a "
            "dataset file with --data, then train again."
        )
