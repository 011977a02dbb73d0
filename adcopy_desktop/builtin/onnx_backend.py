"""The default generation backend: models from the model store, run by ONNX Runtime."""

from __future__ import annotations

from typing import Any, Callable

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.plugins import Backend, BackendContext, hookimpl

NAME = "onnx"


class OnnxBackend:
    """Chat messages -> the model's chat template -> token ids -> ``OnnxCausalLM.generate``."""

    def __init__(self, model: Any) -> None:
        self.model = model  # adcopy_desktop.core.runtime.OnnxCausalLM
        self.provider: str = model.provider
        self.special_tokens: tuple[str, ...] = tuple(model.tokenizer.special_token_strings)

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        tokenizer = self.model.tokenizer
        return tokenizer.encode(tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def generate(self, messages, settings, *, cancel=None, on_token: Callable[[Any], None] | None = None):
        return self.model.generate(self.prompt_ids(messages), settings, cancel=cancel, on_token=on_token)


def load(context: BackendContext) -> OnnxBackend:
    from adcopy_desktop.core.runtime import OnnxCausalLM

    if context.model is None:
        raise ModelError("The ONNX backend needs a model from the model store; see: adcopy models list")
    return OnnxBackend(
        OnnxCausalLM.load(context.model.runtime_folder, provider=context.provider, threads=context.threads,
                          adapter=context.model.adapter_folder)
    )


@hookimpl
def register_backends(register):
    register(Backend(
        name=NAME,
        label="ONNX Runtime",
        description="Runs the active model (or --model ID) from the model store with ONNX Runtime.",
        load=load,
    ))
