"""Local inference: ONNX Runtime + tokenizers + numpy, never torch or transformers."""

from adcopy_desktop.core.runtime.decoder import NO_TOKEN, Completion, OnnxCausalLM, TokenEvent
from adcopy_desktop.core.runtime.providers import select_providers
from adcopy_desktop.core.runtime.sampling import TokenSampler, apply_repetition_penalty, sample_tokens
from adcopy_desktop.core.runtime.tokenizer import ChatTokenizer, StreamDecoder

__all__ = [
    "NO_TOKEN",
    "ChatTokenizer",
    "Completion",
    "OnnxCausalLM",
    "StreamDecoder",
    "TokenEvent",
    "TokenSampler",
    "apply_repetition_penalty",
    "sample_tokens",
    "select_providers",
]
