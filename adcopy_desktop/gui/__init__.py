"""The PySide6 desktop app over ``adcopy_desktop.core``: see docs/gui.md.

Importing it guards against a reference-count bug of the Qt bindings (``qt_workarounds``).
"""

from adcopy_desktop.gui.qt_workarounds import protect_none_refcount

protect_none_refcount()
