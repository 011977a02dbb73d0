"""Real ``adcopy serve`` processes on 127.0.0.1 for tests: each in its own ADCOPY_HOME holding the
tiny random-weight model, on a free port (``--port 0``; the address is read from its first line)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

READY = re.compile(r"^serving (\S+) on (http://\S+)$")


@dataclass
class ServeProcess:
    process: subprocess.Popen
    url: str  # http://127.0.0.1:PORT/v1
    model: str
    home: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no goodbye, connections just drop (a crashed or unplugged server)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def server_home(root: Path, models_root: Path) -> Path:
    """An ADCOPY_HOME whose models folder is a copy of ``models_root`` (the tiny model, active)."""
    home = root / "server-home"
    shutil.copytree(models_root, home / "data" / "models")
    return home


def start_server(home: Path, *args: str, timeout: float = 120.0) -> ServeProcess:
    env = {**os.environ, "ADCOPY_HOME": str(home), "ADCOPY_PLUGINS": "", "PYTHONUNBUFFERED": "1"}
    env.pop("ADCOPY_SAFE_MODE", None)
    log_path = home / f"serve-{time.monotonic_ns()}.log"
    home.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "adcopy_desktop", "serve", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=log_file, text=True, env=env)
    log_file.close()
    found: list[re.Match] = []

    def read_first_line() -> None:
        line = process.stdout.readline().strip()
        match = READY.match(line)
        if match:
            found.append(match)

    reader = threading.Thread(target=read_first_line, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        process.kill()
        process.wait(10)
        raise RuntimeError(f"adcopy serve did not start within {timeout:.0f} s:\n{log_path.read_text()}")
    return ServeProcess(process, found[0].group(2), found[0].group(1), home, log_path)
