"""The student edition and its nbgrader grading (tools/student_edition.py).

A synthetic chapter built here with nbformat covers every kind of solution markup. The real
chapters 01_gradcheck and 02_functional are used as they are in nbs/; while they carry no
`#| solution` cell, their public `#| export` functions are marked in a copy, as the conventions say
the authors will. The nbgrader tests run the real `nbgrader generate_assignment` and
`nbgrader autograde` in a temporary course folder.
"""

import ast
import copy
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import student_edition as se  # noqa: E402

BIN = Path(sys.executable).parent
REAL = ["01_gradcheck", "02_functional"]
CALLOUT = '::: {.callout-tip collapse="true" title="Solution"}'


def code(*lines):
    return new_code_cell("\n".join(lines))


def synthetic():
    "A tiny chapter with every kind of solution markup."
    cells = [
        new_code_cell("#| default_exp synth"),
        new_markdown_cell("# Synthetic chapter\n\n> A tiny chapter for the generator's tests."),
        new_code_cell("#| export\nimport numpy as np\nfrom fastcore.basics import patch"),
        new_code_cell("from fastcore.test import test_eq, test_fail"),
        new_markdown_cell("The square, eq. (1): $s(x) = x^2$."),
        code(
            "#| export",
            "#| solution",
            "SCALE = 1.0",
            "",
            "",
            "def square(x):",
            '    "Square of `x`: implements eq. (1)."',
            "    # multiply by itself, the hint must not survive",
            "    y = np.asarray(x) * SCALE",
            "    return y * y",
            "",
            "",
            "def half(x): return x / 2",
        ),
        new_code_cell("test_eq(square(3), 9)\nassert square(-2) == 4"),
        new_code_cell("test_fail(lambda: square(None))"),
        new_code_cell("test_eq(half(4), 2)"),
        code(
            "#| export",
            "class Acc:",
            '    "Adds numbers to a start value."',
            "    def __init__(self, start=0):",
            "        self.start = start",
        ),
        code(
            "#| export",
            "#| solution",
            "@patch",
            "def total(self: Acc, xs):",
            '    "The start plus the sum of `xs` (eq. (2))."',
            "    return self.start + sum(xs)",
        ),
        new_code_cell(
            "acc = Acc(1)\ntest_eq(acc.total([1, 2]), 4)\ntest_eq(Acc(0).total([]), 0)\n"
            'test_fail(lambda: acc.total(None), contains="NoneType")'
        ),
        new_code_cell("assert 1 + 1 == 2"),
        new_code_cell("assert square(2) + acc.total([1]) == 6"),
        new_markdown_cell(
            "<!-- solution: Derive the derivative of $x^2$. -->\nThe derivative is $2x$."
        ),
        new_markdown_cell("## Exercises"),
        new_markdown_cell("**Exercise 1 (implement).** Write `cube`, the third power."),
        new_code_cell(
            '#| solution\n#| code-fold: true\ndef cube(x):\n    "The third power of `x`."\n'
            "    return x * square(x)"
        ),
        new_code_cell("test_eq(cube(2), 8)"),
        new_markdown_cell(
            "**Exercise 2 (experiment).** Compute the mean of the squares of 0..9 as `mean_sq`. "
            "Then plot them."
        ),
        new_code_cell(
            "#| solution\n#| code-fold: true\nvalues = [float(square(i)) for i in range(10)]\n"
            "mean_sq = sum(values) / len(values)"
        ),
        new_code_cell("assert mean_sq == 28.5"),
        new_markdown_cell("**Exercise 3 (re-derive).** Show that the square is convex."),
        new_markdown_cell(f"{CALLOUT}\nIts second derivative is $2 > 0$.\n:::"),
        new_code_cell(
            "#| solution: list the cubes of 0, 1, 2 as `cubes`\ncubes = [i ** 3 for i in range(3)]"
        ),
        new_code_cell("test_eq(cubes, [0, 1, 8])"),
    ]
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}
        },
    )
    for i, c in enumerate(nb.cells):
        c.id = f"c{i:02d}"
    return nb


def mark_public_exports(nb):
    "A copy of `nb` in which each `#| export` cell defining a public function is a solution."
    nb = copy.deepcopy(nb)
    if any(se.is_solution_cell(c) for c in nb.cells):
        return nb
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        directives, lines, code = se.split_directives(c.source)
        if "export" in {n for n, _ in directives}:
            tree = ast.parse(code)
            if any(
                isinstance(s, ast.FunctionDef) and not s.name.startswith("_") for s in tree.body
            ):
                c.source = "\n".join(lines + ["#| solution"] + code.split("\n"))
    return nb


def instructor(name):
    if name == "synth":
        return synthetic()
    return mark_public_exports(nbformat.read(REPO / "nbs" / f"{name}.ipynb", as_version=4))


_chapters = {}


def chapter(name):
    if name not in _chapters:
        _chapters[name] = se.build_chapter(instructor(name), name)
    return _chapters[name]


def raised(source):
    "The messages of the `raise NotImplementedError(...)` statements of a cell."
    return [
        ast.literal_eval(n.exc.args[0]) if n.exc.args else ""
        for n in ast.walk(ast.parse(se._mask_ipython(source)))
        if isinstance(n, ast.Raise)
        and isinstance(n.exc, ast.Call)
        and isinstance(n.exc.func, ast.Name)
        and n.exc.func.id == "NotImplementedError"
    ]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def execute(nb, cwd):
    "Run `nb` in a fresh python3 kernel in `cwd`, stopping at the first error (CellExecutionError)."
    nb = copy.deepcopy(nb)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


@pytest.fixture(autouse=True)
def _kernel_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")


# ----------------------------------------------------------------------------------- the transform
def test_slots_keep_signatures_docstrings_and_decorators():
    ch = chapter("synth")
    cells = {c.id: c for c in ch.student.cells}
    square = cells["c05"].source
    assert square.startswith("#| export\nSCALE = 1.0\n")  # module constants of a library cell stay
    assert "#| solution" not in square and "code-fold" not in square
    assert (
        'def square(x):\n    "Square of `x`: implements eq. (1)."\n    raise NotImplementedError('
        in square
    )
    assert "Implement square: Square of `x`: implements eq. (1)." in square
    assert "hint" not in square and "y * y" not in square
    # A one-line function without a docstring: the message falls back to the chapter's title.
    assert "def half(x):\n    raise NotImplementedError(" in square
    assert raised(square)[1] == "Implement half, as derived in the chapter “Synthetic chapter”."
    total = cells["c10"].source
    assert total.startswith(
        '#| export\n@patch\ndef total(self: Acc, xs):\n    "The start plus the sum of `xs` '
        '(eq. (2))."\n    raise NotImplementedError('
    )
    assert "Implement Acc.total" in total and "self.start + sum" not in total
    assert cells["c09"].source == synthetic().cells[9].source  # plain library code is untouched
    # Computation slots: the directive's text, else the first sentence of the markdown above.
    assert raised(cells["c20"].source) == [
        "Complete this cell – Exercise 2 (experiment). Compute the mean of the "
        "squares of 0..9 as `mean_sq`."
    ]
    assert (
        cells["c24"].source == 'raise NotImplementedError("list the cubes of 0, 1, 2 as `cubes`")'
    )
    # Markdown: the callout is gone, the derivation answer is a prompt, the exercises stay.
    md = [c.source for c in ch.student.cells if c.cell_type == "markdown"]
    assert not any(CALLOUT in s or "second derivative" in s for s in md)
    prompt = "**Question.** Derive the derivative of $x^2$.\n\n**Your answer.** _Write your answer"
    assert f"{prompt} here._" in md
    assert not any("2x" in s for s in md)
    assert sum(s.startswith("**Exercise") for s in md) == 3
    # Tests stay as they are; no output survives.
    assert [c.source for c in code_cells(ch.student) if c.id in ("c06", "c07", "c11", "c25")] == [
        c.source for c in synthetic().cells if c.id in ("c06", "c07", "c11", "c25")
    ]
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells(ch.student))
    nbformat.validate(ch.student)


def test_autograded_cells_points_and_counts():
    ch = chapter("synth")
    tests = {t.cell_id: (t.points, set(t.deps)) for t in ch.tests}
    assert tests == {
        "c06": (2, {"square"}),  # two checks
        "c08": (1, {"half"}),
        "c11": (3, {"Acc.total"}),  # a method reached through an instance
        "c13": (1, {"square", "Acc.total"}),
        "c18": (1, {"cube", "square"}),  # cube's own code calls square
        "c21": (1, {"cell-c20", "square"}),
        "c25": (1, {"cell-c24"}),
    }  # not c07 (test_fail without contains passes on NotImplementedError), not c12 (no slot)
    assert [
        ch.points_of(k) for k in ("square", "half", "Acc.total", "cube", "cell-c20", "cell-c24")
    ] == [2, 1, 3, 0, 0, 1]
    assert (
        ch.exercises,
        ch.self_checked,
        len(ch.slots),
        ch.prompts,
        ch.points,
        ch.manual_points,
    ) == (3, 3, 6, 1, 10, 4)
    meta = {c.id: c.metadata.get("nbgrader") for c in ch.source.cells}
    assert meta["c06"] == {
        "grade": True,
        "grade_id": meta["c06"]["grade_id"],
        "locked": True,
        "points": 2,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    assert (
        meta["c05"]["solution"] is True
        and meta["c05"]["grade"] is False
        and meta["c05"]["locked"] is False
    )
    assert meta["c14"] == {
        "grade": True,
        "grade_id": "answer-c14",
        "locked": False,
        "points": 2,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    assert meta["c14-question"]["locked"] is True and meta["c23-answer"]["points"] == 2
    assert meta["c07"] is None and meta["c12"] is None
    source = {c.id: c.source for c in ch.source.cells}
    assert (
        source["c05"].count("### BEGIN SOLUTION") == 2
        and "    return y * y\n    ### END SOLUTION" in source["c05"]
    )
    assert source["c20"].startswith("### BEGIN SOLUTION\nvalues = ")


# ----------------------------------------------------------------------------------------- no leak
def _significant(line):
    s = line.strip()
    return (
        len(s) >= 6
        and not s.startswith("#")
        and s not in {"return self", "return out", "else:", "try:"}
    )


def _solution_lines(cell_source):
    """(solution lines, other lines) of an instructor's solution cell, by ast.

    Solutions are the bodies of its functions (but a plumbing `__init__`) and, unless the cell is
    library code with functions, its statements other than imports and definitions."""
    _, _, code = se.split_directives(cell_source)
    export = "export" in se.directive_names(cell_source)
    lines, numbers = code.split("\n"), set()
    tree = ast.parse(code)
    defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for fn in defs:
        body = fn.body[1:] if fn.body and se._is_docstring(fn.body[0]) else fn.body
        if not se._is_plumbing_init(fn):
            for stmt in body:
                numbers |= set(range(stmt.lineno - 1, stmt.end_lineno))
    if not (export and defs):
        for stmt in tree.body:
            if not isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
                numbers |= set(range(stmt.lineno - 1, stmt.end_lineno))
    solution = [lines[i] for i in sorted(numbers)]
    return solution, [line for i, line in enumerate(lines) if i not in numbers]


def leaks(nb, student):
    "The solution lines of the instructor's `nb` that survive in the `student` notebook."
    plain = {
        line.strip()
        for c in code_cells(nb)
        if not se.is_solution_cell(c)
        for line in c.source.split("\n")
    }
    student_code = {c.id: c.source for c in code_cells(student)}
    everywhere = {line.strip() for s in student_code.values() for line in s.split("\n")}
    found = []
    for cell in code_cells(nb):
        if not se.is_solution_cell(cell):
            continue
        own = {line.strip() for line in student_code.get(cell.id, "").split("\n")}
        solution, kept = _solution_lines(cell.source)
        plain |= {line.strip() for line in kept}  # a solution line may repeat a kept one
        found += [
            (cell.id, line)
            for line in solution
            if _significant(line)
            and line.strip() not in plain
            and (line.strip() in own or line.strip() in everywhere)
        ]
    return found


@pytest.mark.parametrize(
    "name", ["synth"] + sorted(set(REAL) | {p.stem for p in se.chapter_paths()})
)
def test_no_solution_line_survives(name):
    nb = (
        instructor(name)
        if name in ["synth"] + REAL
        else nbformat.read(REPO / "nbs" / f"{name}.ipynb", 4)
    )
    ch = se.build_chapter(nb, name)
    assert leaks(nb, ch.student) == []
    text = json.dumps(ch.student)
    for mark in (
        "BEGIN SOLUTION",
        "#| solution",
        CALLOUT.replace('"', '\\"'),
        "<!-- solution",
        '"nbgrader"',
    ):
        assert mark not in text


def test_the_leak_check_catches_a_leak():
    nb = synthetic()
    found = leaks(nb, nb)  # the instructor's notebook as a "student edition": everything leaks
    assert ("c05", "    return y * y") in found and (
        "c10",
        "    return self.start + sum(xs)",
    ) in found
    assert ("c20", "mean_sq = sum(values) / len(values)") in found
    student = copy.deepcopy(chapter("synth").student)
    student.cells[-2].source += "\nmean_sq = sum(values) / len(values)"  # pasted into another cell
    assert leaks(nb, student) == [("c20", "mean_sq = sum(values) / len(values)")]


def test_sources_and_library_carry_no_grading_markup(tmp_path):
    for nb in sorted((REPO / "nbs").glob("*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        for mark in ("BEGIN SOLUTION", "END SOLUTION", '"nbgrader"', "BEGIN HIDDEN TESTS"):
            assert mark not in text, f"{nb.name} holds nbgrader markup {mark!r}"
    for py in sorted((REPO / "coursework_lib").glob("*.py")):
        text = py.read_text(encoding="utf-8")
        for mark in ("BEGIN SOLUTION", "nbgrader", "#| solution", "# | solution"):
            assert mark not in text, f"{py.name} holds {mark!r}"
    # nbdev's export drops our directive like its own: a marked cell exports as plain code.
    from nbdev.export import nb_export

    path = tmp_path / "synth.ipynb"
    nbformat.write(synthetic(), path)
    nb_export(path, tmp_path / "lib")
    module = (tmp_path / "lib" / "synth.py").read_text()
    assert "def square(x):" in module and "return y * y" in module and "solution" not in module


def test_rendered_chapters_carry_no_grading_markup():
    pages = sorted((REPO / "_docs").glob("*.html"))
    if not pages:
        pytest.skip("no rendered site in _docs/ (tools/build_site.py writes it)")
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for mark in ("BEGIN SOLUTION", "#| solution", "grade_id", "&lt;!-- solution"):
            assert mark not in text, f"{page.name} shows {mark!r}"


# -------------------------------------------------------------------------------------- round trip
@pytest.mark.slow
@pytest.mark.parametrize("name", ["synth"] + REAL)
def test_round_trip(name, tmp_path):
    ch = chapter(name)
    assert ch.slots, f"{name} has no slot"
    messages = {s.key: s.message for s in ch.slots}
    first_id, first_slots = ch.raising_cells[0]
    with pytest.raises(CellExecutionError) as err:
        execute(ch.student, tmp_path)
    assert err.value.ename == "NotImplementedError", err.value
    assert err.value.evalue in {messages[k] for k in first_slots}, err.value.evalue
    failing = [c for c in ch.student.cells if c.get("id") == first_id][0]
    assert failing.source in str(err.value)  # it stopped in the first cell that runs a slot
    # Put the instructor's code back into every slot, mechanically: every cell, every test passes.
    filled = se.fill(ch.student, ch)
    slot_cells = {slot.cell_id for slot in ch.slots}
    for cell in code_cells(filled):
        if cell.id in slot_cells:
            assert raised(cell.source) == [], cell.source
    execute(filled, tmp_path)


# ---------------------------------------------------------------------------------------- nbgrader
def _nbgrader(*args, cwd):
    # nbgrader runs `alembic` (a script of the venv) by name: the venv's bin comes first on PATH.
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(cwd / ".jupyter"),
        MPLBACKEND="Agg",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    proc = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, (
        f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


def _fill_release(release, ch, keys):
    "nbgrader's release notebook with the instructor's code put back into the slots `keys`."
    nb = copy.deepcopy(release)
    gid = {
        c.id: c.metadata["nbgrader"]["grade_id"]
        for c in ch.source.cells
        if "nbgrader" in c.metadata
    }
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for slot in ch.slots:
        if slot.key in keys:
            cell = cells[gid[slot.cell_id]]
            cell.source = (
                se.fill_function(cell.source, slot.key, slot.body)
                if slot.kind == "function"
                else se.fill_computation(cell.source, slot.parts)
            )
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("name", ["synth", "02_functional"])
def test_nbgrader_generate_and_autograde(name, tmp_path, monkeypatch):
    monkeypatch.setenv(
        "PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    )  # nbgrader.api runs `alembic`
    ch = chapter(name)
    course = tmp_path / "course"
    assert se.write_nbgrader_course([ch], course) == [name]
    _nbgrader("generate_assignment", name, "--force", cwd=course)
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    assert "BEGIN SOLUTION" not in json.dumps(release)
    assert leaks(instructor(name), release) == []
    # The slot worth most on its own (the synthetic chapter's Acc.total: a method, 3 points).
    one = max((s.key for s in ch.slots), key=ch.points_of)
    assert ch.points_of(one) < ch.points and (ch.points_of(one) > 0 or name != "synth")
    submissions = {"instructor": [s.key for s in ch.slots], "untouched": [], "one": [one]}
    for student, keys in submissions.items():
        path = course / "submitted" / student / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(_fill_release(release, ch, keys), path)
    _nbgrader("autograde", name, "--force", cwd=course)

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:

        def scores(student):
            sub = gb.find_submission_notebook(name, name, student)
            return {g.name: g.auto_score for g in sub.grades if g.cell_type == "code"}, sub

        points = {t.grade_id: t.points for t in ch.tests}
        deps = {t.grade_id: t.deps for t in ch.tests}
        full, sub = scores("instructor")
        assert full == points and sub.max_score == ch.points + ch.manual_points
        untouched, _ = scores("untouched")
        assert untouched == {g: 0 for g in points}
        partial, _ = scores("one")
        assert partial == {g: (points[g] if deps[g] == {one} else 0) for g in points}
        assert sum(partial.values()) == ch.points_of(one)


@pytest.mark.slow
def test_nbgrader_accepts_every_chapter(tmp_path, monkeypatch):
    "nbgrader generate_assignment takes the source of every chapter; no release leaks a solution."
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    course = tmp_path / "course"
    names = se.write_nbgrader_course(se.build(se.chapter_paths()), course)
    assert names, "no chapter has anything to grade"
    for name in names:
        _nbgrader("generate_assignment", name, "--force", cwd=course)
        release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        assert "BEGIN SOLUTION" not in json.dumps(release)
        nb = nbformat.read(REPO / "nbs" / f"{name}.ipynb", as_version=4)
        assert leaks(nb, release) == [], name


# ------------------------------------------------------------------------------------- the command
def _run(*args):
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / "student_edition.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def _main(capsys, *args):
    "The command in this process (faster than a new interpreter): (exit code, stdout, stderr)."
    try:
        code = se.main([str(a) for a in args])
    except SystemExit as e:
        code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_command_writes_the_edition_atomically(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    nbformat.write(synthetic(), nbs / "01_synth.ipynb")
    nbformat.write(instructor("02_functional"), nbs / "02_functional.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Landing")]), nbs / "index.ipynb")
    out, course = tmp_path / "student", tmp_path / "course"
    proc = _run(out, "--nbgrader", course, "--nbs", nbs, "--stats")
    assert proc.returncode == 0, proc.stderr
    assert "| 01_synth | 3 | 3 | 6 | 1 | 7 | 10 | 4 |" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        ".student_edition",
        "01_synth.ipynb",
        "02_functional.ipynb",
        "README.md",
        se.ZIP_NAME,
    ]
    with zipfile.ZipFile(out / se.ZIP_NAME) as z:
        assert sorted(z.namelist()) == [
            f"coursework_lib_student_edition/{n}"
            for n in ("01_synth.ipynb", "02_functional.ipynb", "README.md")
        ]
    assert (course / "nbgrader_config.py").exists()
    umask = os.umask(0)
    os.umask(umask)
    for folder in (out, course / "source" / "01_synth"):  # an ordinary folder, not mkdtemp's 700
        assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
    assert (course / "source" / "01_synth" / "01_synth.ipynb").exists()
    # A broken notebook: the error names it and its cell; the edition already there stays as it was.
    before = (out / "01_synth.ipynb").read_bytes()
    bad = synthetic()
    bad.cells[5].source = "#| export\n#| solution\ndef broken(:\n    pass"
    nbformat.write(bad, nbs / "01_synth.ipynb")
    code, _, err = _main(capsys, out, "--nbs", nbs)
    assert code == 2 and "01_synth.ipynb, cell 5" in err and "cannot parse" in err
    assert (out / "01_synth.ipynb").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "course",
        "nbs",
        "student",
    ]  # no temporary folder left
    # Regenerating replaces the whole folder.
    nbformat.write(synthetic(), nbs / "01_synth.ipynb")
    code, _, err = _main(capsys, out, "--nbs", nbs, "--chapters", "1", "--no-zip")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        ".student_edition",
        "01_synth.ipynb",
        "README.md",
    ]


def test_command_refuses_bad_targets(tmp_path, capsys):
    code, _, err = _main(capsys, REPO / "nbs" / "student")
    assert code == 2 and "inside nbs/" in err
    assert not (REPO / "nbs" / "student").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    code, _, err = _main(capsys, foreign, "--chapters", "01")
    assert code == 2 and "not written by this tool" in err
    assert (foreign / "notes.txt").read_text() == "keep me"
    code, _, err = _main(capsys, tmp_path / "x", "--chapters", "42")
    assert code == 2 and "no chapter notebook matches '42'" in err and "01_gradcheck" in err
    assert not (tmp_path / "x").exists()
    code, _, err = _main(capsys)
    assert code == 2 and "OUTDIR" in err


def test_stats_lists_every_chapter(capsys):
    code, out, err = _main(capsys, "--stats")
    assert code == 0, err
    rows = [line.split("|")[1].strip() for line in out.splitlines() if re.match(r"^\| \d\d_", line)]
    assert rows == [p.stem for p in se.chapter_paths()]
