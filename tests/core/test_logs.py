"""core/logs.py: the log file lives in the log folder, rotates, follows ADCOPY_HOME and is redacted."""

from __future__ import annotations

import logging

import pytest

from adcopy_desktop.core import logs
from adcopy_desktop.paths import user_folders


@pytest.fixture
def adcopy_logger():
    logger = logging.getLogger(logs.LOGGER)
    before = list(logger.handlers)
    yield logger
    for handler in list(logger.handlers):
        if handler not in before:
            logger.removeHandler(handler)
            handler.close()


def test_rotates_and_keeps_backup_count(adcopy_logger, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    for handler in [h for h in adcopy_logger.handlers if isinstance(h, logs._AdCopyFileHandler)]:
        adcopy_logger.removeHandler(handler)  # one made with the real size limit by an earlier test
    path = logs.configure_logging()
    assert path == user_folders().logs / "adcopy.log"
    for number in range(400):
        logging.getLogger("adcopy.test").info("line %d with some padding to fill the file quickly", number)
    files = logs.log_files()
    assert files[0] == path and len(files) == logs.BACKUP_COUNT + 1
    assert all(f.stat().st_size <= 2000 + 200 for f in files)
    assert "line 399 " in path.read_text(encoding="utf-8")


def test_lines_are_redacted_and_configure_is_idempotent(adcopy_logger):
    logs.configure_logging()
    logs.configure_logging()
    logs.ensure_logging()
    ours = [h for h in adcopy_logger.handlers if isinstance(h, logs._AdCopyFileHandler)]
    assert len(ours) == 1
    logging.getLogger("adcopy.test").warning("GET https://u:hunter2secret@shop.example.com/?access_token=abc123xyz")
    ours[0].flush()
    text = logs.log_file().read_text(encoding="utf-8")
    assert "hunter2secret" not in text and "abc123xyz" not in text and "[redacted]" in text


def test_moves_with_adcopy_home(adcopy_logger, monkeypatch, tmp_path):
    first = logs.configure_logging()
    monkeypatch.setenv("ADCOPY_HOME", str(tmp_path / "other"))
    second = logs.configure_logging()
    assert first != second and second.parent == tmp_path / "other" / "data" / "logs"
    assert len([h for h in adcopy_logger.handlers if isinstance(h, logs._AdCopyFileHandler)]) == 1
