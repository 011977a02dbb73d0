"""Work-arounds for bugs in the Qt bindings: each says which versions it is for and how it is detected.

None's reference count (PySide6 6.12.0 on CPython 3.11)
    The wrappers of C++ methods that return nothing (``setText``, ``update``, ``QTimer.start``,
    ``processEvents``, ``QSize.setWidth``...) hand back ``None`` without taking a reference to it, so
    every such call takes one reference away from ``None``. On CPython 3.12+ ``None`` is immortal and
    this is harmless; on 3.11 a window that streams tokens and reacts to clicks for a while
    (hundreds of such calls a second while streaming) runs ``None``'s count down to zero and the
    process dies with "Fatal Python error: none_dealloc". The leak is measured with one harmless
    call when the GUI is imported; where it is found, ``None`` is given a reserve of references
    that no session can use up (2**40). ``None`` is never freed anyway: only its counter changes.
    Remove this when the project's Qt bindings no longer leak (the test in
    tests/gui/test_qt_workarounds.py then says so).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger("adcopy.gui")

NONE_RESERVE = 2**40
_protected = False


def none_reference_leak_per_call(calls: int = 64) -> float:
    """References to None lost per call of a void Qt method (0.0 with sound bindings)."""
    from PySide6.QtCore import QSize

    size = QSize()
    before = sys.getrefcount(None)
    for _ in range(calls):
        size.setWidth(1)
    return (before - sys.getrefcount(None)) / calls


def protect_none_refcount() -> bool:
    """Give None a reserve of references if the bindings leak them; True when the reserve was added."""
    global _protected
    if _protected or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if none_reference_leak_per_call() < 0.5:
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += NONE_RESERVE
    _protected = True
    log.info("the Qt bindings leak references to None; gave None a reserve of %d references", NONE_RESERVE)
    return True
