#!/usr/bin/env bash
# Rewrite docs/results-schema.md from the typed records that declare the results schema
# (evalharness/store/_records.py) and the doc's prose (evalharness/store/_schema.md).
# Usage: bash scripts/results-schema.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python="python"
[ -x .venv/bin/python ] && python=".venv/bin/python"
"$python" -m evalharness.store --write docs/results-schema.md
