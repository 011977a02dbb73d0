"""The frozen app's entry point (PyInstaller runs this as the ``adcopy`` executable).

AdCopy starts helper processes as ``sys.executable -m MODULE ...`` (the plugin host, the model
builder, the trainer, bench peers). In a frozen app ``sys.executable`` is this executable, so
``adcopy -m MODULE ARGS`` runs that module the way ``python -m`` would; everything else is the
normal ``adcopy`` command line.
"""

from __future__ import annotations

import os
import runpy
import sys


def _run_module(argv: list[str]) -> None:
    module = argv[2]
    sys.argv = [module] + argv[3:]
    # a frozen interpreter ignores PYTHONUNBUFFERED: helpers talk to the parent over pipes line by line
    if os.environ.get("PYTHONUNBUFFERED"):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=True)
            except (AttributeError, ValueError):
                pass
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        _run_module(sys.argv)
        return
    from adcopy_desktop.cli.app import main as adcopy

    adcopy()


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    main()
