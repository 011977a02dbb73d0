"""The log files: ``adcopy.log`` in the log folder (``paths.py``), rotated, with secrets taken out.

The CLI and the desktop app both call ``configure_logging``; it is safe to call again (a test or
a window rebuilt in another language), and it moves the file handler when ``ADCOPY_HOME`` changed.
Every line is written through ``core.redaction`` as well as ``core.secrets``' record factory, so a
token in a URL or a header a library logged never reaches the disk (or a diagnostics bundle).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from adcopy_desktop.core.redaction import redact_text
from adcopy_desktop.paths import user_folders

LOG_FILE = "adcopy.log"
MAX_BYTES = 2 * 1024 * 1024  # per file; with the backups at most 12 MB of logs
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOGGER = "adcopy"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line (message, arguments and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


class _AdCopyFileHandler(logging.handlers.RotatingFileHandler):
    """The handler ``configure_logging`` installs (told apart from handlers others add)."""


def log_file() -> Path:
    return user_folders().logs / LOG_FILE


def log_files() -> list[Path]:
    """The current log file and its rotated predecessors, newest first."""
    current = log_file()
    files = [current] + [current.with_name(f"{LOG_FILE}.{n}") for n in range(1, BACKUP_COUNT + 1)]
    return [path for path in files if path.is_file()]


def configure_logging(verbose: int = 0, *, console: bool | None = None) -> Path:
    """Log the ``adcopy`` loggers to the rotating file (INFO, DEBUG with ``verbose`` > 1) and, with
    ``verbose`` (or ``console``), to stderr. Returns the log file."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger(LOGGER)
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    ours = [h for h in root.handlers if isinstance(h, _AdCopyFileHandler)]
    for handler in ours:
        if Path(handler.baseFilename) != path.resolve():
            root.removeHandler(handler)
            handler.close()
    if not any(isinstance(h, _AdCopyFileHandler) for h in root.handlers):
        # delay: the file is opened at the first record, so a read-only command leaves no empty file
        handler = _AdCopyFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8",
                                     delay=True)
        handler.setFormatter(RedactingFormatter(FORMAT))
        root.addHandler(handler)
    if (console if console is not None else verbose) and not any(
            getattr(h, "_adcopy_console", False) for h in root.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
        stream._adcopy_console = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    return path


def ensure_logging() -> Path:
    """``configure_logging()`` unless the CLI already did (keeps its -v level)."""
    path = log_file()
    if any(isinstance(h, _AdCopyFileHandler) and Path(h.baseFilename) == path.resolve()
           for h in logging.getLogger(LOGGER).handlers):
        return path
    return configure_logging()
