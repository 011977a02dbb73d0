"""The ``adcopy`` command, one module per command group.

``app.py`` holds the root group and the entry point and imports the group modules; every group
module imports only ``common.py`` (output formats, progress, errors) and the core, never another
command module (``tests/test_architecture.py`` checks). ``adcopy_desktop.cli.cli`` and
``adcopy_desktop.cli.main`` stay importable for scripts written before the split.
"""

from __future__ import annotations

from typing import Any

__all__ = ["cli", "main"]


def __getattr__(name: str) -> Any:  # lazy: importing cli.common must not load every command
    if name in __all__:
        from adcopy_desktop.cli import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
