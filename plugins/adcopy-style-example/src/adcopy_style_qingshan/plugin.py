"""The hooks this plugin implements. AdCopy imports this module through the entry point in
pyproject.toml ([project.entry-points.adcopy]) and calls the functions marked @hookimpl.

- register_styles: hands AdCopy the style file (voice, examples, word and length rules);
  AdCopy validates it and rejects the plugin, naming it, if something is wrong.
- process_candidate: a house rule applied to every candidate written in this style.
"""

from __future__ import annotations

import re
from importlib.resources import files

from adcopy_desktop.core.plugins import hookimpl

STYLE_NAME = "qingshan"
STYLE_FILE = files("adcopy_style_qingshan") / "qingshan.toml"

# Small models often split or mis-case the brand name; the brand writes it one way only.
_BRAND_SPELLINGS = re.compile(r"\bqing[\s-]?shan\b", re.IGNORECASE)
_BRAND_NAME_ZH = re.compile(r"青\s+山")


@hookimpl
def register_styles(register):
    register(STYLE_FILE)


@hookimpl
def process_candidate(candidate, style):
    """Write the brand name the brand's way ("Qingshan", "青山"); touch nothing else.

    Only for copy written in this style: other styles' candidates are left alone (return None)."""
    if style is None or style.name != STYLE_NAME:
        return None
    text = _BRAND_SPELLINGS.sub("Qingshan", candidate.text)
    text = _BRAND_NAME_ZH.sub("青山", text)
    if text != candidate.text:
        candidate.text = text
    return candidate
