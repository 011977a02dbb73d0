"""Builds tiny random-weight causal LMs (real Hugging Face folders) for fast tests.

The tokenizer is a real byte-level BPE trained here on a few English and Chinese lines, with a
ChatML template like SmolLM2's, so every code path (chat template, special tokens, streaming
decode of multi-byte characters) runs for real in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CORPUS = [
    "A white denim jacket with a relaxed fit, made for everyday wear.",
    "Soft cotton t-shirt in navy blue, breathable and easy to care for.",
    "Waterproof hiking boots with a cushioned sole for long trails.",
    "Title: Classic leather wallet. Description: slim, durable, handmade.",
    "这款白色牛仔布上衣版型宽松，日常百搭，舒适透气。",
    "纯棉T恤，藏青色，柔软亲肤，易于打理。",
    "防水登山鞋，缓震鞋底，适合长途徒步。",
    "类型#上衣*材质#牛仔布*颜色#白色*风格#简约",
    "Selling points: lightweight, warm, machine washable. 卖点：轻便、保暖、可机洗。",
] * 20


def build_tokenizer(folder: Path, vocab_size: int = 600, corpus: list[str] | None = None) -> int:
    """Train and save a tiny byte-level BPE tokenizer; returns the vocabulary size. ``corpus`` adds
    text to learn merges from (long prompts then cost fewer tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS + list(corpus or []), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHATML_TEMPLATE
    fast.save_pretrained(folder)
    return tokenizer.get_vocab_size()


def build_tiny_model(
    folder: Path,
    *,
    architecture: str = "llama",
    hidden_size: int = 64,
    layers: int = 2,
    seed: int = 0,
    context_length: int = 4096,
    vocab_size: int = 600,
    corpus: list[str] | None = None,
) -> Path:
    """Write a tiny random-weight causal LM (safetensors) with its tokenizer into ``folder``."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig, Qwen2Config

    folder.mkdir(parents=True, exist_ok=True)
    vocab = build_tokenizer(folder, vocab_size, corpus)
    common = dict(
        vocab_size=vocab,
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=context_length,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=True,
    )
    config_class = {"llama": LlamaConfig, "qwen2": Qwen2Config}[architecture]
    config = config_class(**common)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=2).save_pretrained(folder)
    return folder


if __name__ == "__main__":  # handy for poking at a tiny model by hand
    import sys

    out = build_tiny_model(Path(sys.argv[1]))
    print(json.dumps(sorted(p.name for p in out.iterdir())))
