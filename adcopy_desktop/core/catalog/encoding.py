"""Which text encoding a catalog file is in: BOMs first, then UTF-16 without a BOM, then strict
decoding as UTF-8, GB18030 (a superset of GBK and GB2312) and Big5, each judged by how much of the
Chinese text it yields is common Chinese. The guess carries a confidence and is shown to the user,
who confirms it or picks another.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

SAMPLE_BYTES = 256 * 1024

# Encodings offered to the user (Python codec names); "utf-8-sig" also reads plain UTF-8.
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030", "big5", "utf-16", "utf-16-le", "utf-16-be")

ENCODING_LABELS = {
    "utf-8-sig": "UTF-8", "gb18030": "GB18030 / GBK", "big5": "Big5", "utf-16": "UTF-16 (with BOM)",
    "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
}

_ALIASES = {
    "utf8": "utf-8-sig", "utf-8": "utf-8-sig", "utf_8": "utf-8-sig", "utf-8-sig": "utf-8-sig",
    "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "cp936": "gb18030",
    "big5": "big5", "big5hkscs": "big5hkscs", "cp950": "big5",
    "utf16": "utf-16", "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16-le": "utf-16-le",
    "utf-16be": "utf-16-be", "utf-16-be": "utf-16-be",
}

# Frequent characters of Chinese prose and product listings, simplified and traditional. A decoding
# that turns GBK bytes into Big5 (or the reverse) yields valid but rare characters; the right one
# yields mostly these.
_COMMON = set(
    "的一是不了在人有我他这個个们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能而子那得于於着著"
    "下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同现現当當没沒动動面起看定天分还還"
    "进進好小部其些主样樣理心本前开開但因只从從想实實高长長新款色黑白红紅蓝藍绿綠黄黃灰粉紫棕米金银銀尺码碼寸号號"
    "男女童装裝衣裤褲裙鞋包帽袜襪外套衫毛棉麻丝絲羊绒絨皮革布料材质質面料纯純全透气氣舒适適柔软軟保暖轻輕薄厚"
    "款式风風格时尚休闲閒运運简簡约約经典复復古韩韓版修身宽寬松鬆短长長袖领領口圆圓字系带帶拉链鏈纽紐扣口袋"
    "品牌商价價格促销銷特惠折包邮郵送正优優质質量产產地规規格型号號重净淨含适適合用途人群季节節春夏秋冬日常"
    "手机機电電脑腦充器线線屏幕蓝牙耳护護肤膚霜乳液精华華水洗面膜香味美容妆妝健康食饮飲茶咖啡酒糖盒瓶袋件套组組"
    "防晒曬滑耐磨抗菌环環保安全家居厨廚房卫衛浴床上杯碗壶壺锅鍋刀具灯燈桌椅沙发發柜櫃收纳納整理礼禮物款双雙"
    "个份克升毫米厘公斤升级級超值精选選限量官方旗舰艦店铺鋪网網购購买買卖賣送货貨快递遞服务務售"
)


@dataclass(frozen=True)
class EncodingGuess:
    encoding: str  # a Python codec name from ENCODINGS (or one the user named)
    confidence: float  # 0..1
    reason: str  # what the guess rests on, for the preview

    @property
    def label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def normalise_encoding(name: str) -> str:
    """The codec for a name the user typed (utf8, GBK, big5, UTF-16LE ...); unknown names raise
    LookupError with the accepted ones."""
    key = name.strip().lower().replace("_", "-")
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return codecs.lookup(name).name
    except LookupError:
        accepted = ", ".join(sorted({"UTF-8", "GBK", "GB18030", "Big5", "UTF-16", "UTF-16LE", "UTF-16BE"}))
        raise LookupError(f"Unknown encoding '{name}'; use one of {accepted}.") from None


def _bom(data: bytes) -> EncodingGuess | None:
    if data.startswith(codecs.BOM_UTF8):
        return EncodingGuess("utf-8-sig", 1.0, "UTF-8 byte order mark")
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        return EncodingGuess("utf-32", 1.0, "UTF-32 byte order mark")
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return EncodingGuess("utf-16", 1.0, "UTF-16 byte order mark")
    return None


def _utf16_without_bom(sample: bytes) -> EncodingGuess | None:
    """Text of mostly ASCII/Latin/CJK in UTF-16 has a zero in most even (BE) or odd (LE) bytes."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_zero = sum(1 for i in range(0, pairs * 2, 2) if sample[i] == 0)
    odd_zero = sum(1 for i in range(1, pairs * 2, 2) if sample[i] == 0)
    for zeros, other, codec in ((odd_zero, even_zero, "utf-16-le"), (even_zero, odd_zero, "utf-16-be")):
        if zeros >= 0.08 * pairs and other <= 0.01 * pairs:
            try:
                text = sample[: pairs * 2].decode(codec)
            except UnicodeDecodeError:
                continue
            if _text_likeness(text) >= 0.8:
                return EncodingGuess(codec, 0.9, "zero bytes in every other position (UTF-16 without a BOM)")
    return None


def _text_likeness(text: str) -> float:
    """Share of characters that are printable ASCII, white space, CJK or CJK punctuation."""
    if not text:
        return 0.0
    good = sum(1 for ch in text if (" " <= ch <= "~") or ch in "\t\r\n" or "\u4e00" <= ch <= "\u9fff"
               or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")
    return good / len(text)


def _strict(sample: bytes, codec: str, truncated: bool) -> str | None:
    """Decode strictly; a sample cut inside a multibyte character is forgiven at its very end."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        return decoder.decode(sample, final=not truncated)
    except UnicodeDecodeError:
        return None


def chinese_plausibility(text: str) -> float:
    """Share of the CJK characters in ``text`` that are common Chinese (0 when there are none)."""
    cjk = [ch for ch in text if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\ue000" <= ch <= "\uf8ff"]
    if not cjk:
        return 0.0
    return sum(1 for ch in cjk if ch in _COMMON) / len(cjk)


def detect_encoding(data: bytes) -> EncodingGuess:
    """Best guess for ``data`` (a file's bytes or its first part)."""
    bom = _bom(data)
    if bom is not None:
        return bom
    truncated = len(data) > SAMPLE_BYTES
    sample = data[:SAMPLE_BYTES]
    if not sample:
        return EncodingGuess("utf-8-sig", 1.0, "empty file")
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        return utf16
    if _strict(sample, "utf-8", truncated) is not None:
        if sample.isascii():
            return EncodingGuess("utf-8-sig", 1.0, "plain ASCII (UTF-8 compatible)")
        return EncodingGuess("utf-8-sig", 0.99, "valid UTF-8")
    scored = []
    for codec in ("gb18030", "big5"):
        text = _strict(sample, codec, truncated)
        if text is not None:
            scored.append((chinese_plausibility(text), codec))
    if scored:
        scored.sort(reverse=True)
        best_score, codec = scored[0]
        if len(scored) == 1:
            confidence = 0.6 + 0.35 * best_score
            reason = f"decodes only as {ENCODING_LABELS[codec]}"
        else:
            margin = best_score - scored[1][0]
            confidence = max(0.3, min(0.95, 0.5 + margin))
            reason = f"{ENCODING_LABELS[codec]}: {best_score:.0%} common Chinese characters"
        return EncodingGuess(codec, round(confidence, 2), reason)
    return EncodingGuess("utf-8-sig", 0.0, "no supported encoding decodes it; undecodable bytes are replaced")


def decode(data: bytes, encoding: str) -> tuple[str, list[int]]:
    """Text of ``data`` in ``encoding``; bytes that do not decode become U+FFFD, and the 1-based
    line numbers where that happened come back so they can be reported."""
    try:
        return data.decode(encoding), []
    except UnicodeDecodeError:
        pass
    text = data.decode(encoding, errors="replace")
    bad_lines: list[int] = []
    line = 1
    position = 0
    while True:
        found = text.find("\ufffd", position)
        if found < 0:
            break
        line += text.count("\n", position, found)
        if not bad_lines or bad_lines[-1] != line:
            bad_lines.append(line)
        position = found + 1
    return text, bad_lines
