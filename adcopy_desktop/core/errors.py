"""Errors the core raises for the user to read: each says what was wrong and what to do."""


class AdCopyError(Exception):
    """Base of every error meant to be shown to the user as it is."""


class ProductParseError(AdCopyError, ValueError):
    """Product input that cannot be read; ``position`` points at the offending part."""

    def __init__(self, message: str, *, position: int | None = None, fragment: str | None = None):
        super().__init__(message)
        self.position = position
        self.fragment = fragment


class ModelError(AdCopyError):
    """A model that cannot be built, imported or loaded."""


class ModelNotReadyError(ModelError):
    """No usable model is installed yet."""


class CorruptModelError(ModelError):
    """A model folder whose files do not match its manifest."""


class UnsupportedLanguageError(AdCopyError):
    """The active model cannot write the requested language."""


class Cancelled(AdCopyError):
    """Long work (a build, an import) was stopped by the user; nothing was left half-done."""


class GenerationCancelled(Cancelled):
    """Generation was stopped by the caller."""


class PluginError(AdCopyError):
    """A plugin that cannot be installed, found or used; the message names the plugin."""


class StyleError(AdCopyError, ValueError):
    """A brand style that is malformed, unknown, or does not cover the requested language."""
