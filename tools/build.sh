#!/usr/bin/env bash
# README command 2, the main job: install everything into .venv, execute every notebook in place (saving outputs),
# then build the site into _docs/. Extra arguments go to tools/build_site.py (e.g. --skip-execution).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_venv.sh
exec "$venv/bin/python" tools/build_site.py "$@"
