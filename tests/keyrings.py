"""Keyring backends for tests: real ``keyring`` backend classes that keep secrets in memory.

``MemoryKeyring`` lives in this process. ``EnvKeyring`` starts from the JSON in the environment
variable ``ADCOPY_TEST_KEYRING`` (so a child process started by a test has the same secrets,
selected with ``PYTHON_KEYRING_BACKEND=tests.keyrings.EnvKeyring``); neither writes a file.
"""

from __future__ import annotations

import json
import os

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV = "ADCOPY_TEST_KEYRING"


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class EnvKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        for entry in json.loads(os.environ.get(ENV) or "[]"):
            self.values[(entry[0], entry[1])] = entry[2]


def env_value(keyring: MemoryKeyring) -> str:
    return json.dumps([[service, name, value] for (service, name), value in keyring.values.items()])
