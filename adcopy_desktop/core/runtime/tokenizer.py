"""Tokenizer and chat template for a model folder, with no transformers at run time.

Mirrors what transformers does for ``apply_chat_template`` (sandboxed Jinja, trim/lstrip blocks,
``raise_exception``) so prompts match what the model was trained on.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer

from adcopy_desktop.core.errors import ModelError

REPLACEMENT_CHAR = "\ufffd"


def _token_text(value: Any) -> str | None:
    """tokenizer_config stores special tokens either as plain strings or as AddedToken dicts."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _as_id_list(value: Any) -> list[int]:
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, int)]
    return []


def read_json_config(path: Path) -> dict[str, Any]:
    """A model folder's JSON config, or {} when the optional file is absent."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {path}: {exc}. Rebuild or re-import the model.") from exc
    return data if isinstance(data, dict) else {}


class _GenerationBlock(Extension):
    """Accepts transformers' ``{% generation %}`` tag (used for training masks) as a no-op block."""

    tags = {"generation"}

    def parse(self, parser: Any) -> list[nodes.Node]:
        next(parser.stream)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(
    value: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
    sort_keys: bool = False,
) -> str:
    """Jinja's own tojson escapes HTML characters, which would change the prompt text."""
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


def _template_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationBlock, loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


class ChatTokenizer:
    """A model's tokenizer.json plus the special tokens and chat template its configs declare."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        *,
        chat_template: str | None = None,
        bos_token: str | None = None,
        eos_token: str | None = None,
        pad_token: str | None = None,
        unk_token: str | None = None,
        extra_special_tokens: list[str] | None = None,
        generation_eos_ids: list[int] | None = None,
        generation_pad_id: int | None = None,
        name: str = "model",
    ) -> None:
        self._tokenizer = tokenizer
        self.name = name
        self.chat_template = chat_template
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.pad_token = pad_token
        self.unk_token = unk_token
        self.bos_token_id = self._id_of(bos_token)
        self.eos_token_id = self._id_of(eos_token)

        self.eos_token_ids: set[int] = set(generation_eos_ids or [])
        if self.eos_token_id is not None:
            self.eos_token_ids.add(self.eos_token_id)

        pad_id = self._id_of(pad_token)
        if pad_id is None:
            pad_id = generation_pad_id
        if pad_id is None and self.eos_token_ids:
            pad_id = min(self.eos_token_ids)
        self.pad_token_id: int | None = pad_id

        declared = [bos_token, eos_token, pad_token, unk_token, *(extra_special_tokens or [])]
        added = [tok.content for tok in tokenizer.get_added_tokens_decoder().values() if tok.special]
        unique = dict.fromkeys(token for token in [*declared, *added] if token)
        self.special_token_strings: list[str] = sorted(unique, key=len, reverse=True)

        self._compiled_template: jinja2.Template | None = None

    @classmethod
    def from_folder(cls, path: str | Path) -> ChatTokenizer:
        folder = Path(path)
        tokenizer_file = folder / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelError(
                f"{tokenizer_file} is missing; the model folder is incomplete. "
                "Rebuild or re-import the model."
            )
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # tokenizers raises plain Exception for malformed files
            raise ModelError(
                f"Cannot read {tokenizer_file}: {exc}. Rebuild or re-import the model."
            ) from exc

        config = read_json_config(folder / "tokenizer_config.json")
        generation = read_json_config(folder / "generation_config.json")
        model_config = {} if generation else read_json_config(folder / "config.json")

        chat_template: Any = config.get("chat_template")
        template_file = folder / "chat_template.jinja"
        if template_file.is_file():
            chat_template = template_file.read_text(encoding="utf-8")
        if isinstance(chat_template, list):
            named = {
                item.get("name"): item.get("template") for item in chat_template if isinstance(item, dict)
            }
            chat_template = named.get("default") or next(iter(named.values()), None)

        extra = [
            text
            for text in map(_token_text, config.get("additional_special_tokens") or [])
            if text
        ]
        settings = generation or model_config
        pad_id = settings.get("pad_token_id")
        return cls(
            tokenizer,
            chat_template=chat_template if isinstance(chat_template, str) else None,
            bos_token=_token_text(config.get("bos_token")),
            eos_token=_token_text(config.get("eos_token")),
            pad_token=_token_text(config.get("pad_token")),
            unk_token=_token_text(config.get("unk_token")),
            extra_special_tokens=extra,
            generation_eos_ids=_as_id_list(settings.get("eos_token_id")),
            generation_pad_id=pad_id if isinstance(pad_id, int) else None,
            name=folder.name,
        )

    def _id_of(self, token: str | None) -> int | None:
        return None if token is None else self._tokenizer.token_to_id(token)

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    def apply_chat_template(
        self, messages: list[dict[str, Any]], add_generation_prompt: bool = True, **extra: Any
    ) -> str:
        """Render the conversation as the model expects it; the result is encoded with ``encode``."""
        if not self.chat_template:
            raise ModelError(
                f"The model '{self.name}' has no chat template, so it cannot be used as an assistant. "
                "Use an instruction-tuned (chat) model."
            )
        if self._compiled_template is None:
            try:
                self._compiled_template = _template_environment().from_string(self.chat_template)
            except jinja2.TemplateError as exc:
                raise ModelError(f"The chat template of '{self.name}' is broken: {exc}") from exc
        variables = {
            "bos_token": self.bos_token or "",
            "eos_token": self.eos_token or "",
            "pad_token": self.pad_token or "",
            "unk_token": self.unk_token or "",
            **extra,
        }
        try:
            return self._compiled_template.render(
                messages=messages, add_generation_prompt=add_generation_prompt, **variables
            )
        except jinja2.TemplateError as exc:
            raise ModelError(f"The chat template of '{self.name}' rejected the conversation: {exc}") from exc

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` as is: the chat template already wrote any BOS the model needs."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        bos = self.bos_token_id
        if bos is not None and len(ids) >= 2 and ids[0] == bos and ids[1] == bos:
            del ids[0]
        return ids

    def decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=True)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


class StreamDecoder:
    """Turns one sequence's token ids into text as they arrive.

    Decodes a small window of recent ids and emits only what grew, so spaces that depend on the
    neighbouring token survive; holds text back while it ends in a half multi-byte character.
    """

    def __init__(self, tokenizer: ChatTokenizer) -> None:
        self._decode = tokenizer.decode
        self.token_ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0

    def push(self, token_id: int) -> str:
        ids = self.token_ids
        ids.append(token_id)
        prefix_text = self._decode(ids[self._prefix_offset : self._read_offset])
        new_text = self._decode(ids[self._prefix_offset :])
        if len(new_text) > len(prefix_text) and not new_text.endswith(REPLACEMENT_CHAR):
            self._prefix_offset = self._read_offset
            self._read_offset = len(ids)
            return new_text[len(prefix_text) :]
        return ""

    def flush(self) -> str:
        """Whatever is still held back, even a broken character, once the sequence has ended."""
        ids = self.token_ids
        prefix_text = self._decode(ids[self._prefix_offset : self._read_offset])
        new_text = self._decode(ids[self._prefix_offset :])
        self._prefix_offset = self._read_offset = len(ids)
        return new_text[len(prefix_text) :]
