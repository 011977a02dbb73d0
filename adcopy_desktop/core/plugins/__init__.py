"""AdCopy's plugin system (pluggy): hooks, the plugin manager, and what plugins register.

Write a plugin::

    from adcopy_desktop.core.plugins import hookimpl

    @hookimpl
    def register_styles(register):
        register(files(__package__) / "mybrand.toml")

and declare it in its pyproject.toml under ``[project.entry-points.adcopy]``. docs/plugins.md has
every hook with an example; ``plugins/adcopy-style-example`` is a complete plugin to copy.
"""

from adcopy_desktop.core.plugins.hookspecs import PROJECT_NAME, hookimpl, hookspec
from adcopy_desktop.core.plugins.manager import (
    ACTIVE,
    ALLOW_ALL,
    ALLOW_ENV,
    DISABLED,
    ENTRY_POINT_GROUP,
    FAILED,
    SAFE_MODE_ENV,
    SOURCE_BUILTIN,
    SOURCE_ENTRY_POINT,
    SOURCE_FOLDER,
    SOURCE_REGISTERED,
    PluginInfo,
    PluginManager,
    PluginProblem,
    canonical_name,
    configure_plugins,
    current_plugin_manager,
    get_plugin_manager,
    hook_names,
    reset_plugin_manager,
    set_plugin_manager,
)
from adcopy_desktop.core.plugins.registry import (
    Backend,
    BackendContext,
    Exporter,
    GenerationBackend,
    ImportContext,
    Importer,
    Score,
    ScoreContext,
    Scorer,
    ScoreSpan,
)
from adcopy_desktop.core.styles import BrandStyle, LengthRule, StyleExample, load_style_file

__all__ = [
    "ACTIVE",
    "ALLOW_ALL",
    "ALLOW_ENV",
    "DISABLED",
    "ENTRY_POINT_GROUP",
    "FAILED",
    "PROJECT_NAME",
    "SAFE_MODE_ENV",
    "SOURCE_BUILTIN",
    "SOURCE_ENTRY_POINT",
    "SOURCE_FOLDER",
    "SOURCE_REGISTERED",
    "Backend",
    "BackendContext",
    "BrandStyle",
    "Exporter",
    "GenerationBackend",
    "ImportContext",
    "Importer",
    "LengthRule",
    "PluginInfo",
    "PluginManager",
    "PluginProblem",
    "Score",
    "ScoreContext",
    "Scorer",
    "ScoreSpan",
    "StyleExample",
    "canonical_name",
    "configure_plugins",
    "current_plugin_manager",
    "get_plugin_manager",
    "hook_names",
    "hookimpl",
    "hookspec",
    "load_style_file",
    "reset_plugin_manager",
    "set_plugin_manager",
]
