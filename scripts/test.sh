#!/usr/bin/env bash
# Set everything up and run the whole test suite (what CI runs). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${ADCOPY_VENV:-.venv}
export QT_QPA_PLATFORM=offscreen
# Tests never see the developer's own plugins or user folders: conftest.py points ADCOPY_HOME at
# temporary folders; the real default model is built once into this cache and reused.
export ADCOPY_TEST_CACHE=${ADCOPY_TEST_CACHE:-$PWD/.adcopy-test-cache}
exec "$VENV/bin/python" -m pytest -p no:cacheprovider "$@"
