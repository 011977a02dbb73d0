import codecs

import pytest

from adcopy_desktop.core.catalog import detect_encoding, normalise_encoding
from adcopy_desktop.core.catalog.encoding import chinese_plausibility, decode

SIMPLIFIED = "商品名称,颜色,材质\n纯棉短袖T恤,白色,纯棉\n真丝连衣裙,黑色,真丝\n透气运动鞋,蓝色,网面\n"
TRADITIONAL = "商品名稱,顏色,材質\n純棉短袖T恤,白色,純棉\n真絲連衣裙,黑色,真絲\n透氣運動鞋,藍色,網面\n"


@pytest.mark.parametrize("text, encoding, expected", [
    (SIMPLIFIED, "utf-8", "utf-8-sig"),
    (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
    (SIMPLIFIED, "gbk", "gb18030"),
    (SIMPLIFIED, "gb18030", "gb18030"),
    (TRADITIONAL, "big5", "big5"),
    (SIMPLIFIED, "utf-16", "utf-16"),
    (SIMPLIFIED, "utf-16-le", "utf-16-le"),
    (SIMPLIFIED, "utf-16-be", "utf-16-be"),
    ("Handle,Title\nshirt,Shirt\n", "ascii", "utf-8-sig"),
])
def test_detects_the_encoding_and_decodes_the_text_back(text, encoding, expected):
    data = text.encode(encoding)
    guess = detect_encoding(data)
    assert guess.encoding == expected
    decoded, bad = decode(data, guess.encoding)
    assert decoded.lstrip("\ufeff") == text and bad == []
    assert 0 < guess.confidence <= 1 and guess.reason


def test_gbk_and_big5_bytes_are_told_apart_by_common_characters():
    gbk, big5 = detect_encoding(SIMPLIFIED.encode("gbk")), detect_encoding(TRADITIONAL.encode("big5"))
    assert (gbk.encoding, big5.encoding) == ("gb18030", "big5")
    assert gbk.confidence >= 0.8 and big5.confidence >= 0.8
    wrong = TRADITIONAL.encode("big5").decode("gb18030", errors="replace")
    assert chinese_plausibility(wrong) < chinese_plausibility(TRADITIONAL)


def test_a_sample_cut_inside_a_character_still_detects_utf8():
    data = ("颜色,白色\n" * 60_000).encode("utf-8")  # larger than the sample: cut mid-character
    assert detect_encoding(data).encoding == "utf-8-sig"


def test_undecodable_bytes_are_replaced_and_their_lines_reported():
    data = "a,b\n".encode() + b"ok,\xff\xfe\xfa\n" + "c,d\n".encode()
    guess = detect_encoding(data)
    text, bad = decode(data, guess.encoding)
    assert text.count("\n") == 3
    if guess.encoding == "utf-8-sig":
        assert bad == [2] and "\ufffd" in text


def test_bom_wins_over_content():
    assert detect_encoding(codecs.BOM_UTF8 + "x".encode()).confidence == 1.0
    assert detect_encoding(codecs.BOM_UTF16_LE + "颜色".encode("utf-16-le")).encoding == "utf-16"


@pytest.mark.parametrize("name, codec", [("UTF8", "utf-8-sig"), ("GBK", "gb18030"), ("gb2312", "gb18030"),
                                         ("Big5", "big5"), ("UTF-16LE", "utf-16-le"), ("latin-1", "iso8859-1")])
def test_encoding_names_people_type_are_understood(name, codec):
    assert normalise_encoding(name) == codec


def test_an_unknown_encoding_name_lists_the_accepted_ones():
    with pytest.raises(LookupError, match="GBK"):
        normalise_encoding("klingon-8")
