"""Turning a copy request into candidates: prompt, runtime, timing, clean-up.

``CopyGenerator`` keeps one loaded model so the GUI and the CLI pay the load once; it is the only
place that joins prompts, the model store and the runtime.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from typing import Callable

from adcopy_desktop.core.candidates import Candidate, GenerationSettings, Timings
from adcopy_desktop.core.errors import UnsupportedLanguageError
from adcopy_desktop.core.languages import language_name
from adcopy_desktop.core.model_store import ModelInfo, ModelStore
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.core.prompts import (
    CopyKind,
    CopyRequest,
    build_messages,
    max_new_tokens_for,
    resolve_language,
)

log = logging.getLogger("adcopy.generation")

TokenCallback = Callable[[int, str], None]  # (candidate index, new text)

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


class CopyGenerator:
    def __init__(
        self,
        store: ModelStore | None = None,
        *,
        model_id: str | None = None,
        provider: str = "auto",
        threads: int | None = None,
    ):
        self.store = store or ModelStore()
        self._model_id = model_id
        self._provider = provider
        self._threads = threads
        self._model = None
        self._info: ModelInfo | None = None

    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            model_id = self._model_id or self.store.active_model().id
            self._info = self.store.verified(model_id)
        return self._info

    @property
    def model(self):
        if self._model is None:
            from adcopy_desktop.core.runtime import OnnxCausalLM

            started = time.perf_counter()
            self._model = OnnxCausalLM.load(
                self.info.runtime_folder, provider=self._provider, threads=self._threads
            )
            log.info(
                "loaded model %s on %s in %.2f s",
                self.info.id, self._model.provider, time.perf_counter() - started,
            )
        return self._model

    def check_language(self, language: str) -> None:
        info = self.info
        if language in info.languages:
            return
        can_write = ", ".join(language_name(code) for code in info.languages) or "no known language"
        raise UnsupportedLanguageError(
            f"The model '{info.name}' ({info.id}) writes {can_write} only, so it cannot write "
            f"{language_name(language)} copy. Import a model that can, for example a Qwen2.5 "
            "Instruct folder: adcopy models import PATH --activate (or pick one with adcopy models "
            "use ID), then generate again."
        )

    def prompt_ids(self, request: CopyRequest) -> list[int]:
        tokenizer = self.model.tokenizer
        messages = build_messages(request, tokenizer.special_token_strings)
        return tokenizer.encode(tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def generate(
        self,
        request: CopyRequest,
        settings: GenerationSettings,
        *,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        max_new_tokens_from_request: bool = False,
    ) -> list[Candidate]:
        """Generate ``settings.n`` candidates; ``on_token`` receives text as it is produced."""
        language = resolve_language(request)
        self.check_language(language)
        if max_new_tokens_from_request:
            settings = replace(settings, max_new_tokens=max_new_tokens_for(request))
        ids = self.prompt_ids(request)
        started = time.perf_counter()
        relay = (lambda event: on_token(event.index, event.text)) if on_token else None
        completions = self.model.generate(ids, settings, cancel=cancel, on_token=relay)
        total = time.perf_counter() - started
        candidates = []
        for completion in completions:
            candidates.append(
                Candidate(
                    text=clean_candidate_text(request.kind, completion.text),
                    kind=request.kind.value,
                    model=self.info.id,
                    language=language,
                    index=completion.index,
                    finish_reason=completion.finish_reason,
                    settings=settings,
                    timings=Timings(
                        prompt_tokens=len(ids),
                        new_tokens=len(completion.token_ids),
                        first_token_s=round(completion.first_token_s, 4),
                        total_s=round(completion.elapsed_s or total, 4),
                    ),
                    provider=self.model.provider,
                )
            )
        return candidates
