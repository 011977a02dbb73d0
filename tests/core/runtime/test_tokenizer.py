import json
import shutil

import pytest
from tokenizers import Tokenizer, processors

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.runtime import ChatTokenizer, StreamDecoder

MESSAGES = [{"role": "user", "content": "Write a slogan for a white denim jacket."}]
ENGLISH = "A white denim jacket with a relaxed fit,  made for everyday wear!"
# Rare characters are not in the tiny vocabulary, so byte-level BPE splits them across tokens.
CHINESE = "这款白色牛仔布上衣版型宽松，龘鑫燚犇，舒适透气。"


@pytest.fixture(scope="module")
def tokenizer(tiny_onnx_model):
    return ChatTokenizer.from_folder(tiny_onnx_model)


def copy_tokenizer_files(source, target):
    target.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json", "chat_template.jinja"):
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    return target


@pytest.mark.parametrize("text", [ENGLISH, CHINESE, "Mixed: 纯棉T恤 navy blue 藏青色 ✓"])
def test_round_trip(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_special_tokens(tokenizer):
    assert tokenizer.eos_token_ids == {2}
    assert tokenizer.pad_token_id == 2
    assert set(tokenizer.special_token_strings) == {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
    assert tokenizer.count_tokens(ENGLISH) == len(tokenizer.encode(ENGLISH))
    assert tokenizer.decode(tokenizer.encode("<|im_start|>hi<|im_end|>")) == "hi"


def test_chat_template_renders_with_exactly_one_bos(tokenizer):
    text = tokenizer.apply_chat_template(MESSAGES)
    assert text.startswith("<|im_start|>system\n")
    assert text.endswith("<|im_start|>assistant\n")
    ids = tokenizer.encode(text)
    assert ids[0] == tokenizer.bos_token_id and ids[1] != tokenizer.bos_token_id
    assert not tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=False).endswith("assistant\n")


def test_no_doubled_bos_when_the_tokenizer_also_adds_one(tiny_onnx_model, tmp_path):
    """Llama-style: the template writes {{ bos_token }} and the post-processor would add another."""
    folder = copy_tokenizer_files(tiny_onnx_model, tmp_path / "llama-style")
    (folder / "chat_template.jinja").unlink()
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    raw.post_processor = processors.TemplateProcessing(
        single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", 0)]
    )
    raw.save(str(folder / "tokenizer.json"))
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["bos_token"] = "<|endoftext|>"
    config["chat_template"] = "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    (folder / "tokenizer_config.json").write_text(json.dumps(config))

    tokenizer = ChatTokenizer.from_folder(folder)
    text = tokenizer.apply_chat_template(MESSAGES)
    assert text.startswith("<|endoftext|>[user] Write")
    assert raw.encode(text).ids[:2] == [0, 0]  # what a naive encode would feed the model
    ids = tokenizer.encode(text)
    assert ids.count(0) == 1 and ids[0] == 0


def test_template_from_tokenizer_config_and_generation_eos_list(tiny_onnx_model, tmp_path):
    folder = copy_tokenizer_files(tiny_onnx_model, tmp_path / "config-template")
    template = (folder / "chat_template.jinja").read_text()
    (folder / "chat_template.jinja").unlink()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["chat_template"] = [{"name": "tool_use", "template": "TOOLS"}, {"name": "default", "template": template}]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": [0, 2], "pad_token_id": 0}))

    tokenizer = ChatTokenizer.from_folder(folder)
    assert tokenizer.apply_chat_template(MESSAGES).startswith("<|im_start|>system")
    assert tokenizer.eos_token_ids == {0, 2}
    assert tokenizer.pad_token_id == 2  # tokenizer_config's pad_token wins


def test_template_features_match_transformers(tiny_onnx_model):
    raw = Tokenizer.from_file(str(tiny_onnx_model / "tokenizer.json"))
    tokenizer = ChatTokenizer(raw, chat_template=(
        "{% for m in messages %}"
        "{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}\n"
        "  {{ m | tojson }}\n"
        "{% endfor %}"
    ))
    assert tokenizer.apply_chat_template([{"role": "user", "content": "<b>牛仔</b>"}]) == (
        '  {"role": "user", "content": "<b>牛仔</b>"}\n'
    )
    with pytest.raises(ModelError, match="System role not supported"):
        tokenizer.apply_chat_template([{"role": "system", "content": "x"}])


def test_missing_template_or_tokenizer_is_a_model_error(tiny_onnx_model, tmp_path):
    tokenizer = ChatTokenizer(Tokenizer.from_file(str(tiny_onnx_model / "tokenizer.json")))
    with pytest.raises(ModelError, match="no chat template"):
        tokenizer.apply_chat_template(MESSAGES)
    with pytest.raises(ModelError, match="tokenizer.json"):
        ChatTokenizer.from_folder(tmp_path)


def stream_pieces(tokenizer, ids):
    decoder = StreamDecoder(tokenizer)
    pieces = [decoder.push(token_id) for token_id in ids]
    pieces.append(decoder.flush())
    return pieces


def test_stream_decoder_emits_chinese_characters_only_whole(tokenizer):
    ids = tokenizer.encode(CHINESE)
    pieces = stream_pieces(tokenizer, ids)
    assert "" in pieces[:-1], "the test text should split some character across tokens"
    assert all("\ufffd" not in piece for piece in pieces)
    assert "".join(pieces) == tokenizer.decode(ids) == CHINESE


def test_stream_decoder_keeps_spaces(tokenizer):
    ids = tokenizer.encode(ENGLISH)
    pieces = stream_pieces(tokenizer, ids)
    assert "".join(pieces) == ENGLISH
    assert sum(piece.startswith(" ") for piece in pieces) >= 5


def test_stream_decoder_skips_special_tokens(tokenizer):
    ids = tokenizer.encode("<|im_start|>assistant\nHello<|im_end|>")
    assert "".join(stream_pieces(tokenizer, ids)) == "assistant\nHello"
