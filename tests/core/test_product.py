import json

import pytest

from adcopy_desktop.core.errors import ProductParseError
from adcopy_desktop.core.product import (
    MAX_ATTRIBUTES,
    MAX_INPUT_CHARS,
    MAX_KEY_CHARS,
    MAX_VALUE_CHARS,
    Product,
    parse_product,
)

ADVERTISEGEN = "类型#上衣*材质#牛仔布*颜色#白色*风格#简约*风格#休闲"
EXPECTED_PAIRS = [("类型", "上衣"), ("材质", "牛仔布"), ("颜色", "白色"), ("风格", "简约"), ("风格", "休闲")]


def parse_error(text: str) -> ProductParseError:
    with pytest.raises(ProductParseError) as info:
        parse_product(text)
    return info.value


# --- AdvertiseGen attribute strings -------------------------------------------------------------


def test_attribute_string_keeps_order_and_repeated_keys():
    product = parse_product(ADVERTISEGEN)
    assert product.attributes == EXPECTED_PAIRS
    assert product.values("风格") == ["简约", "休闲"]
    assert product.keys() == ["类型", "材质", "颜色", "风格"]
    assert product.as_dict_of_lists() == {"类型": ["上衣"], "材质": ["牛仔布"], "颜色": ["白色"], "风格": ["简约", "休闲"]}
    assert product.source_text == ADVERTISEGEN
    assert product.name is None


def test_attribute_string_accepts_full_width_separators_and_whitespace():
    product = parse_product(" 类型 ＃ 上衣 ＊材质＃牛仔布 * 颜色#白色 ")
    assert product.attributes == [("类型", "上衣"), ("材质", "牛仔布"), ("颜色", "白色")]


def test_attribute_string_accepts_new_lines_and_stray_separators():
    product = parse_product("类型#上衣\r\n材质#牛仔布*\n\n颜色#白色*")
    assert product.attributes == [("类型", "上衣"), ("材质", "牛仔布"), ("颜色", "白色")]


def test_attribute_string_round_trips():
    product = parse_product(ADVERTISEGEN)
    assert product.to_attribute_string() == ADVERTISEGEN
    assert parse_product(product.to_attribute_string()).attributes == product.attributes


def test_attribute_string_of_values_with_separators_still_parses_to_the_same_pairs():
    product = Product.from_attributes([("型号", "A#1*2"), ("颜色", "白\n色")])
    assert parse_product(product.to_attribute_string()).keys() == ["型号", "颜色"]


def test_segment_without_hash_names_segment_and_fragment():
    error = parse_error("类型#上衣*材质牛仔布")
    assert "Segment 2" in str(error)
    assert "材质牛仔布" in str(error)
    assert "key#value" in str(error)
    assert error.position == 2
    assert error.fragment == "材质牛仔布"


def test_segment_with_empty_key():
    error = parse_error("类型#上衣*#白色")
    assert "Segment 2" in str(error) and "#白色" in str(error) and "no key" in str(error)
    assert error.position == 2


def test_first_segment_with_empty_key():
    error = parse_error("#白色")
    assert "Segment 1" in str(error) and "#白色" in str(error)


def test_segment_with_empty_value():
    error = parse_error("类型#上衣*颜色#")
    assert "Segment 2" in str(error) and "颜色#" in str(error) and "no value" in str(error)
    assert error.fragment == "颜色#"


def test_segment_with_two_hashes_suggests_a_missing_star():
    error = parse_error("类型#上衣*颜色#白色材质#棉")
    assert "Segment 2" in str(error) and "颜色#白色材质#棉" in str(error) and "'*'" in str(error)


# --- key: value lines ---------------------------------------------------------------------------


def test_key_value_lines_with_both_colons_blank_lines_and_repeats():
    text = "名称: 白色牛仔外套\n\n颜色：白色\n  颜色 :  蓝色  \n尺码: M:L"
    product = parse_product(text)
    assert product.attributes == [("名称", "白色牛仔外套"), ("颜色", "白色"), ("颜色", "蓝色"), ("尺码", "M:L")]
    assert product.name == "白色牛仔外套"


def test_key_value_line_values_may_contain_hash():
    product = parse_product("color: #FFFFFF\nmodel: A#1")
    assert product.attributes == [("color", "#FFFFFF"), ("model", "A#1")]


def test_key_value_lines_accept_bullets():
    product = parse_product("- 颜色: 白色\n• 材质: 棉")
    assert product.attributes == [("颜色", "白色"), ("材质", "棉")]


def test_line_without_colon_names_line_number_and_fragment():
    error = parse_error("颜色: 白色\n\n材质 棉")
    assert "Line 3" in str(error) and "材质 棉" in str(error) and "key: value" in str(error)
    assert error.position == 3
    assert error.fragment == "材质 棉"


def test_line_with_empty_key_or_value():
    error = parse_error("颜色: 白色\n: 棉")
    assert "Line 2" in str(error) and "no key" in str(error)
    error = parse_error("颜色：")
    assert "Line 1" in str(error) and "颜色：" in str(error) and "no value" in str(error)


def test_plain_sentence_explains_all_forms():
    error = parse_error("a nice white shirt")
    message = str(error)
    assert "Line 1" in message and "a nice white shirt" in message
    assert "#" in message and "key: value" in message and "JSON" in message


# --- JSON ---------------------------------------------------------------------------------------


def test_json_object_lists_numbers_and_booleans():
    text = json.dumps(
        {"title": "白色牛仔外套", "颜色": ["白色", "蓝色"], "price": 99, "weight": 0.5, "in_stock": True, "note": None},
        ensure_ascii=False,
    )
    product = parse_product(text)
    assert product.attributes == [
        ("title", "白色牛仔外套"),
        ("颜色", "白色"),
        ("颜色", "蓝色"),
        ("price", "99"),
        ("weight", "0.5"),
        ("in_stock", "true"),
    ]
    assert product.name == "白色牛仔外套"


def test_json_keeps_duplicate_keys_in_order():
    assert parse_product('{"风格": "简约", "颜色": "白", "风格": "休闲"}').values("风格") == ["简约", "休闲"]


def test_json_skips_blank_values():
    assert parse_product('{"a": "  ", "b": [], "c": ["", "x"], "d": "y"}').attributes == [("c", "x"), ("d", "y")]


def test_json_nested_object_names_the_key():
    error = parse_error('{"title": "T", "size": {"w": 1}}')
    assert '"size"' in str(error) and "nested object" in str(error)
    assert error.position == 2 and error.fragment == "size"


def test_json_list_in_list_names_key_and_item():
    error = parse_error('{"颜色": ["白色", ["蓝色"]]}')
    assert '"颜色"' in str(error) and "item 2" in str(error)


def test_invalid_json_gives_line_column_and_fragment():
    error = parse_error('{\n  "title": "T",\n  "price": \n}')
    message = str(error)
    assert "line 4, column 1" in message
    assert "Invalid JSON" in message
    assert error.position == 4


def test_json_that_is_not_an_object():
    error = parse_error('["白色", "蓝色"]')
    assert "object" in str(error) and "a list" in str(error)


def test_json_empty_key():
    error = parse_error('{"": "x"}')
    assert "Key 1" in str(error) and "empty" in str(error)


def test_json_object_without_values():
    assert "no attributes" in str(parse_error('{"a": null}'))


# --- limits and empty input ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\ufeff"])
def test_empty_input(text):
    assert "empty" in str(parse_error(text))


def test_too_many_attributes():
    error = parse_error("*".join(f"k{i}#v{i}" for i in range(MAX_ATTRIBUTES + 1)))
    assert str(MAX_ATTRIBUTES) in str(error) and f"k{MAX_ATTRIBUTES}" in str(error)
    assert error.position == MAX_ATTRIBUTES + 1


def test_exactly_the_maximum_number_of_attributes_is_fine():
    assert len(parse_product("*".join(f"k{i}#v{i}" for i in range(MAX_ATTRIBUTES))).attributes) == MAX_ATTRIBUTES


def test_value_too_long():
    error = parse_error("类型#上衣*描述#" + "长" * (MAX_VALUE_CHARS + 1))
    assert "Segment 2" in str(error) and f"{MAX_VALUE_CHARS:,}" in str(error)
    assert error.position == 2


def test_key_too_long():
    error = parse_error("k" * (MAX_KEY_CHARS + 1) + ": v")
    assert "Line 1" in str(error) and str(MAX_KEY_CHARS) in str(error)


def test_input_too_long():
    assert "at most" in str(parse_error("a" * (MAX_INPUT_CHARS + 1)))


def test_error_message_shortens_long_fragments_but_keeps_them_whole():
    fragment = "没有井号" * 40
    error = parse_error(f"类型#上衣*{fragment}")
    assert "…" in str(error)
    assert error.fragment == fragment


# --- Product helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["name", "Title", "名称", "商品名", "标题"])
def test_name_keys_are_exposed_and_kept_in_attributes(key):
    product = parse_product(f"{key}: 小白鞋\n颜色: 白色")
    assert product.name == "小白鞋"
    assert product.attributes[0] == (key, "小白鞋")


def test_to_dict_from_dict_round_trip():
    product = parse_product("title: 外套\n颜色: 白色\n颜色: 蓝色")
    data = json.loads(json.dumps(product.to_dict(), ensure_ascii=False))
    assert Product.from_dict(data) == product


def test_from_dict_rejects_bad_pairs():
    with pytest.raises(ProductParseError) as info:
        Product.from_dict({"attributes": [["颜色", "白色"], ["只有一个"]]})
    assert info.value.position == 2
    with pytest.raises(ProductParseError):
        Product.from_dict({"attrs": []})


def test_from_attributes_trims_and_checks():
    product = Product.from_attributes([(" 颜色 ", " 白色 "), ("名称", "T恤")])
    assert product.attributes == [("颜色", "白色"), ("名称", "T恤")]
    assert product.name == "T恤"
    with pytest.raises(ProductParseError) as info:
        Product.from_attributes([("颜色", "白色"), ("材质", " ")])
    assert "Attribute 2" in str(info.value)


def test_values_of_missing_key_is_empty():
    assert parse_product(ADVERTISEGEN).values("价格") == []


def test_parse_product_rejects_non_text():
    with pytest.raises(TypeError):
        parse_product(None)  # type: ignore[arg-type]
