"""Make an ADCOPY_HOME holding a tiny random-weight model (tests/model_factory.py), active, for
smoke-testing a frozen bundle without the real default model. Needs the build extras (run it with
the development venv, not the bundle).

    python packaging/make_smoke_home.py HOME
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    home = Path(argv[1]).resolve()
    os.environ["ADCOPY_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    from tests.model_factory import build_tiny_model

    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.paths import user_folders

    with tempfile.TemporaryDirectory() as scratch:
        folder = build_tiny_model(Path(scratch) / "tiny-llama")
        ModelStore(user_folders().ensure().models).import_model(folder, name="tiny-llama", languages=["en", "zh"],
                                                                activate=True)
    print(home)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
