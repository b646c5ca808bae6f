#!/usr/bin/env bash
# The test command: lint, format check, type check, then the test suite (browser tests included).
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
# Tiny models on 2 cores: one thread per test worker is much faster than oversubscription.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

# Headless Chromium for the leaderboard browser tests (Debian packages), where we may install it.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver for the browser tests…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null
  else
    echo "note: chromium/chromium-driver not found; browser tests will be skipped (outside CI)"
  fi
fi

# A real SLURM cluster on this machine for the cluster tests (tests/slurm_cluster.py): Debian's
# slurm-wlm and munge. As root they are installed here, like the browser above, and those tests
# must then run, not skip.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "installing slurm-wlm and munge for the cluster tests…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge) >/dev/null
  fi
  export EVALHARNESS_REQUIRE_SLURM=1
fi

echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy"
mypy
echo "== pytest"
python -m pytest -n 2 --dist loadfile "$@"
