"""Shop credentials in the operating system's keyring, and never anywhere else.

Tokens and keys are stored with ``keyring`` under the service ``adcopy`` and a name made of the
target, the shop URL and the field (``shopify|https://x.myshopify.com|token``). There is no
plaintext fallback: without a working keyring every call raises ``KeyringUnavailableError``
saying how to get one. Every value read or stored here is also remembered for ``redact``, which
the log record factory (installed on first use) and the outbox's error records apply, so a token
that a shop echoes back in an error still never reaches a log, the library or a report.
"""

from __future__ import annotations

import logging
import threading

from adcopy_desktop.core.errors import AdCopyError

SERVICE = "adcopy"
MASK = "[redacted]"

_known: set[str] = set()
_lock = threading.Lock()
_factory_installed = False


class KeyringUnavailableError(AdCopyError):
    """No usable OS keyring: credentials are not stored anywhere else."""


class MissingCredentialsError(AdCopyError):
    """The keyring holds no credentials for this shop."""


NO_KEYRING_HELP = (
    "No system keyring is available, so AdCopy cannot store or read shop access keys (it never keeps "
    "them in a plain file). On Windows and macOS the keyring is built in; on Linux start a Secret "
    "Service (GNOME Keyring or KWallet) in your desktop session and unlock it, then try again."
)


def credential_name(target: str, destination: str, field: str) -> str:
    return f"{target}|{destination}|{field}"


def store_credentials(target: str, destination: str, values: dict[str, str]) -> None:
    """Save each field (token, consumer_key, ...) in the keyring; nothing is written if one is empty."""
    empty = [name for name, value in values.items() if not value]
    if empty:
        raise MissingCredentialsError(f"{', '.join(empty)} must not be empty.")
    backend = _backend()
    for name, value in values.items():
        remember(value)
        _call(backend.set_password, SERVICE, credential_name(target, destination, name), value)


def load_credentials(target: str, destination: str, fields: tuple[str, ...]) -> dict[str, str]:
    backend = _backend()
    values: dict[str, str] = {}
    for name in fields:
        value = _call(backend.get_password, SERVICE, credential_name(target, destination, name))
        if not value:
            raise MissingCredentialsError(
                f"No {name.replace('_', ' ')} is stored for {target} at {destination}. Store it with "
                f"'adcopy shops add {target} --shop-url {destination}' (or in the export dialog)."
            )
        remember(value)
        values[name] = value
    return values


def delete_credentials(target: str, destination: str, fields: tuple[str, ...]) -> None:
    import keyring.errors

    backend = _backend()
    for name in fields:
        try:
            backend.delete_password(SERVICE, credential_name(target, destination, name))
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as error:
            raise KeyringUnavailableError(f"{NO_KEYRING_HELP} ({type(error).__name__})") from None


def require_keyring() -> None:
    """Raise KeyringUnavailableError (with how to get one) unless a real keyring is there."""
    _backend()


def keyring_available() -> bool:
    try:
        _backend()
    except KeyringUnavailableError:
        return False
    return True


def _backend():
    import keyring
    import keyring.backends.fail
    import keyring.errors

    try:
        backend = keyring.get_keyring()
    except keyring.errors.KeyringError as error:
        raise KeyringUnavailableError(f"{NO_KEYRING_HELP} ({type(error).__name__})") from None
    if isinstance(backend, keyring.backends.fail.Keyring) or _is_empty_chain(backend):
        raise KeyringUnavailableError(NO_KEYRING_HELP)
    if type(backend).__module__.startswith("keyrings.alt"):
        raise KeyringUnavailableError(
            f"The configured keyring ({type(backend).__name__}) keeps secrets in a readable file. "
            + NO_KEYRING_HELP)
    return backend


def _is_empty_chain(backend) -> bool:
    from keyring.backends.chainer import ChainerBackend

    return isinstance(backend, ChainerBackend) and not backend.backends


def _call(method, *args):
    import keyring.errors

    try:
        return method(*args)
    except keyring.errors.KeyringError as error:
        raise KeyringUnavailableError(f"{NO_KEYRING_HELP} ({type(error).__name__})") from None


# -- redaction -----------------------------------------------------------------------------------


def remember(value: str) -> None:
    """Treat ``value`` as secret for the rest of the process (logs, stored errors)."""
    if not value or len(value) < 4:
        return
    with _lock:
        _known.add(value)
    _install_log_redaction()


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by [redacted]."""
    if not _known or not text:
        return text
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _install_log_redaction() -> None:
    """Wrap the log record factory once: every record of every logger has its message redacted
    before any handler formats it."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if _known:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record: leave it to logging's own error handling
                return record
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                if redact(str(exc)) != str(exc):
                    record.exc_info, record.exc_text = None, None
                    record.msg = f"{record.msg} ({type(exc).__name__}: {redact(str(exc))})"
        return record

    logging.setLogRecordFactory(factory)
