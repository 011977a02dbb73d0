#!/usr/bin/env bash
# Set everything up, build the default model once, then start AdCopy.
#   bash scripts/run.sh                      opens the desktop app (needs a display)
#   bash scripts/run.sh generate --product "Type: denim jacket" --kind description -n 3
#                                            runs any adcopy command headless
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${ADCOPY_VENV:-.venv}
"$VENV/bin/adcopy" models build
exec "$VENV/bin/adcopy" "$@"
