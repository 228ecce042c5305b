"""Every notebook in `nbs/` runs as a pytest test, through nbdev's own `test_nb`, so one pytest
summary counts them.

Cells are skipped exactly as `nbdev_test` skips them (`#| eval: false`, `nbdev_export()` calls, the
`tst_flags` of settings.ini), except that `#| slow` cells run, as `nbdev_test --flags slow` runs
them: CI (plain `pytest`) runs every cell. A whole chapter takes longer than an inner loop allows,
so every case is marked `slow` (and `notebook`): `pytest -m "not slow"` leaves them out, and
`pytest -m notebook -k 03_logistic` runs one. Each notebook runs in a fresh Python process, from its
own folder, as `nbdev_test` does; a failure shows nbdev's traceback of the failing cell.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORCE = ["slow"]  # the flags whose cells run here though settings.ini's tst_flags lists them
RUN = """
import sys
from nbdev.config import get_config
from nbdev.test import test_nb
skip = get_config().get("tst_flags", "").split()
from pathlib import Path
ok, _ = test_nb(Path(sys.argv[1]), skip_flags=skip, force_flags=sys.argv[2].split(), showerr=True)
sys.exit(0 if ok else 1)
"""


def notebooks():
    "nbdev's list of notebooks to test: what `nbdev_test` would run (no `_` or `.` names)."
    from nbdev.doclinks import nbglob

    cwd = os.getcwd()
    os.chdir(REPO)  # nbdev reads settings.ini from the working directory
    try:
        return sorted(Path(f) for f in nbglob(as_path=True))
    finally:
        os.chdir(cwd)


def cases():
    for path in notebooks():
        yield pytest.param(path, marks=[pytest.mark.notebook, pytest.mark.slow], id=path.name)


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("path", list(cases()))
def test_notebook(path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    res = subprocess.run(
        [sys.executable, "-c", RUN, str(path), " ".join(FORCE)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, (
        f"{path.relative_to(REPO)} failed under nbdev's test_nb:\n{res.stderr[-8000:]}"
    )
