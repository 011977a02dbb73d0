"""The mapping rule from accepted copy to shop fields, and the export filters."""

import time

import pytest

from adcopy_desktop.core.library import Library
from adcopy_desktop.core.product_copy import (
    SEO_TITLE_LIMIT,
    ExportFilterError,
    ExportFilters,
    cut,
    list_html,
    paragraphs_html,
    product_copies,
)
from tests.core.shops.helpers import accept, add_product_with_copy


@pytest.fixture
def library(tmp_path):
    with Library(tmp_path / "library.sqlite3") as opened:
        yield opened


def test_newest_accepted_copy_of_each_kind_maps_to_shop_fields(library):
    product_id = add_product_with_copy(library, "Kettle", "steel-kettle", {
        "title": "Old title", "description": "old", "selling_points": "- Boils fast\n- <Quiet> & cool",
        "promo": "Tea in   three minutes.",
    })
    time.sleep(0.01)
    accept(library, product_id, {"title": "Steel kettle that boils in three minutes for every tea lover at home and work",
                                 "description": "Boils fast.\nPours clean.\n\nSafe: <b>no</b> plastic & BPA"})
    (copy,) = product_copies(library)
    assert copy.external_id == "steel-kettle" and copy.product_id == product_id
    assert copy.title.startswith("Steel kettle that boils")
    assert len(copy.seo_title) <= SEO_TITLE_LIMIT and not copy.seo_title.endswith(" ")
    assert copy.seo_title == "Steel kettle that boils in three minutes for every tea lover at home"
    assert copy.description_html == (
        "<p>Boils fast.<br>Pours clean.</p>\n<p>Safe: &lt;b&gt;no&lt;/b&gt; plastic &amp; BPA</p>\n"
        "<ul><li>Boils fast</li><li>&lt;Quiet&gt; &amp; cool</li></ul>")
    assert copy.seo_description == "Tea in three minutes."
    assert {c.kind for c in copy.candidates} == {"title", "description", "selling_points", "promo"}
    assert len(copy.candidates) == 6


def test_fields_without_accepted_copy_are_left_out(library):
    add_product_with_copy(library, "Tea", "tea", {"slogan": "一山一茶"})
    (copy,) = product_copies(library)
    assert copy.shop_fields() == {"seo_description": "一山一茶"}


def test_filters_select_products_kinds_languages_styles_and_dates(library):
    first = add_product_with_copy(library, "A", "a", {"title": "Title A"}, language="en", style="brand")
    second = add_product_with_copy(library, "B", "b", {"title": "标题 B", "description": "描述"}, language="zh")
    assert {c.product_id for c in product_copies(library, ExportFilters(products=(second,)))} == {second}
    assert [c.product_id for c in product_copies(library, ExportFilters(language="en"))] == [first]
    assert [c.product_id for c in product_copies(library, ExportFilters(style="brand"))] == [first]
    only_titles = product_copies(library, ExportFilters.parse(kinds=["标题"]))
    assert all(set(c.shop_fields()) == {"title", "seo_title"} for c in only_titles) and len(only_titles) == 2
    assert product_copies(library, ExportFilters.parse(since="2999-01-01")) == []
    assert len(product_copies(library, ExportFilters.parse(since="2000-01-01"))) == 2
    with pytest.raises(ExportFilterError, match="not a date"):
        ExportFilters.parse(since="yesterday")
    with pytest.raises(ExportFilterError, match="Unknown copy kind"):
        ExportFilters.parse(kinds=["poem"])


def test_text_helpers():
    assert cut("一二三四五", 3) == "一二三"
    assert cut("hello wonderful world", 17) == "hello wonderful"
    assert cut("hello wonderful world", 12) == "hello wonder"  # no cut back to under half
    assert paragraphs_html("a & b\r\n\r\n<c>") == "<p>a &amp; b</p>\n<p>&lt;c&gt;</p>"
    assert list_html("1. one\n• two\n\n（3）three") == "<ul><li>one</li><li>two</li><li>three</li></ul>"


@pytest.mark.parametrize("text, limit, expected", [
    ('The "Best kettle" ever made in the world', 20, 'The "Best kettle"'),  # word boundary, quote closed
    ('Steel kettle "Boil Master Pro" with a whistle', 24, "Steel kettle"),  # not 'Steel kettle "Boil Master'
    ('"An entirely quoted very long title here"', 20, '"An entirely quoted"'),  # closed when cutting before is too short
    ("《红楼梦》精装版全套典藏", 3, "《红》"),
    ("宜兴紫砂壶「经典款」限量版", 8, "宜兴紫砂壶"),
    ("茶壶（青花瓷）限量款", 5, "茶壶（青）"),
    ("Tea 👍🏽 pot", 5, "Tea"),  # the skin-tone modifier is not cut from its emoji
    ("flags 🇨🇳🇺🇸", 8, "flags 🇨🇳"),  # a flag is two regional indicators
    ("abc\ud83d\ude00def", 4, "abc"),  # never half a surrogate pair
    ("cafe\u0301 creme", 4, "caf"),  # an accent stays with its letter
    ("一二三四五", 3, "一二三"),
])
def test_cuts_never_leave_a_dangling_quote_or_half_a_character(text, limit, expected):
    result = cut(text, limit)
    assert result == expected and len(result) <= limit


def test_seo_fields_made_from_other_copy_are_marked_derived(library):
    product_id = add_product_with_copy(library, "A", "a", {"title": "Kettle", "description": "Hot"})
    (copy,) = product_copies(library, ExportFilters(products=(product_id,)))
    assert copy.derived == {"seo_title", "seo_description"}
    add_product_with_copy(library, "B", "b", {"title": "Pot", "promo": "Now 20% off"})
    promo = next(c for c in product_copies(library) if c.external_id == "b")
    assert promo.derived == {"seo_title"} and promo.seo_description == "Now 20% off"
