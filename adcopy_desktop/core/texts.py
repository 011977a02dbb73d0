"""What the core says to people about copy, in every language the app speaks.

A ``Text`` is a template key of ``TEMPLATES`` and its values; ``render(language)`` fills that
language's template. Values are plain values (numbers keep their format spec: ``{d2:.2f}``), other
Texts and ``Joined`` lists (rendered in the same language), or ``Translated`` strings a caller has
in each language already (a copy kind's name, a message whose English comes from elsewhere).

Built-in scorers build their labels and explanations from Texts (``translated_score``): a
``Score`` keeps the English rendering in ``label``/``explanation`` (the CLI, logs and JSON read
those) and every other language's in ``localized``, so the interface shows a verdict in its own
language without scoring again. A plugin scorer may fill ``localized`` itself; one that does not is
shown in its own words. Every template has every language (tests/core/test_texts.py checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from adcopy_desktop.core.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

if TYPE_CHECKING:
    from adcopy_desktop.core.plugins import Score, ScoreSpan

# Languages other than English, which ``Score.localized`` and scorer ``labels`` carry.
TRANSLATED_LANGUAGES = tuple(code for code in SUPPORTED_LANGUAGES if code != DEFAULT_LANGUAGE)

TEMPLATES: dict[str, dict[str, str]] = {
    # -- shared words --------------------------------------------------------------------------
    "quote": {"en": "'{value}'", "zh": "“{value}”"},
    "empty": {"en": "empty", "zh": "空"},
    "empty.explanation": {"en": "The copy is empty.", "zh": "文案为空。"},
    "unit.chars": {"en": "characters", "zh": "字符"},
    "unit.cjk2": {"en": "Chinese characters", "zh": "汉字"},
    "unit.words": {"en": "words", "zh": "词"},
    "unit.characters": {"en": "characters", "zh": "字"},  # a style's or readability's measure of Chinese
    # -- scorer names ----------------------------------------------------------------------------
    "scorer.channel-rules": {"en": "Channel rules", "zh": "渠道规则"},
    "scorer.faithfulness": {"en": "Faithfulness", "zh": "忠实度"},
    "scorer.ad-compliance": {"en": "Advertising compliance", "zh": "广告合规"},
    "scorer.keyword-coverage": {"en": "Keyword coverage", "zh": "关键词覆盖"},
    "scorer.readability": {"en": "Readability", "zh": "可读性"},
    "scorer.repetition": {"en": "Repetition", "zh": "重复度"},
    "scorer.language-match": {"en": "Language match", "zh": "语言匹配"},
    "scorer.style-compliance": {"en": "Style compliance", "zh": "风格规范"},
    "scorer.quality-model": {"en": "Learned quality", "zh": "学习到的质量"},
    # -- a brand style's rules, as the insights name them ------------------------------------------
    "rule.forbidden_word": {"en": "forbidden word", "zh": "禁用词"},
    "rule.missing_required_word": {"en": "required word missing", "zh": "缺少必用词"},
    "rule.too_long": {"en": "too long", "zh": "过长"},
    "rule.too_short": {"en": "too short", "zh": "过短"},
    # -- the training gate's figures and answers ---------------------------------------------------
    "metric.heldout_loss": {"en": "held-out loss", "zh": "留出损失"},
    "metric.rouge_l": {"en": "ROUGE-L", "zh": "ROUGE-L"},
    "metric.bleu": {"en": "BLEU", "zh": "BLEU"},
    "metric.compliance_rate": {"en": "compliance rate", "zh": "合规率"},
    "metric.faithfulness_rate": {"en": "faithfulness rate", "zh": "忠实率"},
    "metric.forbidden_rate": {"en": "forbidden-word rate", "zh": "禁用词比例"},
    "metric.empty_rate": {"en": "empty-output rate", "zh": "空输出比例"},
    "gate.accepted": {"en": "accepted", "zh": "已采用"},
    "gate.refused": {"en": "refused", "zh": "未采用"},
    "gate.not_enough": {"en": "not enough held-out copy to tell", "zh": "留出文案不足，无法判断"},
    # -- why ranking sank a candidate -------------------------------------------------------------
    "ranking.reason": {"en": "{name}: {label}", "zh": "{name}：{label}"},
    "ranking.reason_detail": {"en": "{name}: {label} ({detail})", "zh": "{name}：{label}（{detail}）"},
    # -- channel rules ---------------------------------------------------------------------------
    "channel.unknown": {"en": "unknown channel", "zh": "未知渠道"},
    "channel.unknown.explanation": {"en": "Unknown channel(s) {names}; channels: {known}.",
                                    "zh": "未知渠道：{names}；可用渠道：{known}。"},
    "channel.no_rules": {"en": "no rules", "zh": "无规则"},
    "channel.no_rules.explanation": {"en": "No channel rule covers {kind} copy (rules {version}).",
                                     "zh": "没有渠道规则适用于{kind}文案（规则 {version}）。"},
    "channel.any": {"en": "any channel", "zh": "通用"},
    "channel.where": {"en": "{channel} {kind}", "zh": "{channel} {kind}"},
    "channel.problems": {"en": "{where}: {problems}.", "zh": "{where}：{problems}。"},
    "channel.fits_measured": {"en": "{where}: fits ({measured}).", "zh": "{where}：符合（{measured}）。"},
    "channel.fits_plain": {"en": "{where}: fits.", "zh": "{where}：符合。"},
    "channel.advice": {"en": "Checked as advice against the default channel; choose channels with --channel or "
                             "the brand style's channels.",
                       "zh": "按默认渠道给出的建议；用 --channel 或品牌风格的渠道指定要检查的渠道。"},
    "channel.version": {"en": "(channel rules {version})", "zh": "（渠道规则 {version}）"},
    "channel.over_limit": {"en": "over the channel limit", "zh": "超出渠道上限"},
    "channel.fits": {"en": "fits", "zh": "符合"},
    "channel.needs_edits": {"en": "needs edits", "zh": "需要修改"},
    "channel.measured": {"en": "{length}/{limit} {unit}", "zh": "{length}/{limit} {unit}"},
    "channel.over_hard": {"en": "{length} {unit}, {over} over the channel's limit of {limit}",
                          "zh": "{length} {unit}，超出渠道上限 {limit} 达 {over}"},
    "channel.over_soft": {"en": "{length} {unit}, {over} over the recommended maximum of {limit}",
                          "zh": "{length} {unit}，超出建议上限 {limit} 达 {over}"},
    "channel.note": {"en": "{problem} ({note})", "zh": "{problem}（{note}）"},
    "channel.under": {"en": "{length} {unit}, under the minimum of {limit}",
                      "zh": "{length} {unit}，少于最低要求 {limit}"},
    "channel.single_line": {"en": "the field holds one line, the copy has several",
                            "zh": "该字段只能写一行，文案有多行"},
    "channel.too_many_bullets": {"en": "{count} bullets; at most {limit}", "zh": "{count} 条要点；最多 {limit} 条"},
    "channel.too_few_bullets": {"en": "{count} bullets; at least {limit}", "zh": "{count} 条要点；至少 {limit} 条"},
    "channel.too_few_bullets_one": {"en": "{count} bullet; at least {limit}", "zh": "{count} 条要点；至少 {limit} 条"},
    "channel.long_bullet": {"en": "a bullet of {length} {unit}; keep each under {limit}",
                            "zh": "有一条要点 {length} {unit}；每条应少于 {limit}"},
    "channel.forbidden_char": {"en": "'{char}' is not allowed here", "zh": "此处不允许使用“{char}”"},
    "channel.no_emoji": {"en": "emoji are not allowed here", "zh": "此处不允许使用表情符号"},
    # -- faithfulness ----------------------------------------------------------------------------
    "faithfulness.no_facts": {"en": "no facts", "zh": "无属性"},
    "faithfulness.no_facts.explanation": {
        "en": "No product facts were given, so faithfulness cannot be checked.",
        "zh": "没有给出商品属性，无法检查忠实度。"},
    "faithfulness.reflects": {"en": "Reflects {reflected} of {checked} given values.",
                              "zh": "体现了 {checked} 个给定属性值中的 {reflected} 个。"},
    "faithfulness.reflects_missing": {"en": "Reflects {reflected} of {checked} given values (missing: {missing}).",
                                      "zh": "体现了 {checked} 个给定属性值中的 {reflected} 个（缺少：{missing}）。"},
    "faithfulness.unchecked": {"en": "Cannot check in this language: {values}.",
                               "zh": "无法用这种语言检查：{values}。"},
    "faithfulness.unsupported": {"en": "Not supported by the product's facts: {claims}.",
                                 "zh": "商品属性不支持这些说法：{claims}。"},
    "faithfulness.claim": {"en": "'{text}' ({kind})", "zh": "“{text}”（{kind}）"},
    "faithfulness.colour_rule": {"en": "A colour needs the product's attributes to name it or a shade of it.",
                                 "zh": "颜色须是商品属性写明的颜色或它的一种深浅。"},
    "faithfulness.no_claims": {"en": "No claims beyond the given facts.", "zh": "没有超出给定属性的说法。"},
    "faithfulness.unsupported_claims": {"en": "unsupported claims", "zh": "无依据的说法"},
    "faithfulness.missing_facts": {"en": "missing facts", "zh": "缺少属性"},
    "faithfulness.faithful": {"en": "faithful", "zh": "忠实"},
    "claim.number": {"en": "number", "zh": "数字"},
    "claim.material": {"en": "material", "zh": "材质"},
    "claim.colour": {"en": "colour", "zh": "颜色"},
    "claim.certification": {"en": "certification or label", "zh": "认证或标签"},
    "claim.superlative": {"en": "superlative", "zh": "绝对化用语"},
    # -- advertising compliance --------------------------------------------------------------------
    "compliance.hit": {"en": "'{found}': {reason}", "zh": "“{found}”：{reason}"},
    "compliance.violation": {"en": "violation", "zh": "违规"},
    "compliance.violation.explanation": {"en": "Not allowed in advertising: {hits}. {version}",
                                         "zh": "广告中不允许使用：{hits}。{version}"},
    "compliance.needs_substantiation": {"en": "needs substantiation", "zh": "需要依据"},
    "compliance.needs_substantiation.explanation": {"en": "Check before publishing: {hits}. {version}",
                                                    "zh": "发布前请核实：{hits}。{version}"},
    "compliance.compliant": {"en": "compliant", "zh": "合规"},
    "compliance.compliant.explanation": {"en": "No listed advertising term found. {version}",
                                         "zh": "未发现词表中的广告用语。{version}"},
    "compliance.version": {"en": "(word list {version})", "zh": "（词表 {version}）"},
    # -- keyword coverage ------------------------------------------------------------------------
    "keywords.none": {"en": "no keywords", "zh": "无关键词"},
    "keywords.none.explanation": {
        "en": "No SEO keywords were given (product 'keywords'/'关键词', the style's keywords, or --keywords).",
        "zh": "没有给出 SEO 关键词（商品的“关键词”属性、品牌风格的关键词或 --keywords）。"},
    "keywords.coverage": {"en": "{covered} of {total} keywords.", "zh": "用到 {total} 个关键词中的 {covered} 个。"},
    "keywords.coverage_missing": {"en": "{covered} of {total} keywords; missing: {missing}.",
                                  "zh": "用到 {total} 个关键词中的 {covered} 个；缺少：{missing}。"},
    "keywords.all": {"en": "all keywords", "zh": "全部关键词"},
    "keywords.some": {"en": "some keywords", "zh": "部分关键词"},
    "keywords.unused": {"en": "no keywords used", "zh": "未用关键词"},
    # -- readability -----------------------------------------------------------------------------
    "readability.leftovers": {"en": "{count} leftover(s) from the model (labels, markdown, chat phrases)",
                              "zh": "{count} 处模型残留（标签、Markdown、对话用语）"},
    "readability.long_sentences": {"en": "{count} sentence(s) over {limit} {unit}",
                                   "zh": "{count} 个句子超过 {limit} {unit}"},
    "readability.capitals": {"en": "words in capitals", "zh": "全大写的单词"},
    "readability.detail_problems": {"en": "Average sentence {average:.0f} {unit}; {problems}.",
                                    "zh": "句子平均 {average:.0f} {unit}；{problems}。"},
    "readability.detail_clean": {"en": "Average sentence {average:.0f} {unit}; reads cleanly.",
                                 "zh": "句子平均 {average:.0f} {unit}；通顺易读。"},
    "readability.problems": {"en": "{problems}.", "zh": "{problems}。"},
    "readability.clean": {"en": "Reads cleanly.", "zh": "通顺易读。"},
    "readability.clear": {"en": "clear", "zh": "清晰"},
    "readability.hard": {"en": "hard to read", "zh": "难读"},
    "readability.could_be_clearer": {"en": "could be clearer", "zh": "可以更清晰"},
    # -- repetition ------------------------------------------------------------------------------
    "repetition.distinct": {"en": "Distinct-1 {d1:.2f}, distinct-2 {d2:.2f}.",
                            "zh": "distinct-1 {d1:.2f}，distinct-2 {d2:.2f}。"},
    "repetition.distinct_repeated": {"en": "Distinct-1 {d1:.2f}, distinct-2 {d2:.2f}; repeated: {repeats}.",
                                     "zh": "distinct-1 {d1:.2f}，distinct-2 {d2:.2f}；重复：{repeats}。"},
    "repetition.repeat": {"en": "'{phrase}' ×{count}", "zh": "“{phrase}”×{count}"},
    "repetition.varied": {"en": "varied", "zh": "多样"},
    "repetition.repetitive": {"en": "repetitive", "zh": "重复"},
    "repetition.some": {"en": "some repetition", "zh": "有些重复"},
    # -- language match --------------------------------------------------------------------------
    "language.no_words": {"en": "no words", "zh": "无文字"},
    "language.no_words.explanation": {"en": "The copy has no words to check.", "zh": "文案中没有可检查的文字。"},
    "language.explanation": {
        "en": "Asked for {wanted}; the copy reads as {detected} ({foreign:.0%} in the other script).",
        "zh": "要求写{wanted}；文案读来是{detected}（{foreign:.0%} 为另一种文字）。"},
    "language.matches": {"en": "matches", "zh": "匹配"},
    "language.wrong": {"en": "wrong language", "zh": "语言不对"},
    "language.mixed": {"en": "mixed", "zh": "混杂"},
    # -- style rules -----------------------------------------------------------------------------
    "style.violates": {"en": "violates rules", "zh": "违反规则"},
    "style.needs_edits": {"en": "needs edits", "zh": "需要修改"},
    "style.compliant": {"en": "compliant", "zh": "合规"},
    "style.no_problems": {"en": "No rule problems found.", "zh": "未发现规则问题。"},
    "style.forbidden_word": {"en": "'{word}' is forbidden by the style '{style}'",
                             "zh": "品牌风格“{style}”禁止使用“{word}”"},
    "style.missing_required_word": {"en": "'{word}' is required by the style '{style}' but missing",
                                    "zh": "品牌风格“{style}”要求出现“{word}”，但文案中没有"},
    "style.too_long": {"en": "{length} {unit}, over the style's maximum of {limit}",
                       "zh": "{length} {unit}，超出品牌风格的上限 {limit}"},
    "style.too_short": {"en": "{length} {unit}, under the style's minimum of {limit}",
                        "zh": "{length} {unit}，少于品牌风格的下限 {limit}"},
    # -- learned quality -------------------------------------------------------------------------
    "quality.needs_retraining": {"en": "needs retraining", "zh": "需要重新训练"},
    "quality.needs_retraining.explanation": {"en": "{error}", "zh": "质量模型需要重新训练：{error}"},
    "quality.not_trained": {"en": "not trained yet", "zh": "尚未训练"},
    "quality.not_trained.explanation": {
        "en": "Learns from the copy you accept and reject; it is used once it predicts your held-out decisions "
              "better than chance (at least {minimum} of each). Train now: adcopy quality train",
        "zh": "从你接受和拒绝的文案中学习；它对留出决定的预测好于随机（每类至少 {minimum} 个）后才参与排序。"
              "现在训练：adcopy quality train"},
    "quality.not_reliable": {"en": "not reliable yet", "zh": "尚不可靠"},
    "quality.not_reliable.explanation": {"en": "Not used for ranking: {summary}.", "zh": "暂不参与排序：{summary}。"},
    "quality.explanation": {"en": "{what} ({summary}).", "zh": "{what}（{summary}）。"},
    "quality.ctr": {"en": "predicted click-through {probability:.2%}, above {value:.0%} of your imported copy",
                    "zh": "预测点击率 {probability:.2%}，高于你导入文案的 {value:.0%}"},
    "quality.acceptance": {"en": "predicted acceptance {value:.0%}", "zh": "预测接受率 {value:.0%}"},
    "quality.summary": {"en": "{auc} on {examples} {what} ({reason})", "zh": "{auc}，{examples} 条{what}（{reason}）"},
    "quality.auc": {"en": "held-out AUC {auc:.3f}", "zh": "留出 AUC {auc:.3f}"},
    "quality.no_auc": {"en": "no held-out AUC", "zh": "无留出 AUC"},
    "quality.decisions": {"en": "decisions", "zh": "决定"},
    "quality.click_rows": {"en": "rows of click data", "zh": "点击数据"},
    "quality.gate.too_few": {"en": "needs at least {minimum} accepted and {minimum} rejected examples "
                                   "(has {positives:g} and {negatives:g})",
                             "zh": "至少需要 {minimum} 个接受和 {minimum} 个拒绝的例子（现有 {positives:g} 和 {negatives:g} 个）"},
    "quality.gate.no_auc": {"en": "no held-out AUC", "zh": "无留出 AUC"},
    "quality.gate.below_margin": {"en": "AUC {auc:.3f} is not above {threshold:.2f} (0.5 + margin {margin:g})",
                                  "zh": "AUC {auc:.3f} 未高于 {threshold:.2f}（0.5 + 余量 {margin:g}）"},
    "quality.gate.not_reliable": {"en": "AUC {auc:.3f} is not reliably above 0.5 yet (lower bound {lower:.3f}); "
                                        "more decisions needed",
                                  "zh": "AUC {auc:.3f} 还不能可靠地高于 0.5（下界 {lower:.3f}）；需要更多决定"},
    "quality.gate.usable": {"en": "AUC {auc:.3f} beats 0.5 + {margin:g} (lower bound {lower:.3f})",
                            "zh": "AUC {auc:.3f} 高于 0.5 + {margin:g}（下界 {lower:.3f}）"},
    "quality.likely_clicks": {"en": "likely clicks", "zh": "点击可能多"},
    "quality.average": {"en": "average", "zh": "一般"},
    "quality.few_clicks": {"en": "few clicks", "zh": "点击可能少"},
    "quality.likely_accepted": {"en": "likely accepted", "zh": "可能被接受"},
    "quality.uncertain": {"en": "uncertain", "zh": "不确定"},
    "quality.likely_rejected": {"en": "likely rejected", "zh": "可能被拒绝"},
}

SEPARATORS: dict[str, dict[str, str]] = {
    "list": {"en": ", ", "zh": "、"},
    "clauses": {"en": "; ", "zh": "；"},
    "sentences": {"en": " ", "zh": ""},
}


@dataclass(frozen=True)
class Text:
    """A template key of ``TEMPLATES`` and the values it is filled with."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    capitalized: bool = False  # the first letter in upper case (English sentences built from parts)

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        templates = TEMPLATES[self.key]
        template = templates.get(language) or templates[DEFAULT_LANGUAGE]
        text = template.format(**{name: _rendered(value, language) for name, value in self.values.items()})
        return text[:1].upper() + text[1:] if self.capitalized else text


@dataclass(frozen=True)
class Joined:
    """Items rendered and joined the language's way: ``list`` (", " / "、"), ``clauses`` ("; " /
    "；") or ``sentences`` (" " / nothing between Chinese sentences)."""

    items: Sequence[Any]
    separator: str = "list"

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        separators = SEPARATORS[self.separator]
        separator = separators.get(language, separators[DEFAULT_LANGUAGE])
        return separator.join(str(_rendered(item, language)) for item in self.items)


@dataclass(frozen=True)
class Translated:
    """Words the caller already has per language; English stands in for a language it lacks."""

    by_language: Mapping[str, str]

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        return str(self.by_language.get(language) or self.by_language.get(DEFAULT_LANGUAGE, ""))


def _rendered(value: Any, language: str) -> Any:
    return value.render(language) if isinstance(value, (Text, Joined, Translated)) else value


def template_fields(template: str) -> set[str]:
    """The value names a template uses ("{d1:.2f}" -> "d1")."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def kind_name(kind: str) -> Translated:
    """A copy kind as explanations name it: its id in English (as before), its label in Chinese."""
    from adcopy_desktop.core.prompts import copy_kind_label

    try:
        return Translated({DEFAULT_LANGUAGE: kind, **{code: copy_kind_label(kind, code) for code in TRANSLATED_LANGUAGES}})
    except ValueError:  # a kind a plugin made up
        return Translated({DEFAULT_LANGUAGE: kind})


def language_names(code: str) -> Translated:
    from adcopy_desktop.core.languages import language_name

    return Translated({language: language_name(code, language) for language in SUPPORTED_LANGUAGES})


def unit_text(unit: str) -> Text | str:
    """A length unit ("chars", "cjk2", "words", "characters") in words of each language."""
    return Text(f"unit.{unit}") if f"unit.{unit}" in TEMPLATES else unit


def scorer_labels(name: str) -> dict[str, str]:
    """A built-in scorer's name in the other languages (``Scorer.labels``)."""
    key = f"scorer.{name}"
    return {language: TEMPLATES[key][language] for language in TRANSLATED_LANGUAGES} if key in TEMPLATES else {}


def named(prefix: str, name: str) -> tuple[str, str]:
    """A rule's, metric's or answer's name in English and Chinese ("rule.", "metric.", "gate."),
    the name itself (underscores as spaces) where there is no template."""
    templates = TEMPLATES.get(f"{prefix}.{name}")
    if templates is None:
        return str(name).replace("_", " "), ""
    return templates[DEFAULT_LANGUAGE], templates.get("zh", "")


def localized(label: "Text | None", explanation: "Text | Joined | None") -> dict[str, dict[str, str]]:
    """``Score.localized`` for a label and an explanation: every language but English."""
    found: dict[str, dict[str, str]] = {}
    for language in TRANSLATED_LANGUAGES:
        entry = {}
        if label is not None:
            entry["label"] = label.render(language)
        if explanation is not None:
            entry["explanation"] = explanation.render(language)
        found[language] = entry
    return found


def translated_score(value: float, label: Text, explanation: "Text | Joined",
                     spans: "Sequence[ScoreSpan]" = (), **flags: bool) -> "Score":
    """A ``Score`` with its label and explanation in English and, in ``localized``, every other
    language; ``flags`` are ``hard_fail`` and ``abstained``."""
    from adcopy_desktop.core.plugins import Score

    return Score(value, label.render(), explanation.render(), spans=tuple(spans),
                 localized=localized(label, explanation), **flags)


# -- style rule flags ------------------------------------------------------------------------------

_FLAG_RULES = {"forbidden_word", "missing_required_word", "too_long", "too_short"}


def flag_text(flag: Mapping[str, Any]) -> Text | None:
    """A built-in style rule's flag (``BrandStyle.check``) as a Text, None for a rule we do not know."""
    rule = flag.get("rule")
    if rule not in _FLAG_RULES:
        return None
    if rule in ("too_long", "too_short"):
        return Text(f"style.{rule}", {"length": flag.get("length", ""), "limit": flag.get("limit", ""),
                                      "unit": unit_text(str(flag.get("unit", "")))})
    word = (flag.get("found") or flag.get("word", "")) if rule == "forbidden_word" else flag.get("word", "")
    return Text(f"style.{rule}", {"word": word, "style": flag.get("style", "")})


def flag_translated(flag: Mapping[str, Any]) -> Translated:
    """The flag's own message in English (what the style said) and, for a rule we know, in the
    other languages."""
    message = str(flag.get("message") or flag.get("rule", ""))
    known = flag_text(flag)
    others = {language: known.render(language) for language in TRANSLATED_LANGUAGES} if known is not None else {}
    return Translated({DEFAULT_LANGUAGE: message, **others})


def flag_message(flag: Mapping[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    """The flag's message in ``language`` (its own, where we do not know its rule)."""
    return flag_translated(flag).render(language)


def localized_field(entry: Mapping[str, Any], name: str, language: str) -> str:
    """``entry[name]`` in ``language`` from a score entry's ``localized``, else as it is."""
    translations = entry.get("localized")
    if language != DEFAULT_LANGUAGE and isinstance(translations, Mapping):
        found = translations.get(language)
        if isinstance(found, Mapping) and isinstance(found.get(name), str) and found[name]:
            return found[name]
    return str(entry.get(name) or "")


__all__ = [
    "Joined", "SEPARATORS", "TEMPLATES", "TRANSLATED_LANGUAGES", "Text", "Translated", "flag_message", "flag_text", "flag_translated",
    "kind_name", "language_names", "localized", "localized_field", "named", "scorer_labels", "template_fields", "translated_score",
    "unit_text",
]
