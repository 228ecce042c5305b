# Sourced by tools/test.sh and tools/build.sh from the repo root: make the virtual environment ($VENV, default
# .venv) if it is missing and install the project with its dev extras, exactly as a user would.
venv=${VENV:-.venv}
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e ".[dev]"
