"""Run the whole test suite and print one summary line: the sync check, every notebook, and pytest.

Notebooks run through `nbdev_test --flags slow`, so the cells marked `#| slow` run too. `nbdev_test` says only
`Success.`, so the notebooks are counted here: each notebook is one test, passed unless nbdev names it as failed.
pytest's counts come from its JUnit report; pytest finding no tests is a failure, not a pass.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(cmd, env=None):
    "Run `cmd` from the repo root, echoing its output as it comes; return (exit code, output)."
    print(f"\n$ {' '.join(map(str, cmd))}", flush=True)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return proc.wait(), "".join(lines)


def notebooks():
    from nbdev.doclinks import nbglob
    return sorted(Path(f).name for f in nbglob(as_path=True))


def test_notebooks():
    names = notebooks()
    # Two workers share the machine's two cores: one BLAS thread each avoids oversubscription.
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    code, out = run([BIN / "nbdev_test", "--flags", "slow", "--n_workers", "2", "--timing"], env=env)
    failed = set()
    if code:
        tail = out.split("nbdev Tests Failed On The Following Notebooks:")[-1]
        failed = {n for n in names if re.search(rf"^\s*{re.escape(n)}\s*$", tail, re.M)} or set(names)
    return len(names) - len(failed), len(failed), 0


def test_pytest():
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        code, _ = run([BIN / "python", "-m", "pytest", "tests", "-q", "-rs", f"--junitxml={report}"])
        if code == 5 or not report.exists():
            print("pytest collected no tests: that is a failure here.")
            return 0, 1, 0
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        total, fails, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    bad = fails + errors + (1 if code not in (0, 1) and not (fails + errors) else 0)
    return total - fails - errors - skipped, bad, skipped


def main():
    start = time.time()
    sync_code, _ = run([BIN / "python", "tools/check_sync.py"])
    nb_pass, nb_fail, _ = test_notebooks()
    py_pass, py_fail, py_skip = test_pytest()
    passed, failed = nb_pass + py_pass + (sync_code == 0), nb_fail + py_fail + (sync_code != 0)
    minutes = (time.time() - start) / 60
    print(f"\nnotebooks: {nb_pass} passed, {nb_fail} failed | pytest: {py_pass} passed, {py_fail} failed, "
          f"{py_skip} skipped | export/clean sync: {'ok' if sync_code == 0 else 'FAILED'} | {minutes:.1f} min")
    print(f"summary: {passed} passed, {failed} failed, {py_skip} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
