"""Training data from the library and from dataset files; the held-out split."""

import json

import pytest

from adcopy_desktop.core.candidates import Candidate, GenerationSettings
from adcopy_desktop.core.evaluation import DatasetError
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyRequest
from adcopy_desktop.core.training.data import (
    NotEnoughDataError,
    file_data,
    holdout_bucket,
    is_held_out,
    library_data,
    require_enough,
    split_items,
    Example,
)


def candidates(texts, kind="description", style=None):
    settings = GenerationSettings(n=len(texts), seed=1)
    return [Candidate(text=text, kind=kind, model="tiny", language="en", index=i, settings=settings, style=style)
            for i, text in enumerate(texts)]


@pytest.fixture
def library(tmp_path):
    with Library(tmp_path / "library.sqlite3") as lib:
        yield lib


def add_request(library, product_text, texts, *, style=None, kind="description", length="short", tone=None):
    product_id = library.add_product(parse_product(product_text))
    return product_id, library.record_generation(product_id, candidates(texts, kind, style), length=length, tone=tone)


def test_accepted_edit_is_the_target_and_the_prompt_is_what_generation_saw(library):
    product_id, ids = add_request(library, "Type: denim jacket\nColor: white", ["generated A", "generated B"],
                                  tone="calm")
    library.edit(ids[0], "The merchant's better copy.")
    library.decide(ids[0], "accepted")
    data = library_data(library, holdout_share=0.5)
    [example] = data.train + data.heldout
    assert example.completion == "The merchant's better copy."
    request = CopyRequest(parse_product("Type: denim jacket\nColor: white"), "description", "en", "short", "calm")
    generator = CopyGenerator(ModelStore())
    # the base model saw its prompt with the worked example; the trained version reads it without
    assert example.parent_messages == generator.prompt_messages(request)
    assert example.messages == generator._messages(request, None, "en", (), worked_example=False)
    assert len(example.parent_messages) == len(example.messages) + 2
    assert example.parent_messages[-1] == example.messages[-1]
    assert example.key == f"product:{product_id}" and example.origin == f"candidate {ids[0]}"
    assert example.product["attributes"] == [["Type", "denim jacket"], ["Color", "white"]]


def test_rejected_candidates_of_the_same_request_become_pairs(library):
    _, ids = add_request(library, "Type: scarf", ["good", "bad one", "bad two"])
    library.decide(ids[0], "accepted")
    library.decide(ids[1], "rejected")
    library.decide(ids[2], "rejected")
    _, other = add_request(library, "Type: hat", ["lonely rejected"])  # no accepted copy: no pair
    library.decide(other[0], "rejected")
    data = library_data(library, holdout_share=0.01)
    pairs = data.pairs + data.heldout_pairs
    assert sorted((p.chosen, p.rejected) for p in pairs) == [("good", "bad one"), ("good", "bad two")]
    assert all(p.messages == (data.train + data.heldout)[0].messages for p in pairs)


def test_style_filter_keeps_that_brand_only_and_deleted_products_still_teach(library):
    _, plain = add_request(library, "Type: belt", ["plain copy"])
    pid, styled = add_request(library, "Type: bag", ["styled copy"], style="qingshan")
    library.decide(plain[0], "accepted")
    library.decide(styled[0], "accepted")
    library.delete_product(pid)
    data = library_data(library, style="qingshan", holdout_share=0.5)
    examples = data.train + data.heldout
    # the style's plugin is not installed here: the plain prompt is used and the run says so
    assert [e.completion for e in examples] == ["styled copy"] and examples[0].style == "qingshan"
    assert any("qingshan" in warning for warning in data.warnings)


def test_held_out_split_is_deterministic_disjoint_and_stable_as_data_grows():
    keys = [f"product:{i}" for i in range(400)]
    held = {k for k in keys if is_held_out(k, 0.2)}
    assert 40 < len(held) < 120  # about a fifth
    assert holdout_bucket("product:7") == holdout_bucket("product:7")
    small = [Example(k, [], "c", "title", "en") for k in keys[:100]]
    big = [Example(k, [], "c", "title", "en") for k in keys]
    train_small, held_small = split_items(small, 0.2)
    train_big, held_big = split_items(big, 0.2)
    assert not {e.key for e in train_big} & {e.key for e in held_big}
    assert len(train_big) + len(held_big) == len(big)
    assert {e.key for e in held_small} <= {e.key for e in held_big}
    assert {e.key for e in train_small} <= {e.key for e in train_big}


def test_every_copy_of_one_product_lands_on_the_same_side(library):
    pid = library.add_product(parse_product("Type: boots"))
    for text in ("boots one", "boots two", "boots three"):
        [cid] = library.record_generation(pid, candidates([text]))
        library.decide(cid, "accepted")
    for index in range(12):
        _, [cid] = add_request(library, f"Type: item {index}", [f"copy {index}"])
        library.decide(cid, "accepted")
    data = library_data(library, holdout_share=0.3)
    sides = {("train" if e in data.train else "held") for e in data.train + data.heldout if e.completion.startswith("boots")}
    assert len(sides) == 1


def test_tiny_data_still_holds_one_out_or_says_what_to_do(library):
    _, [a] = add_request(library, "Type: cap", ["cap copy"])
    library.decide(a, "accepted")
    with pytest.raises(NotEnoughDataError, match="Accept"):
        require_enough(library_data(library))
    _, [b] = add_request(library, "Type: sock", ["sock copy"])
    library.decide(b, "accepted")
    data = library_data(library, holdout_share=0.001)
    assert len(data.heldout) == 1 and len(data.train) == 1


def test_dataset_files_in_both_layouts(tmp_path):
    path = tmp_path / "catalogue.jsonl"
    lines = [
        {"content": "类型#上衣*材质#牛仔布*颜色#白色", "summary": "白色牛仔上衣，百搭。"},
        {"prompt": "Type: denim jacket\nColor: white", "completion": "A white denim jacket.", "kind": "title"},
    ]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n", encoding="utf-8")
    data = file_data(path, holdout_share=0.5)
    examples = sorted(data.train + data.heldout, key=lambda e: e.origin)
    assert [(e.origin, e.kind, e.language, e.completion) for e in examples] == [
        ("line 1", "description", "zh", "白色牛仔上衣，百搭。"),
        ("line 2", "title", "en", "A white denim jacket."),
    ]
    assert "白色" in examples[0].messages[-1]["content"]


def test_malformed_dataset_lines_are_named_by_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"content": "类型#上衣", "summary": "好"}\nnot json\n{"text": "x"}\n{"prompt": "", "completion": "y"}\n',
                    encoding="utf-8")
    with pytest.raises(DatasetError) as error:
        file_data(path)
    message = str(error.value)
    assert "line 2" in message and "line 3" in message and "line 4" in message and "line 1:" not in message
