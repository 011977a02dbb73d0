import codecs

import pytest

from adcopy_desktop.core.catalog import ENCODING_LABELS, detect_encoding, normalise_encoding
from adcopy_desktop.core.catalog.encoding import OPTION_NAMES, chinese_plausibility, decode

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


# -- a wrong encoding (given or guessed) is refused with the one that reads the file ----------------------

PORTUGUESE = "nome,descrição,cor\nCamisa,Promoção de algodão,azul\nCalça,Informações: tamanho único,preta\n"
GERMAN = "Name,Größe,Farbe\nHemd,groß,weiß\nMütze,klein,schwarz\n"


@pytest.mark.parametrize("text, written, given, likely", [
    (SIMPLIFIED, "gbk", "utf-8", "gb18030"),  # GBK read as UTF-8: undecodable bytes
    (SIMPLIFIED, "gbk", "latin-1", "gb18030"),  # ... as Latin-1: runs of ÉÌÆ·Ãû
    (SIMPLIFIED, "gbk", "cp1252", "gb18030"),
    (SIMPLIFIED, "gbk", "big5", "gb18030"),
    (SIMPLIFIED, "utf-8", "gbk", "utf-8-sig"),  # UTF-8 read as GBK: rare Chinese characters
    (SIMPLIFIED, "utf-8", "big5", "utf-8-sig"),
    (SIMPLIFIED, "utf-8", "latin-1", "utf-8-sig"),
    (TRADITIONAL, "big5", "gbk", "big5"),
    (TRADITIONAL, "big5", "utf-8", "big5"),
    (PORTUGUESE, "cp1252", "utf-8", "cp1252"),
    (PORTUGUESE, "cp1252", "gbk", "cp1252"),
    (GERMAN, "cp1252", "utf-8", "cp1252"),
    (SIMPLIFIED, "utf-16", "utf-8", "utf-16"),  # the byte order mark names it
    (SIMPLIFIED, "utf-16-le", "gbk", "utf-16-le"),
    (SIMPLIFIED, "utf-8", "utf-16", "utf-8-sig"),
])
def test_a_wrong_encoding_is_refused_and_the_likely_one_named(tmp_path, text, written, given, likely):
    from adcopy_desktop.core.catalog import ColumnMapping, read_catalog
    from adcopy_desktop.core.catalog.result import EncodingMismatch

    path = tmp_path / "items.csv"
    path.write_bytes(text.encode(written))
    mapping = ColumnMapping(attributes=[text.split(",")[0]])
    with pytest.raises(EncodingMismatch) as refused:
        read_catalog(path, encoding=given, mapping=mapping)
    assert refused.value.likely == likely
    option = OPTION_NAMES[likely]
    assert f"looks like {ENCODING_LABELS[likely]}" in str(refused.value)
    assert f"--encoding {option}" in str(refused.value) and "Nothing was imported" in str(refused.value)
    right = read_catalog(path, encoding=option, mapping=mapping)  # the named one reads it
    assert right.items and not right.problems


@pytest.mark.parametrize("text, encoding", [
    (SIMPLIFIED, "utf-8"), (SIMPLIFIED, "gbk"), (TRADITIONAL, "big5"), (SIMPLIFIED, "utf-16"),
    (PORTUGUESE, "utf-8"), (PORTUGUESE, "cp1252"), (GERMAN, "cp1252"), (GERMAN, "utf-8"),
    ("Handle,Title\nshirt,Shirt\n", "ascii"),
])
def test_the_right_encoding_guessed_or_given_is_never_refused(tmp_path, text, encoding):
    from adcopy_desktop.core.catalog import ColumnMapping, read_catalog

    path = tmp_path / "items.csv"
    path.write_bytes(text.encode(encoding))
    mapping = ColumnMapping(attributes=[text.split(",")[0]])
    guessed = read_catalog(path, mapping=mapping)
    assert [p for p in guessed.problems if "replaced" in p.message] == []
    given = read_catalog(path, encoding=encoding, mapping=mapping)
    assert [item.product.attributes for item in guessed.items] == [item.product.attributes for item in given.items]
    assert text.splitlines()[1].split(",")[0] in {v for item in given.items for _, v in item.product.attributes}


@pytest.mark.parametrize("text", [PORTUGUESE, GERMAN, "Größe,x\n"])
def test_western_text_that_happens_to_decode_as_gbk_is_guessed_as_windows_1252(text):
    guess = detect_encoding(text.encode("cp1252"))
    assert guess.encoding == "cp1252" and guess.confidence < 0.8  # asked to confirm


def test_a_few_damaged_bytes_in_utf8_are_noted_not_refused(tmp_path):
    from adcopy_desktop.core.catalog import ColumnMapping, read_catalog

    lines = [f"A{i},纯棉T恤{i},白色" for i in range(300)]
    data = bytearray(("sku,name,color\n" + "\n".join(lines) + "\n").encode("utf-8"))
    data[data.index("纯".encode()) + 1] = 0x20  # one character broken
    path = tmp_path / "items.csv"
    path.write_bytes(bytes(data))
    result = read_catalog(path, mapping=ColumnMapping(name="name", id="sku", attributes=["color"]))
    assert len(result.items) == 300
    (note,) = [p for p in result.problems if "replaced" in p.message]
    assert note.row == 2 and not note.skipped


def test_the_preview_shows_the_problem_and_no_mapping_is_saved_for_a_garbled_header(tmp_path):
    from adcopy_desktop.core.catalog import preview_catalog, save_mapping, saved_mapping

    path = tmp_path / "items.csv"
    path.write_bytes(SIMPLIFIED.encode("gbk"))
    preview = preview_catalog(path, encoding="latin-1")
    assert preview.encoding.confidence == 0.0 and preview.likely_encoding == "gb18030"
    assert "looks like GB18030" in preview.encoding_problem and "looks like GB18030" in preview.encoding.reason
    assert save_mapping(preview.header, preview.mapping) is False  # 'ÉÌÆ·Ãû³Æ' is nobody's column
    assert saved_mapping(preview.header) is None
    right = preview_catalog(path)
    assert right.encoding_problem is None and right.header[0] == "商品名称"
    assert save_mapping(right.header, right.mapping) is True and saved_mapping(right.header) == right.mapping


@pytest.mark.parametrize("header", [["商品名称", "颜色"], ["Handle", "Title"], ["nome", "descrição"], ["Größe", "Maß"]])
def test_real_headers_are_not_taken_for_garbled(header):
    from adcopy_desktop.core.catalog.encoding import header_looks_garbled

    assert not header_looks_garbled(header)
    garbled_forms = [h.encode("utf-8").decode("latin-1") for h in header if not h.isascii()]
    if garbled_forms:
        assert header_looks_garbled(garbled_forms + ["x"]) or len("".join(garbled_forms)) < 4
