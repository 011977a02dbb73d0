"""Puts a style's required words and preferred phrases into the prompt (``adjust_prompt``).

Forbidden words are deliberately left out of the prompt: naming a word to a small model makes it
more likely to appear. They are enforced after generation instead (regenerate, then flag).
"""

from __future__ import annotations

from adcopy_desktop.core.plugins import hookimpl
from adcopy_desktop.core.prompts import sanitize_fact

MAX_LISTED = 12

_TEXT = {
    "en": {
        "required": "Brand words: the copy must include {words}.",
        "preferred": "Where it reads naturally, use some of the brand's phrases: {words}.",
        "quote": "\"{}\"",
        "join": ", ",
    },
    "zh": {
        "required": "品牌用词：文案中必须出现{words}。",
        "preferred": "在读起来自然的前提下，可以用上品牌常用的表达：{words}。",
        "quote": "“{}”",
        "join": "、",
    },
}


def word_rules_section(style, language: str) -> str:
    text = _TEXT.get(language, _TEXT["en"])

    def listed(words) -> str:
        cleaned = [sanitize_fact(word) for word in words][:MAX_LISTED]
        return text["join"].join(text["quote"].format(word) for word in cleaned if word)

    lines = []
    required = listed(style.required_for(language))
    if required:
        lines.append(text["required"].format(words=required))
    preferred = listed(style.preferred_for(language))
    if preferred:
        lines.append(text["preferred"].format(words=preferred))
    return "\n".join(lines)


@hookimpl(tryfirst=True)
def adjust_prompt(messages, style, language):
    if style is None:
        return None
    section = word_rules_section(style, language)
    if not section:
        return None
    for message in messages:
        if message["role"] == "system":
            message["content"] = f"{message['content']}\n\n{section}"
            break
    return messages
