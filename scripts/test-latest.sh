#!/usr/bin/env bash
# The test command against the newest releases of every dependency (no constraints file), in a
# throwaway virtualenv: run it to learn early what a refresh of constraints.txt would break.
# Usage: bash scripts/test-latest.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade -e ".[test,lmms]"
"$venv/bin/python" -m pip list --format=freeze 2>/dev/null | grep -i -E '^(pytest|hypothesis|ruff|mypy|torch|transformers|datasets|hydra-core|numpy|pandas|pyarrow)==' | tr '\n' ' '
echo
PATH="$venv/bin:$PATH" bash ./scripts/test.sh "$@"
