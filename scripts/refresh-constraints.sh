#!/usr/bin/env bash
# Refresh constraints.txt: the exact versions the test command installs (test toolchain, core
# libraries and everything they pull in). Run it deliberately, when you mean to move to newer
# releases: it installs the newest allowed releases into a throwaway virtualenv, and writes what
# was installed. Then run the test command, and commit constraints.txt if it passes.
# Usage: bash scripts/refresh-constraints.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,lmms]"
{
  echo "# The versions the test command is tested with: pip install -e \".[test,lmms]\" -c constraints.txt"
  echo "# Written by scripts/refresh-constraints.sh ($(date -u +%Y-%m-%d), Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'))."
  echo "# Refresh deliberately; scripts/test-latest.sh tests against the newest releases instead."
  "$venv/bin/python" -m pip freeze --exclude-editable --all | grep -v -i -E '^(pip|evalharness)=='
} > constraints.txt
echo "wrote constraints.txt ($(grep -c '==' constraints.txt) pins)"
