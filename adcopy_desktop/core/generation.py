"""Turning a copy request into candidates: style, prompt, plugins, backend, clean-up, rules.

``CopyGenerator`` keeps one loaded backend (by default the built-in ONNX one over the model store)
so the GUI and the CLI pay the load once; it is the only place that joins prompts, brand styles,
plugins, the model store and the runtime.

With a brand style: the style's voice, examples and length rule shape the request; the
``adjust_prompt`` plugins see the messages; every candidate goes through the ``process_candidate``
plugins; a candidate with a forbidden word is regenerated (a fresh batch of the offending ones, with
the seed moved on) up to the style's ``max_regenerations`` times, and flagged if the word stays.
Regenerated candidates are not streamed through ``on_token``; their final text is in the result.

Without a fixed ``model_id`` the generator follows the model store's pointer: before each
generation it asks for the active model of the request's style (a style with its own trained
version uses it, the others the global one; one stat of the pointer file when nothing changed) and
loads the new model when it differs. A generation already running finishes on the model it started
with, so training can swap in a new version while the app keeps writing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from adcopy_desktop.core.activity import generating
from adcopy_desktop.core.candidates import Candidate, GenerationSettings, Timings
from adcopy_desktop.core.errors import AdCopyError, UnsupportedLanguageError
from adcopy_desktop.core.faithfulness import EXPECTED_COVERAGE, check_faithfulness
from adcopy_desktop.core.languages import language_name
from adcopy_desktop.core.model_store import ModelInfo, ModelStore
from adcopy_desktop.core.plugins import BackendContext, BrandStyle, PluginManager, get_plugin_manager
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.prompts import (
    CopyKind,
    CopyRequest,
    build_messages,
    load_template,
    max_new_tokens_for,
    resolve_language,
    with_reminder,
)

log = logging.getLogger("adcopy.generation")

TokenCallback = Callable[[int, str], None]  # (candidate index, new text)

DEFAULT_BACKEND = "onnx"
REGENERATION_SEED_STEP = 1_000_003  # seed offset per regeneration round (a prime, far from user seeds)
# Claims that state a fact about the product (not superlatives, which the scorers weigh instead).
FACT_CLAIM_KINDS = frozenset({"colour", "material", "number", "certification"})
DEFAULT_FACT_RETRIES = 1
# Attribute keys whose value a description should name (colour and material).
KEY_FACT_NAMES = frozenset({"颜色", "颜色分类", "色系", "材质", "面料", "color", "colour", "material", "fabric"})

SINGLE_LINE_KINDS = {CopyKind.TITLE, CopyKind.SLOGAN}
_WRAPPING_QUOTES = re.compile(r'^\s*["“”「『\'](.*?)["“”」』\']\s*$', re.S)
_LABEL_PREFIX = re.compile(
    r"^\s*(title|slogan|description|tagline|标题|口号|广告语|文案|描述)\s*[:：]\s*", re.I
)


def clean_candidate_text(kind: CopyKind, text: str) -> str:
    """Remove what small models wrap around copy: labels, quotes, trailing blank lines."""
    text = text.strip()
    text = _LABEL_PREFIX.sub("", text, count=1)
    if kind in SINGLE_LINE_KINDS:
        text = text.splitlines()[0].strip() if text else text
        match = _WRAPPING_QUOTES.match(text)
        if match:
            text = match.group(1).strip()
    return text


def _text_attribute(completion: Any, name: str) -> str | None:
    value = getattr(completion, name, None)
    return value if isinstance(value, str) and value else None


class CopyGenerator:
    def __init__(
        self,
        store: ModelStore | None = None,
        *,
        model_id: str | None = None,
        provider: str = "auto",
        threads: int | None = None,
        backend: str | None = None,
        plugins: PluginManager | None = None,
        backend_options: Mapping[str, Any] | None = None,
    ):
        self.store = store or ModelStore()
        self._model_id = model_id
        self._provider = provider
        self._threads = threads
        self._backend_name = backend or DEFAULT_BACKEND
        self._backend_options = dict(backend_options or {})  # the backend's settings (e.g. which server)
        self._plugins = plugins
        self._backend = None
        self._info: ModelInfo | None = None
        self._load_lock = threading.RLock()  # one thread loads or swaps the backend at a time

    @property
    def plugins(self) -> PluginManager:
        if self._plugins is None:
            self._plugins = get_plugin_manager()
        return self._plugins

    @property
    def backend_name(self) -> str:
        return self._backend_name

    @property
    def uses_model_store(self) -> bool:
        return self.plugins.backend(self._backend_name).uses_model_store

    @property
    def info(self) -> ModelInfo:
        with self._load_lock:
            if self._info is None:
                model_id = self._model_id or self.store.active_model().id
                self._info = self.store.verified(model_id)
            return self._info

    @property
    def backend(self):
        """The loaded generation backend (``GenerationBackend``), loaded on first use."""
        with self._load_lock:
            if self._backend is None:
                model = self.info if self.uses_model_store else None
                started = time.perf_counter()
                self._backend = self.plugins.load_backend(
                    self._backend_name,
                    BackendContext(model=model, provider=self._provider, threads=self._threads,
                                   options=self._backend_options),
                )
                log.info(
                    "loaded %s with the %s backend on %s in %.2f s",
                    self.model_id, self._backend_name, self._backend.provider, time.perf_counter() - started,
                )
            return self._backend

    def wanted_model_id(self, style: str | None = None) -> str | None:
        """The model a generation with ``style`` should use now (None: the backend needs none)."""
        if not self.uses_model_store:
            return None
        if self._model_id is not None:
            return self._model_id
        return self.store.active_id(style) or self.store.active_model().id

    def follow_active_model(self, style: str | None = None) -> tuple[Any, ModelInfo | None]:
        """The backend and model for a generation with ``style``, after loading another model if
        the pointer moved (a trained version swapped in, a rollback, a style's own version). The
        previous backend stays valid for whoever still holds it."""
        wanted = self.wanted_model_id(style)
        with self._load_lock:
            if wanted is not None and (self._info is None or self._info.id != wanted):
                if self._info is not None:
                    log.info("the active model changed from %s to %s; loading it", self._info.id, wanted)
                info = self.store.verified(wanted)
                self._backend, self._info = None, info
            return self.backend, (self.info if self.uses_model_store else None)

    @property
    def model(self):
        """The runtime model under the backend (``OnnxCausalLM`` for the built-in ONNX backend)."""
        backend = self.backend
        return getattr(backend, "model", backend)

    @property
    def provider(self) -> str:
        return self.backend.provider

    @property
    def model_id(self) -> str:
        """The model's id, or the backend's name for a backend that does not use the model store."""
        return self.info.id if self.uses_model_store else self._backend_name

    def check_language(self, language: str, info: ModelInfo | None = None) -> None:
        if not self.uses_model_store:
            languages = self.plugins.backend(self._backend_name).languages
            if language not in languages:
                can_write = ", ".join(language_name(code) for code in languages)
                raise UnsupportedLanguageError(
                    f"The backend '{self._backend_name}' writes {can_write} only, so it cannot write "
                    f"{language_name(language)} copy."
                )
            return
        info = info or self.info
        if language in info.languages:
            return
        can_write = ", ".join(language_name(code) for code in info.languages) or "no known language"
        raise UnsupportedLanguageError(
            f"The model '{info.name}' ({info.id}) writes {can_write} only, so it cannot write "
            f"{language_name(language)} copy. Switch to the default Chinese + English model "
            "(adcopy models build --activate, or adcopy models use qwen2.5-coder-0.5b-instruct), or "
            "import one that can: adcopy models import PATH --activate; then generate again."
        )

    # -- styles and prompts ---------------------------------------------------------------------

    def resolve_style(self, style: str | BrandStyle | None) -> BrandStyle | None:
        """A style by name (from the plugins; StyleError lists the available ones), or as given."""
        if style is None or isinstance(style, BrandStyle):
            return style.validate() if style is not None else None
        return self.plugins.style(style)

    def styled_request(self, request: CopyRequest, style: str | BrandStyle | None) -> tuple[CopyRequest, BrandStyle | None]:
        """The request with the style applied (voice, examples, length rule), and the style."""
        brand = self.resolve_style(style)
        return (brand.apply(request) if brand is not None else request), brand

    def prompt_messages(self, request: CopyRequest, style: str | BrandStyle | None = None) -> list[dict[str, str]]:
        """The chat messages the model will see: templates, style, then the ``adjust_prompt`` plugins."""
        request, brand = self.styled_request(request, style)
        special = self._backend.special_tokens if self._backend is not None else ()
        return self._messages(request, brand, resolve_language(request), special)

    def worked_example_for(self, info: ModelInfo | None = None) -> bool:
        """Whether prompts show the template's worked example: yes for a base model, no for a
        version fine-tuned on accepted copy (it learnt the form; see ``build_messages``)."""
        if not self.uses_model_store:
            return True
        info = info or self._info
        if info is None:
            try:
                info = self.info
            except AdCopyError:  # no model yet: prompts as for the default base model
                return True
        return not info.fine_tuned

    def _messages(
        self, request: CopyRequest, brand: BrandStyle | None, language: str, special_tokens,
        *, worked_example: bool | None = None, info: ModelInfo | None = None,
    ) -> list[dict[str, str]]:
        if worked_example is None:
            worked_example = self.worked_example_for(info)
        messages = build_messages(request, special_tokens, worked_example=worked_example)
        return self.plugins.adjust_prompt(messages, request=request, style=brand, language=language)

    def render_prompt(self, request: CopyRequest, style: str | BrandStyle | None = None) -> str:
        """The final messages as a person reads them (``--show-prompt``)."""
        request, brand = self.styled_request(request, style)
        language = resolve_language(request)
        special = self._backend.special_tokens if self._backend is not None else ()
        length = request.length or load_template(request.kind).default_length
        header = (
            f"# kind: {request.kind.value} | language: {language} | length: {length} | "
            f"max_new_tokens: {max_new_tokens_for(request)}"
        )
        if brand is not None:
            header += f" | style: {brand.name}"
        parts = [header]
        for message in self._messages(request, brand, language, special):
            parts.append(f"=== {message['role']} ===\n{message['content']}")
        return "\n\n".join(parts) + "\n"

    def prompt_ids(self, request: CopyRequest, style: str | BrandStyle | None = None) -> list[int]:
        """Token ids of the prompt (backends that tokenise, such as the built-in ONNX one)."""
        backend = self.backend
        return backend.prompt_ids(self.prompt_messages(request, style))

    # -- generation -----------------------------------------------------------------------------

    def generate(
        self,
        request: CopyRequest,
        settings: GenerationSettings,
        *,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        max_new_tokens_from_request: bool = False,
        style: str | BrandStyle | None = None,
        score: bool = True,
        rank: bool = False,
        top: int | None = None,
        score_options: Mapping[str, Mapping[str, Any]] | None = None,
        weights: Mapping[str, float] | None = None,
        fact_retries: int = DEFAULT_FACT_RETRIES,
    ) -> list[Candidate]:
        """Generate ``settings.n`` candidates; ``on_token`` receives text as it is produced.

        ``fact_retries``: a sampled candidate that states a colour, material, number or
        certification the product does not have is written again up to this many times, and the
        version with the fewest such claims is kept (0: never).

        ``style`` is a style name (see ``adcopy styles list``) or a ``BrandStyle``; the candidates
        record it, and carry ``flags`` for the style's rules they break.

        ``score``: every active scorer rates each candidate (``Candidate.scores``; ``score_options``
        are per-scorer settings such as ``{"channel-rules": {"channel": "jd"}}``). ``rank``: return
        them best first (``Candidate.ranking``; ``weights`` override the style's and the defaults),
        and with ``top`` only the best ``top`` (best-of-N). See ``core/scoring.py``."""
        with generating():  # background training waits meanwhile (core/activity.py)
            return self._generate(request, settings, on_token=on_token, cancel=cancel,
                                  max_new_tokens_from_request=max_new_tokens_from_request, style=style, score=score,
                                  rank=rank, top=top, score_options=score_options, weights=weights,
                                  fact_retries=fact_retries)

    def _generate(self, request, settings, *, on_token, cancel, max_new_tokens_from_request, style, score, rank,
                  top, score_options, weights, fact_retries) -> list[Candidate]:
        request, brand = self.styled_request(request, style)
        language = resolve_language(request)
        backend, info = self.follow_active_model(brand.name if brand is not None else None)
        self.check_language(language, info)
        if max_new_tokens_from_request:
            settings = replace(settings, max_new_tokens=max_new_tokens_for(request))
        model_id = info.id if info is not None else self._backend_name
        loaded = (backend, model_id)  # this generation's model, even if another is swapped in meanwhile
        messages = self._messages(request, brand, language, backend.special_tokens, info=info)
        relay = (lambda event: on_token(event.index, event.text)) if on_token else None
        candidates = self._run(messages, settings, request, language, brand, cancel=cancel, relay=relay,
                               loaded=loaded)
        if brand is not None:
            candidates = self._enforce(brand, candidates, messages, settings, request, language, cancel, loaded)
        if fact_retries:
            candidates = self._guard_facts(candidates, messages, settings, request, language, brand, cancel,
                                           loaded, fact_retries)
        if score or rank or top is not None:
            from adcopy_desktop.core import scoring

            scoring.attach_scores(candidates, plugins=self.plugins, request=request, style=brand,
                                  options=score_options, weights=weights)
            if rank or top is not None:
                candidates = scoring.rank(candidates, style=brand, weights=weights)
                if top is not None:
                    candidates = candidates[:top]
        return candidates

    def _run(
        self,
        messages: list[dict[str, str]],
        settings: GenerationSettings,
        request: CopyRequest,
        language: str,
        brand: BrandStyle | None,
        *,
        cancel: CancelToken | None,
        relay=None,
        indices: list[int] | None = None,
        loaded: tuple[Any, str] | None = None,
    ) -> list[Candidate]:
        backend, model_id = loaded if loaded is not None else (self.backend, self.model_id)
        started = time.perf_counter()
        completions = self.plugins.run_backend(
            self._backend_name, backend, messages, settings, cancel=cancel, on_token=relay
        )
        total = time.perf_counter() - started
        candidates = []
        for position, completion in enumerate(completions):
            candidate = Candidate(
                text=clean_candidate_text(request.kind, completion.text),
                kind=request.kind.value,
                # a remote backend names the server and model that wrote it ("gpu-box/qwen2.5-7b")
                model=_text_attribute(completion, "model") or model_id,
                language=language,
                index=completion.index if indices is None else indices[position],
                finish_reason=completion.finish_reason,
                settings=settings,
                timings=Timings(
                    prompt_tokens=int(getattr(completion, "prompt_tokens", 0) or 0),
                    new_tokens=len(getattr(completion, "token_ids", None) or ()),
                    first_token_s=round(float(getattr(completion, "first_token_s", 0.0) or 0.0), 4),
                    total_s=round(float(getattr(completion, "elapsed_s", 0.0) or total), 4),
                ),
                style=brand.name if brand is not None else None,
                provider=_text_attribute(completion, "provider") or backend.provider,
            )
            candidates.append(self.plugins.process_candidate(candidate, request=request, style=brand))
        return candidates

    def _guard_facts(
        self,
        candidates: list[Candidate],
        messages: list[dict[str, str]],
        settings: GenerationSettings,
        request: CopyRequest,
        language: str,
        brand: BrandStyle | None,
        cancel: CancelToken | None,
        loaded: tuple[Any, str] | None,
        retries: int,
    ) -> list[Candidate]:
        """Write candidates with invented facts, or a description that leaves out the product's
        colour or material or too many of its other values, again (a small model invents or drops
        them now and then; a second draw rarely repeats the slip) and keep the better version. The
        second draw is reminded of the values the first ones left out."""
        if settings.temperature <= 0:  # greedy decoding would give the same text again
            return candidates
        attributes = request.product.attributes
        covers_facts = request.kind.value in ("description", "selling_points")
        expected = EXPECTED_COVERAGE.get(request.kind.value, 0.8)

        def slips(candidate: Candidate) -> tuple[int, list[str]]:
            """How badly a candidate slipped, and the product values it left out. Invented facts
            weigh most, a left-out colour or material next (a buyer looks for both first), then
            other left-out values while fewer than the kind's expected share are there."""
            if candidate.finish_reason == "cancelled" or not candidate.text.strip():
                return 0, []
            report = check_faithfulness(candidate.text, language, attributes)
            made_up = sum(1 for claim in report.unsupported if claim.kind in FACT_CLAIM_KINDS)
            if not covers_facts:
                return made_up * 10, []
            missing = [r for r in report.reflections if r.status == "missing"]
            key_missing = sum(1 for r in missing if r.key.strip().casefold() in KEY_FACT_NAMES)
            thin = report.coverage is not None and report.coverage < expected
            weight = made_up * 10 + key_missing * 3 + (len(missing) - key_missing if thin else 0)
            return weight, [r.value for r in missing]

        assessed = [slips(candidate) for candidate in candidates]
        counts = [count for count, _ in assessed]
        pending = [slot for slot, count in enumerate(counts) if count]
        for round_number in range(1, retries + 1):
            if not pending or (cancel is not None and cancel.cancelled):
                break
            retry = replace(
                settings, n=len(pending),
                seed=None if settings.seed is None else settings.seed + (round_number + 50) * REGENERATION_SEED_STEP,
            )
            left_out = list(dict.fromkeys(value for slot in pending for value in assessed[slot][1]))
            log.info("regenerating %d candidate(s) that state facts the product does not have or leave "
                     "out %d of its values (round %d)", len(pending), len(left_out), round_number)
            special = loaded[0].special_tokens if loaded is not None else ()
            fresh = self._run(with_reminder(messages, left_out, language, special), retry, request, language, brand,
                              cancel=cancel, indices=[candidates[slot].index for slot in pending], loaded=loaded)
            still = []
            for slot, candidate in zip(pending, fresh):
                if candidate.finish_reason == "cancelled":
                    continue
                assessment = slips(candidate)
                if assessment[0] < counts[slot]:
                    candidates[slot], counts[slot], assessed[slot] = candidate, assessment[0], assessment
                if counts[slot]:
                    still.append(slot)
            pending = still
        return candidates

    def _enforce(
        self,
        brand: BrandStyle,
        candidates: list[Candidate],
        messages: list[dict[str, str]],
        settings: GenerationSettings,
        request: CopyRequest,
        language: str,
        cancel: CancelToken | None,
        loaded: tuple[Any, str] | None = None,
    ) -> list[Candidate]:
        """Regenerate candidates with forbidden words, then flag every rule a candidate still breaks."""

        def offending(candidate: Candidate) -> bool:
            return candidate.finish_reason != "cancelled" and bool(brand.forbidden_hits(candidate.text, language))

        pending = [slot for slot, candidate in enumerate(candidates) if offending(candidate)]
        # Greedy decoding would give the same text again.
        rounds = brand.max_regenerations if settings.temperature > 0 else 0
        attempts = dict.fromkeys(pending, 0)
        for round_number in range(1, rounds + 1):
            if not pending or (cancel is not None and cancel.cancelled):
                break
            retry = replace(
                settings,
                n=len(pending),
                seed=None if settings.seed is None else settings.seed + round_number * REGENERATION_SEED_STEP,
            )
            log.info("style %s: regenerating %d candidate(s) with forbidden words (round %d)",
                     brand.name, len(pending), round_number)
            fresh = self._run(messages, retry, request, language, brand, cancel=cancel,
                              indices=[candidates[slot].index for slot in pending], loaded=loaded)
            still = []
            for slot, candidate in zip(pending, fresh):
                attempts[slot] += 1
                if candidate.finish_reason != "cancelled":
                    candidates[slot] = candidate
                if offending(candidates[slot]):
                    still.append(slot)
            pending = still
        for slot, candidate in enumerate(candidates):
            flags = brand.check(candidate.text, language, candidate.kind)
            for flag in flags:
                if flag["rule"] == "forbidden_word":
                    flag["regenerations"] = attempts.get(slot, 0)
            candidate.flags = [*candidate.flags, *flags]
        return candidates
