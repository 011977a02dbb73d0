"""The guard against the Qt bindings' None reference leak (see adcopy_desktop/gui/qt_workarounds.py)."""

import sys

from PySide6.QtCore import QSize

import adcopy_desktop.gui  # noqa: F401 - importing the GUI installs the guard
from adcopy_desktop.gui import qt_workarounds


def test_a_long_session_of_void_calls_cannot_exhaust_none():
    leaking = qt_workarounds.none_reference_leak_per_call() >= 0.5
    if leaking and sys.version_info < (3, 12):
        assert qt_workarounds._protected and sys.getrefcount(None) > qt_workarounds.NONE_RESERVE // 2
    else:
        assert not qt_workarounds._protected  # sound bindings or immortal None: nothing to do
    size = QSize()
    for _ in range(300_000):  # far more than None's own references on Python 3.11
        size.setWidth(1)
    assert sys.getrefcount(None) > 0
