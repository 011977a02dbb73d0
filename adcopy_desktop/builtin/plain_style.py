"""The "plain" style: the default prompt templates with no brand voice, examples or word rules."""

from adcopy_desktop.core.plugins import BrandStyle, hookimpl

PLAIN = BrandStyle(
    name="plain",
    label="Plain (default prompts)",
    description="The built-in prompt templates (resources/prompts) with no brand voice or word rules.",
    languages=("zh", "en"),
    max_regenerations=0,
)


@hookimpl
def register_styles(register):
    register(PLAIN)
