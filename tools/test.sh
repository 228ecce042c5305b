#!/usr/bin/env bash
# README command 1: install everything into .venv, then run the whole test suite (tools/run_tests.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_venv.sh
if [ -z "${COURSEWORK_DATA:-}" ] && [ -d ../shared/data/coursework ]; then
  COURSEWORK_DATA=$(cd ../shared/data/coursework && pwd)
  export COURSEWORK_DATA
fi
exec "$venv/bin/python" tools/run_tests.py
