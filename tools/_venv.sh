# Sourced by tools/test.sh and tools/build.sh from the repo root: make the virtual environment ($VENV, default
# .venv) if it is missing and install the project with its dev extras, exactly as a user would. pip runs with -qq:
# errors still show, but not the build backend's notes, which name the machine's temporary folders.
venv=${VENV:-.venv}
echo "Installing the project and its dev extras (pip install -e \".[dev]\") ..."
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install -qq --upgrade pip
"$venv/bin/python" -m pip install -qq -e ".[dev]"
