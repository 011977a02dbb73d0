"""Which text encoding a catalog file is in: BOMs first, then UTF-16 without a BOM, then strict
decoding as UTF-8, GB18030 (a superset of GBK and GB2312), Big5 and Windows-1252, each judged by how
much of the Chinese text it yields is common Chinese. The guess carries a confidence and is shown to
the user, who confirms it or picks another.

Whatever the encoding (guessed or given), the decoded text is judged before anything is stored
(``garbled``): bytes that did not decode, Chinese decoded as Windows-1252/Latin-1 (runs of
``ÃÂ¤``-like characters), UTF-8 decoded as GBK or Big5 (mostly rare Chinese characters, private-use
characters) and control characters mark a wrong encoding; the candidates UTF-8, GB18030, Big5 and
Windows-1252 are tried and the one that reads the file cleanly is named, so the import can refuse
with "this file looks like GB18030".
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

SAMPLE_BYTES = 256 * 1024

# Encodings offered to the user (Python codec names); "utf-8-sig" also reads plain UTF-8.
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030", "big5", "utf-16", "utf-16-le", "utf-16-be")

ENCODING_LABELS = {
    "utf-8-sig": "UTF-8", "gb18030": "GB18030 / GBK", "big5": "Big5", "utf-16": "UTF-16 (with BOM)",
    "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "cp1252": "Windows-1252 (Western European)",
}

# What a wrongly decoded file is checked against, in order of preference.
CANDIDATES: tuple[str, ...] = ("utf-8-sig", "gb18030", "big5", "cp1252")

# The name to give ``--encoding`` for a codec.
OPTION_NAMES = {"utf-8-sig": "utf-8", "gb18030": "gb18030", "big5": "big5", "cp1252": "cp1252",
                "utf-16": "utf-16", "utf-16-le": "utf-16le", "utf-16-be": "utf-16be", "utf-32": "utf-32"}

_ALIASES = {
    "utf8": "utf-8-sig", "utf-8": "utf-8-sig", "utf_8": "utf-8-sig", "utf-8-sig": "utf-8-sig",
    "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "cp936": "gb18030",
    "big5": "big5", "big5hkscs": "big5hkscs", "cp950": "big5",
    "utf16": "utf-16", "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16-le": "utf-16-le",
    "utf-16be": "utf-16-be", "utf-16-be": "utf-16-be",
    "cp1252": "cp1252", "windows-1252": "cp1252", "win1252": "cp1252",
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
        accepted = ", ".join(sorted({"UTF-8", "GBK", "GB18030", "Big5", "UTF-16", "UTF-16LE", "UTF-16BE",
                                     "Windows-1252"}))
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
    except UnicodeError:  # UnicodeDecodeError, or UTF-16 without a byte order mark
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
            scored.append((chinese_plausibility(text), codec, text))
    latin = _strict(sample, "cp1252", truncated)
    latin_guess = None
    if latin is not None and judge(latin, "cp1252").clean:
        latin_guess = EncodingGuess("cp1252", 0.6, "not UTF-8 or Chinese; reads as Western European (Windows-1252) text")
    if scored:
        scored.sort(key=lambda entry: entry[:2], reverse=True)
        best_score, codec, text = scored[0]
        if latin_guess is not None and judge(text, codec).rare_cjk:
            return latin_guess  # accented Latin letters that happen to pair up into rare Chinese characters
        if len(scored) == 1:
            confidence = 0.6 + 0.35 * best_score
            reason = f"decodes only as {ENCODING_LABELS[codec]}"
        else:
            margin = best_score - scored[1][0]
            confidence = max(0.3, min(0.95, 0.5 + margin))
            reason = f"{ENCODING_LABELS[codec]}: {best_score:.0%} common Chinese characters"
        return EncodingGuess(codec, round(confidence, 2), reason)
    if latin_guess is not None:
        return latin_guess
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


# -- is the decoded text what the file says? ----------------------------------------------------------

# Characters that the upper half of Windows-1252 / Latin-1 decodes to. Chinese (GBK, Big5, UTF-8)
# bytes read that way come out as long runs of them ("ÉÌÆ·Ãû³Æ", "å•†å“"); Western text has them
# one at a time between ASCII letters ("Größe", "crème").
_LATIN_HIGH = frozenset(
    [chr(c) for c in range(0xA0, 0x100)]
    + list("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ")
)
_UTF8_AS_LATIN = re.compile("[ÃÂâ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
MIN_CJK_JUDGED = 10  # fewer Chinese characters than this say nothing about the encoding
COMMON_CJK_FLOOR = 0.2  # right decodes give 0.5-0.9 common characters, wrong ones under 0.1


@dataclass(frozen=True)
class Decoding:
    """How a decoded text looks; ``clean`` when nothing points to a wrong encoding."""

    encoding: str
    chars: int  # characters judged (not counting white space)
    replacements: int = 0  # bytes that did not decode
    cjk: int = 0
    common_cjk: float = 0.0  # share of the Chinese characters that are common ones
    latin_high: int = 0  # characters of the Windows-1252 upper half
    latin_runs: int = 0  # ... of them in runs of three or more ("ção" makes none, "ÉÌÆ" does)
    utf8_pairs: int = 0  # "Ã©"-like pairs: UTF-8 read as Windows-1252
    controls: int = 0  # control and private-use characters (not tab or line breaks)
    glued_cjk: int = 0  # Chinese characters with a Latin letter right before and after ("Gr鰏e" for "Größe")

    @property
    def mojibake(self) -> bool:
        """Chinese or UTF-8 bytes read as Windows-1252/Latin-1."""
        runs = self.latin_high >= 6 and self.latin_runs >= 0.5 * self.latin_high
        return runs or self.utf8_pairs >= 3

    @property
    def rare_cjk(self) -> bool:
        if self.glued_cjk and self.glued_cjk >= 0.3 * self.cjk and self.common_cjk < 0.5:
            return True  # accented Latin letters paired up into Chinese characters
        if self.cjk >= MIN_CJK_JUDGED:
            return self.common_cjk < COMMON_CJK_FLOOR
        return self.cjk >= 3 and self.common_cjk == 0.0

    @property
    def clean(self) -> bool:
        return not (self.replacements or self.mojibake or self.rare_cjk or self.controls > 0.01 * max(self.chars, 1))

    @property
    def hopeless(self) -> bool:
        """Garbled even if no other encoding reads the file better (a few damaged bytes are not)."""
        return (self.replacements > max(2, 0.01 * self.chars) or self.mojibake
                or self.controls > 0.05 * max(self.chars, 1))

    def problem(self) -> str:
        """What points to a wrong encoding, in words."""
        label = ENCODING_LABELS.get(self.encoding, self.encoding)
        if self.replacements:
            return f"{self.replacements:,} byte sequence(s) are not valid {label}"
        if self.mojibake:
            return "the text comes out as runs of accented Latin letters (like 'Ã¤Â'), the mark of Chinese or UTF-8 " \
                   f"bytes read as {label}"
        if self.rare_cjk:
            return f"only {self.common_cjk:.0%} of its {self.cjk:,} Chinese characters are common ones, the mark of " \
                   "UTF-8 or another Chinese encoding read as " + label
        if self.controls:
            return f"{self.controls:,} control or private-use characters"
        return "nothing"


def judge(text: str, encoding: str, replacements: int | None = None) -> Decoding:
    """How plausible ``text`` is as the decoding of a catalog file in ``encoding``;
    ``replacements`` counts undecodable bytes (else the U+FFFD characters in ``text``)."""
    chars = cjk = common = high = runs = controls = glued = 0
    run = 0  # length of the current run of upper-half characters

    def end_run() -> None:
        nonlocal run, runs
        if run >= 3:
            runs += run
        run = 0

    for index, ch in enumerate(text):
        code = ord(ch)
        if ch in _LATIN_HIGH:
            chars += 1
            high += 1
            run += 1
            continue
        end_run()
        if ch in " \t\r\n":
            continue
        chars += 1
        if code < 0x80:
            if code < 0x20 or code == 0x7F:
                controls += 1
        elif 0x80 <= code < 0xA0 or 0xE000 <= code < 0xF900:
            controls += 1
        elif 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
            cjk += 1
            if ch in _COMMON:
                common += 1
            following = text[index + 1] if index + 1 < len(text) else ""
            if index and text[index - 1].isascii() and text[index - 1].isalpha() and following.isascii() \
                    and following.isalpha():
                glued += 1
    end_run()
    return Decoding(
        encoding=encoding, chars=chars,
        replacements=text.count("\ufffd") if replacements is None else replacements,
        cjk=cjk, common_cjk=common / cjk if cjk else 0.0, latin_high=high, latin_runs=runs,
        utf8_pairs=len(_UTF8_AS_LATIN.findall(text)) if high else 0, controls=controls, glued_cjk=glued,
    )


def _decoded_sample(sample: bytes, codec: str, truncated: bool) -> tuple[str, int]:
    """The text of ``sample`` in ``codec`` and how many bytes did not decode."""
    strict = _strict(sample, codec, truncated)
    if strict is not None:
        return strict, 0
    decoder = codecs.getincrementaldecoder(codec)("replace")
    try:
        text = decoder.decode(sample, final=not truncated)
    except UnicodeError:  # not even replacing helps (UTF-16 without a byte order mark)
        return "", max(1, len(sample))
    return text, max(1, text.count("\ufffd") - _strict_count(sample, codec))


def _strict_count(sample: bytes, codec: str) -> int:
    """U+FFFD characters the file itself holds (UTF-8 EF BF BD), not decoding failures."""
    return sample.count(b"\xef\xbf\xbd") if codec.startswith("utf-8") else 0


@dataclass(frozen=True)
class Garbled:
    """A decoding that points to a wrong encoding, and the encoding that reads the file cleanly."""

    tried: Decoding
    likely: EncodingGuess | None
    bad_lines: int = 0  # lines with undecodable bytes in the whole file

    def message(self, name: str) -> str:
        label = ENCODING_LABELS.get(self.tried.encoding, self.tried.encoding)
        problem = self.tried.problem()
        if self.bad_lines:
            problem = f"{self.bad_lines:,} line(s) hold bytes that are not valid {label}"
        text = f"{name} does not read as {label}: {problem}."
        if self.likely is not None:
            option = OPTION_NAMES.get(self.likely.encoding, self.likely.encoding)
            return (f"{text} This file looks like {self.likely.label}; import it again with that encoding "
                    f"(--encoding {option}). Nothing was imported.")
        others = ", ".join(ENCODING_LABELS[c] for c in CANDIDATES if c != self.tried.encoding)
        return (f"{text} It does not read cleanly as {others} either: it may be damaged or in another encoding. "
                "Open it in a spreadsheet program, save it as CSV UTF-8 and import it again. Nothing was imported.")


def _bad_line_bytes(data: bytes, bad_lines: list[int], limit: int = 200) -> bytes:
    """The raw lines (1-based numbers) where decoding failed, for judging other encodings there."""
    wanted = set(bad_lines[:limit])
    last = max(wanted) if wanted else 0
    pieces = []
    position, line = 0, 1
    while line <= last and position <= len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end + 1
        if line in wanted:
            pieces.append(data[position:end])
        position, line = end, line + 1
        if end >= len(data):
            break
    return b"".join(pieces)


def garbled(data: bytes, text: str, encoding: str, bad_lines: list[int] | None = None) -> Garbled | None:
    """None when ``text`` (``data`` decoded as ``encoding``, with undecodable bytes on
    ``bad_lines``) reads plausibly; else what is wrong and, when one of ``CANDIDATES`` (or the
    detected encoding) reads the file cleanly, that one. A handful of undecodable bytes that no
    encoding reads better is not reported here (the reader notes their lines)."""
    codec = encoding.lower()
    bad_lines = bad_lines or []
    if codec.startswith("utf-8") and not bad_lines:
        return None  # valid UTF-8: no other encoding explains non-ASCII bytes that well
    truncated = len(data) > SAMPLE_BYTES
    sample = data[:SAMPLE_BYTES]
    bad_part = _bad_line_bytes(data, bad_lines) if bad_lines and not codec.startswith("utf-16") else b""

    def decoded(candidate: str) -> Decoding:
        head_text, head_bad = _decoded_sample(sample, candidate, truncated)
        wide = candidate.lower().startswith(("utf-16", "utf-32"))  # lines cut at b"\n" do not decode there
        bad_text, bad_bad = _decoded_sample(bad_part, candidate, False) if bad_part and not wide else ("", 0)
        return judge(head_text + "\n" + bad_text, candidate, replacements=head_bad + bad_bad)

    try:
        tried = decoded(encoding)
    except LookupError:
        return None
    if bad_lines and not tried.replacements:  # beyond the sample: judge by the count of bad lines
        tried = judge(text[:SAMPLE_BYTES], encoding, replacements=len(bad_lines))
    if tried.clean:
        return None
    best: tuple[tuple[float, int], str] | None = None
    for rank, candidate in enumerate(dict.fromkeys((detect_encoding(data).encoding, *CANDIDATES))):
        if codecs.lookup(candidate).name == codecs.lookup(encoding).name or \
                (candidate == "utf-8-sig" and codec.startswith("utf-8")):
            continue
        try:
            verdict = decoded(candidate)
        except LookupError:
            continue
        if not verdict.clean:
            continue
        score = ((verdict.common_cjk if verdict.cjk >= MIN_CJK_JUDGED else 0.0), -rank)
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is not None:
        likely = best[1]
        return Garbled(tried, EncodingGuess(likely, 0.9, f"reads cleanly as {ENCODING_LABELS.get(likely, likely)}"),
                       len(bad_lines))
    if tried.hopeless or (tried.rare_cjk and tried.replacements):
        return Garbled(tried, None, len(bad_lines))
    return None


def header_looks_garbled(header: list[str]) -> bool:
    """A header row with undecodable bytes or mojibake (its column mapping is not saved)."""
    text = "\n".join(header)
    verdict = judge(text, "header")
    few_cjk_rare = verdict.cjk >= 4 and verdict.common_cjk < COMMON_CJK_FLOOR
    return bool(verdict.replacements or verdict.controls or verdict.utf8_pairs
                or (verdict.latin_high >= 4 and verdict.latin_runs >= 0.5 * verdict.latin_high) or few_cjk_rare)
