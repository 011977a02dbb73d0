"""Optional wheel signatures: FILE.whl.sig (Ed25519 over the wheel's bytes) verified at install by
the keys in trusted_plugin_keys; recorded, shown as signed by that key's name; a signature that
no trusted key verifies is refused."""

import base64
import json

import pytest

from adcopy_desktop.core.plugins import ACTIVE
from adcopy_desktop.core.plugins.provenance import PROVENANCE_FILE, wheel_signed
from adcopy_desktop.core.plugins.signing import (
    SignatureError,
    check_signature,
    generate_key,
    key_fingerprint,
    sign_wheel,
    signature_path,
    trusted_keys,
)
from adcopy_desktop.core.plugins.wheels import install_wheel
from adcopy_desktop.core.settings import load_settings, save_settings

from .helpers import build_wheel


@pytest.fixture
def publisher():
    private, public = generate_key()
    return private, public


def trust(*entries):
    settings = load_settings()
    settings.trusted_plugin_keys = list(entries)
    save_settings(settings)


def test_a_wheel_signed_by_a_trusted_key_installs_as_signed_by_its_name(tmp_path, plugins_dir, make_manager,
                                                                        publisher):
    private, public = publisher
    wheel, _ = build_wheel(tmp_path, "adcopy-style-signed", "1.0")
    assert sign_wheel(wheel, private) == signature_path(wheel) == tmp_path / (wheel.name + ".sig")
    assert not wheel_signed(wheel)  # no trusted key yet: unsigned
    assert "no trusted keys are set" in check_signature(wheel).note
    _, stranger = generate_key()
    trust({"name": "Someone else", "key": stranger}, {"name": "Acme Agency", "key": public},
          {"name": "bad", "key": "x"})
    check = check_signature(wheel)
    fingerprint = key_fingerprint(base64.b64decode(public))
    assert (check.signed, check.signer, check.fingerprint) == (True, "Acme Agency", fingerprint)
    assert check.describe() == f"signed by Acme Agency (key {fingerprint})"
    installed = install_wheel(wheel, plugins_dir)
    assert installed.signer == "Acme Agency"
    recorded = json.loads((installed.folder / PROVENANCE_FILE).read_text())
    assert (recorded["signed"], recorded["signer"], recorded["key"]) == (True, "Acme Agency", fingerprint)
    info = next(i for i in make_manager().plugins() if i.name == "adcopy-style-signed")
    assert info.status == ACTIVE
    assert info.provenance["signed"] is True and info.provenance["signer"] == "Acme Agency"


def test_a_signature_no_trusted_key_verifies_is_refused(tmp_path, plugins_dir, publisher):
    private, public = publisher
    wheel, _ = build_wheel(tmp_path, "adcopy-style-tampered", "1.0")
    sign_wheel(wheel, private)
    trust({"name": "Acme Agency", "key": public})
    with wheel.open("ab") as stream:  # changed after signing
        stream.write(b"\0")
    with pytest.raises(SignatureError, match="does not match .* with any trusted key"):
        install_wheel(wheel, plugins_dir)
    assert not (plugins_dir / "adcopy-style-tampered").exists()
    assert not wheel_signed(wheel)

    other, _ = build_wheel(tmp_path, "adcopy-style-other", "1.0")
    stranger_private, _ = generate_key()
    sign_wheel(other, stranger_private)  # signed, but by a key the user does not trust
    with pytest.raises(SignatureError, match="signed by a key you have not added"):
        install_wheel(other, plugins_dir)
    signature_path(other).write_text("not a signature\n")
    with pytest.raises(SignatureError, match="is not a signature"):
        check_signature(other)


def test_without_a_signature_file_a_wheel_is_unsigned(tmp_path, plugins_dir, publisher):
    _, public = publisher
    trust({"name": "Acme Agency", "key": public})
    wheel, _ = build_wheel(tmp_path, "adcopy-style-plain", "1.0")
    check = check_signature(wheel)
    assert not check.signed and f"there is no {wheel.name}.sig" == check.note
    installed = install_wheel(wheel, plugins_dir)
    assert installed.signer is None
    assert json.loads((installed.folder / PROVENANCE_FILE).read_text())["signed"] is False


def test_trusted_keys_accept_base64_and_pem_and_skip_bad_entries(publisher):
    from cryptography.hazmat.primitives import serialization

    private, public = publisher
    pem = serialization.load_pem_private_key(private, password=None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    keys = trusted_keys([{"name": "b64", "key": public}, {"name": "pem", "key": pem}, public,
                         {"name": "short", "key": base64.b64encode(b"x" * 31).decode()}, 42])
    assert [k.name for k in keys] == ["b64", "pem", key_fingerprint(base64.b64decode(public))]
    assert len({k.key for k in keys}) == 1
