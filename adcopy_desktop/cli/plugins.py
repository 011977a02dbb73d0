"""``adcopy plugins`` (list, install, remove; keygen, sign and trust for wheel signatures) and
``adcopy styles list``: what plugins provide."""

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
    if provenance.get("signed"):
        signer = provenance.get("signer")
        details.append(f"signed by {signer} (key {provenance.get('key')})" if signer else "signed")
    else:
        details.append("unsigned")
    return f"{provenance.get('source') or '?'} ({', '.join(details)})"


@plugins.command("install")
@click.argument("wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Install an unsigned wheel without asking.")
def plugins_install(wheel: Path, assume_yes: bool) -> None:
    """Install a plugin from a pure-Python wheel (.whl) into the plugin folder; no pip needed.

    A wheel with a signature (FILE.whl.sig) that a key in trusted_plugin_keys verifies installs as
    signed; a signature that no trusted key verifies is refused. For any other wheel it shows the
    sha256 (compare it with the one the plugin's author published) and asks before installing."""
    import sys

    from adcopy_desktop.core.plugins import ACTIVE, PluginManager
    from adcopy_desktop.core.plugins.provenance import wheel_sha256
    from adcopy_desktop.core.plugins.signing import check_signature
    from adcopy_desktop.core.plugins.wheels import inspect_wheel, install_wheel

    checked = inspect_wheel(wheel)
    signature = check_signature(wheel)
    if signature.signed:
        click.echo(f"{wheel.name} is {signature.describe()}.", err=True)
    else:
        click.echo(f"warning: {wheel.name} ({checked.project_name} {checked.version}) is not signed, so AdCopy "
                   f"cannot tell who built it. sha256 {wheel_sha256(wheel)}: compare it with the one its author "
                   "published. A plugin runs in its own process without your shop keys, but with your user's "
                   f"rights: it can read and change your files and use the network. (Unsigned: {signature.note}.)",
                   err=True)
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


@plugins.command("keygen")
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
def plugins_keygen(key_file: Path) -> None:
    """Make an Ed25519 key pair for signing your plugin wheels: the private key goes into KEY_FILE
    (keep it secret), the public key is printed (publish it; users add it with 'adcopy plugins trust')."""
    import os

    from adcopy_desktop.core.plugins.signing import generate_key, key_fingerprint, parse_public_key

    if key_file.exists():
        fail(f"{key_file} exists; choose another file (a key is never overwritten).")
    private, public = generate_key()
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(private)
    click.echo(f"Private key written to {key_file} (keep it secret).")
    click.echo(f"Public key (fingerprint {key_fingerprint(parse_public_key(public))}): {public}")


@plugins.command("sign")
@click.argument("wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The private key from 'adcopy plugins keygen'.")
def plugins_sign(wheel: Path, key_file: Path) -> None:
    """Sign a wheel: writes WHEEL.sig next to it (publish both files)."""
    from adcopy_desktop.core.plugins.signing import public_key_of, sign_wheel

    try:
        private = key_file.read_bytes()
        path = sign_wheel(wheel, private)
        public = public_key_of(private)
    except (ValueError, TypeError) as error:
        fail(f"{key_file} is not an unencrypted private key: {error}")
    click.echo(f"Signed {wheel.name}: {path} (public key {public})")


@plugins.command("trust")
@click.argument("name")
@click.argument("public_key", required=False)
@click.option("--remove", is_flag=True, help="Stop trusting the key called NAME.")
def plugins_trust(name: str, public_key: str | None, remove: bool) -> None:
    """Trust a publisher's public key (base64 or PEM) for wheel signatures, under NAME; --remove
    forgets it. The keys are kept in settings.json (trusted_plugin_keys)."""
    from adcopy_desktop.core.plugins.signing import key_fingerprint, parse_public_key
    from adcopy_desktop.core.settings import load_settings, save_settings

    settings = load_settings()
    kept = [entry for entry in settings.trusted_plugin_keys
            if not (isinstance(entry, dict) and entry.get("name") == name)]
    if remove:
        if len(kept) == len(settings.trusted_plugin_keys):
            fail(f"No trusted key is called {name!r}.")
        settings.trusted_plugin_keys = kept
        save_settings(settings)
        click.echo(f"Wheels signed by {name} are no longer trusted.")
        return
    if not public_key:
        fail("Give the publisher's public key (or --remove).")
    try:
        raw = parse_public_key(public_key)
    except ValueError as error:
        fail(f"That is not an Ed25519 public key: {error}")
    settings.trusted_plugin_keys = [*kept, {"name": name, "key": public_key.strip()}]
    save_settings(settings)
    click.echo(f"Trusting wheels signed by {name} (key {key_fingerprint(raw)}).")


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
