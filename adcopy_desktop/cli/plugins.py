"""``adcopy plugins`` (list, install, remove) and ``adcopy styles list``: what plugins provide."""

from __future__ import annotations

import json
from pathlib import Path

import click

from adcopy_desktop.cli.common import fail


@click.group("plugins")
def plugins() -> None:
    """List, install and remove plugins (brand styles, scorers, importers, exporters, backends)."""


@plugins.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plugins_list(output_format: str) -> None:
    """Show every plugin: name, version, source, hooks and status (active, disabled, failed)."""
    from adcopy_desktop.core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    infos = manager.plugins()
    if output_format == "json":
        click.echo(json.dumps([info.to_dict() for info in infos], ensure_ascii=False, indent=2))
        return
    for info in infos:
        click.echo(f"{info.name:32} {info.version or '-':10} {info.source:14} {info.status}")
        if info.hooks:
            click.echo(f"    hooks: {', '.join(info.hooks)}")
        for kind, names in info.registered.items():
            click.echo(f"    {kind}s: {', '.join(names)}")
        if info.reason:
            click.echo(f"    {info.status}: {info.reason}")
        if info.provenance:
            click.echo(f"    from: {describe_provenance(info.provenance)}")
        if info.runs_in != "app" or not info.builtin:
            click.echo(f"    runs in: {info.runs_in}")
    if manager.safe_mode:
        click.echo("(safe mode: third-party plugins are not loaded)")


def describe_provenance(provenance: dict) -> str:
    """'<source> (sha256 <hex>, installed <time>, unsigned)' with what is known."""
    details = []
    if provenance.get("sha256"):
        details.append(f"sha256 {provenance['sha256']}")
    if provenance.get("installed"):
        details.append(f"installed {provenance['installed']}")
    details.append("signed" if provenance.get("signed") else "unsigned")
    return f"{provenance.get('source') or '?'} ({', '.join(details)})"


@plugins.command("install")
@click.argument("wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Install an unsigned wheel without asking.")
def plugins_install(wheel: Path, assume_yes: bool) -> None:
    """Install a plugin from a pure-Python wheel (.whl) into the plugin folder; no pip needed.

    Wheels carry no signature AdCopy could check, so it shows the wheel's sha256 (compare it with
    the one the plugin's author published) and asks before installing."""
    import sys

    from adcopy_desktop.core.plugins import ACTIVE, PluginManager
    from adcopy_desktop.core.plugins.provenance import wheel_sha256, wheel_signed
    from adcopy_desktop.core.plugins.wheels import inspect_wheel, install_wheel

    checked = inspect_wheel(wheel)
    if not wheel_signed(wheel):
        click.echo(f"warning: {wheel.name} ({checked.project_name} {checked.version}) is not signed, so AdCopy "
                   f"cannot tell who built it. sha256 {wheel_sha256(wheel)}: compare it with the one its author "
                   "published. A plugin runs in its own process without your shop keys, but with your user's "
                   "rights: it can read and change your files and use the network.", err=True)
        if not assume_yes:
            if not sys.stdin.isatty():
                fail("Not installed: there is no terminal to ask on. Run again with --yes to install it.")
            if not click.confirm("Install it?", default=False, err=True):
                fail("Not installed.")
    installed = install_wheel(wheel)
    replaced = f" (replacing {installed.replaced_version})" if installed.replaced_version else ""
    click.echo(f"Installed {installed.name} {installed.version}{replaced} into {installed.folder}")
    check = PluginManager(entry_points=[], safe_mode=False, allow=[installed.name], disabled=[])
    try:
        info = next((i for i in check.plugins() if i.source != "built-in" and i.matches([installed.name])), None)
    finally:
        check.close()
    if info is None or info.status != ACTIVE:
        reason = info.reason if info else "it was not found after unpacking"
        fail(f"{installed.name} is installed but does not load: {reason}. "
             f"Remove it with: adcopy plugins remove {installed.name}")
    provides = "; ".join(f"{kind}s: {', '.join(names)}" for kind, names in info.registered.items())
    click.echo(f"It loads and provides {provides or 'hooks: ' + ', '.join(info.hooks)}.")


@plugins.command("remove")
@click.argument("name")
def plugins_remove(name: str) -> None:
    """Remove a plugin installed with 'adcopy plugins install'."""
    from adcopy_desktop.core.plugins.wheels import remove_plugin

    folder = remove_plugin(name)
    click.echo(f"Removed {name} ({folder})")


@click.group("styles")
def styles() -> None:
    """Brand styles provided by plugins."""


@styles.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def styles_list(output_format: str) -> None:
    """Show every brand style with its languages and the plugin that provides it."""
    from adcopy_desktop.core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    found = manager.styles()
    if output_format == "json":
        data = []
        for name, style in found.items():
            owner = manager.provider_of("style", name)
            data.append({**style.to_dict(), "plugin": owner.name if owner else None})
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for name, style in found.items():
        owner = manager.provider_of("style", name)
        click.echo(f"{name:20} {'+'.join(style.languages):6} {style.display_name}  [{owner.name if owner else '?'}]")
