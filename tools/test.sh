#!/usr/bin/env bash
# README command 1: install everything into .venv, check that notebooks and library are in sync (as nbdev's CI does)
# and that ruff finds nothing, then run pytest: the tests in tests/ and, through nbdev's test_nb, every notebook with
# its slow cells (tests/test_notebooks.py). pytest's closing line counts everything; its exit code is the result.
# Extra arguments go to pytest (e.g. `bash tools/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_venv.sh
export MPLBACKEND=Agg
NBDEV_BIN="$venv/bin" bash tools/check_sync.sh
# Lint and format, notebooks included, under pyproject.toml's rules (what the pre-commit hooks run).
"$venv/bin/ruff" check --quiet .
"$venv/bin/ruff" format --check --quiet .
status=0
"$venv/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here." >&2
  exit 1
fi
exit "$status"
