"""Write the student edition of the course, and its nbgrader source assignments, from `nbs/`.

    python tools/student_edition.py OUTDIR                    # the student edition (+ zip of all)
    python tools/student_edition.py OUTDIR --nbgrader COURSE  # + nbgrader source assignments
    python tools/student_edition.py --stats                   # per-chapter counts, nothing written
    options: --chapters 01 03_logistic ... (default: every numbered chapter), --no-zip

The instructor's notebooks in `nbs/` are the only source: the edition is regenerated, never edited.

Which notebooks: every numbered `NN_*.ipynb` of `nbs/` (00_data and the chapters 01-11). One
without solution markup (00_data: the loaders) is copied as it is, outputs cleared. `index`,
`core` with the data pages (`data_formats`, `data_download`, `data_plotting`), and `benchmarks`
are the landing page, shared infrastructure and speed tables: skipped.

How cells are marked (nbdev's export, nbdev_clean and the site ignore all three):
    `#| solution [text]`     first directive lines of a code cell holding a solution (an `#| export`
                             cell of the library, or an exercise's code), with `#| code-fold: true`;
    `::: {.callout-tip collapse="true" title="Solution"}`  first line of a prose solution;
    `<!-- solution: Q -->`   first line of a derivation answer; Q is the question for the student.

The student edition (code is read with `ast`, never with regexes):
    * In a `#| solution` cell every function and method (top level, `@patch`-ed, or in a class)
      keeps its decorators, signature and docstring; its body becomes `raise NotImplementedError(
      "Implement <qualname>: <docstring summary> (see eq. (N) of the chapter “<title>”).")`: the
      equation is the one the docstring cites, else the chapter is named. An `__init__` that only
      stores its parameters is plumbing and stays; so do imports and, in an `#| export` cell with
      functions, module constants.
    * The other statements of a `#| solution` cell (an experiment's computation, an `#| export`
      cell without functions) are a computation slot: each run of consecutive statements becomes
      `raise NotImplementedError("<the directive's text>")`, or "Complete this cell – <the first
      sentence of the markdown above>".
    * Solution callouts are removed; `<!-- solution: Q -->` answers become "**Question.** Q" and a
      placeholder answer. `#| solution` and `#| code-fold` are dropped from solution cells.
    * Every other cell stays as it is, tests included. All outputs and execution counts are cleared
      (they would show what the student is to compute; nbgrader's release clears them too).

The nbgrader source (COURSE/source/<chapter>/<chapter>.ipynb, nbgrader's cell metadata schema 3):
    * solution cells: `{solution: true, grade: false, locked: false}`, each removed body and each
      computation between `### BEGIN SOLUTION` and `### END SOLUTION`;
    * autograded test cells: `{grade: true, solution: false, locked: true, points: N}`. A code cell
      is one when it makes checks (`assert`, calls of `test_*` / `assert_*`: fastcore's `test_eq`,
      `np.testing.assert_allclose`, ...) and a data-flow analysis of the notebook shows that running
      it runs a slot: it calls a function a solution defines (or a method, on an instance of the
      class), or passes it to a call other than `show_doc`/`print`, or uses a value computed from
      one, directly or through earlier cells and other functions. A `test_fail(f)`
      without `contains=` (or whose `contains` text is in the slot's message) passes on a
      NotImplementedError and does not count. So an untouched notebook scores 0 on every
      autograded cell, and a cell scores once all the slots it needs are filled: a submission with
      one function filled scores the points of the cells that need that function alone
      (`Chapter.points_of`). Points: one per check in the cell, at most 5 (MAX_TEST_POINTS);
    * derivations: a locked "**Question.** Q" cell, then a manually graded answer cell
      `{solution: true, grade: true, points: 2}` (MANUAL_POINTS) holding the instructor's answer;
      a prose solution callout becomes such an answer cell too;
    * COURSE/nbgrader_config.py is written when missing (a stub that says where to look, 30 min
      per cell). Then, with the venv active (nbgrader runs its `alembic` script from PATH):
      `cd COURSE && nbgrader generate_assignment 03_logistic && nbgrader autograde 03_logistic`.
    Tested with nbgrader 0.9.6 (JupyterLab 4.6, nbconvert 7.17, nbclient 0.11).

Writes are atomic: everything is built in memory, written to a temporary folder beside OUTDIR and
moved into place; an existing OUTDIR is replaced only if this tool wrote it (`.student_edition`).
OUTDIR inside `nbs/` or the package is refused. `coursework_lib_student_edition.zip` in OUTDIR
holds every chapter.
"""

from __future__ import annotations

import argparse
import ast
import copy
import inspect
import io
import json
import os
import re
import shutil
import sys
import tempfile
import textwrap
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NBS = REPO / "nbs"
LIB = REPO / "coursework_lib"
MARKER = ".student_edition"
ZIP_NAME = "coursework_lib_student_edition.zip"
MAX_TEST_POINTS = 5
MANUAL_POINTS = 2
SCHEMA_VERSION = 3
CALLOUT = '::: {.callout-tip collapse="true" title="Solution"}'
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
NBGRADER_STUB = (
    "# YOUR CODE HERE\nraise NotImplementedError("
    '"Write your code here: see the docstring above, or the exercise.")'
)
NBGRADER_CONFIG = f'''"""nbgrader configuration of the course, from tools/student_edition.py."""
c = get_config()  # noqa: F821
c.ClearSolutions.code_stub = {{"python": {NBGRADER_STUB!r}}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Some chapters train networks on MNIST: allow a slow cell.
c.Execute.timeout = 1800
'''

_DIRECTIVE = re.compile(r"^\s*#\s?\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")
_SOLUTION_MD = re.compile(r"^\s*<!--\s*solution\s*:\s*(.*?)\s*-->", re.S)
_EXERCISE = re.compile(r"^\s*\*\*Exercise\s+(\d+)\b")
_EQUATION = re.compile(
    r"\b(?:eqs?\.|equations?)\s*(?:\([\w.]+\)|[0-9][\w.]*)"
    r"(?:\s*(?:,|and|to|–|-)\s*(?:\([\w.]+\)|[0-9][\w.]*))*",
    re.I,
)
# Calls that only look at a function passed to them.
_INSPECTORS = {
    "show_doc",
    "print",
    "help",
    "repr",
    "str",
    "id",
    "callable",
    "getattr",
    "hasattr",
    "isinstance",
    "type",
    "signature",
    "getsource",
    "test_eq_type",
    "display",
}
_ABBREV = ("e.g.", "i.e.", "eq.", "eqs.", "fig.", "cf.", "vs.", "etc.", "approx.", "resp.")


class StudentEditionError(Exception):
    "A notebook or command line the generator cannot honour; the message names notebook and cell."


@dataclass
class Slot:
    "One `raise NotImplementedError` of the student edition."

    key: str  # qualname ("softplus", "KMeans.fit") or "cell-<id>" for a computation
    kind: str  # "function" or "computation"
    cell_id: str
    message: str
    body: str  # the instructor's code the slot replaces
    deps: frozenset = frozenset()  # slot keys this slot's code needs (itself included)
    # a computation: the code of each of its runs of statements, in order
    parts: list = field(default_factory=list)


@dataclass
class TestCell:
    cell_id: str
    grade_id: str
    points: int
    deps: frozenset  # the slots that must be filled for the cell to pass
    exercise: int | None = None


@dataclass
class Chapter:
    name: str
    title: str
    student: nbformat.NotebookNode
    source: nbformat.NotebookNode
    slots: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    prompts: int = 0
    manual_points: int = 0
    exercises: int = 0
    self_checked: int = 0
    # (cell id, slot keys) of every cell whose execution reaches a slot, in notebook order
    raising_cells: list = field(default_factory=list)

    @property
    def points(self):
        return sum(t.points for t in self.tests)

    def points_of(self, key):
        "Points a submission scores with only the slot `key` filled in."
        return sum(t.points for t in self.tests if t.deps == {key})


# ------------------------------------------------------------------------------------ cell parsing
def split_directives(source):
    "([(name, text)], directive lines, code) of a code cell: nbdev's leading `#|` lines, the rest."
    lines = source.split("\n")
    i = 0
    while i < len(lines) and _DIRECTIVE.match(lines[i]):
        i += 1
    found = [_DIRECTIVE.match(line).groups() for line in lines[:i]]
    return found, lines[:i], "\n".join(lines[i:])


def directive_names(source):
    return {name for name, _ in split_directives(source)[0]}


def is_solution_cell(cell):
    return cell.cell_type == "code" and "solution" in directive_names(cell.source)


def _is_callout(cell):
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith(CALLOUT)


def _derivation_question(cell):
    if cell.cell_type != "markdown":
        return None
    m = _SOLUTION_MD.match(cell.source)
    return " ".join(m.group(1).split()) if m else None


def _mask_ipython(code):
    "The code with IPython-only lines (magics, shell escapes, `obj?`) as `pass`, for `ast.parse`."
    out = []
    for line in code.split("\n"):
        s = line.strip()
        if s.startswith(("%", "!")) or (s.endswith("?") and not s.startswith("#")):
            line = line[: len(line) - len(line.lstrip())] + "pass"
        out.append(line)
    return "\n".join(out)


def parse(code, where):
    try:
        return ast.parse(_mask_ipython(code))
    except SyntaxError as e:
        raise StudentEditionError(
            f"{where}: cannot parse the cell as Python ({e.msg}, line {e.lineno})"
        ) from None


def _is_docstring(stmt):
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _call_name(call):
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _is_check_call(node):
    if not isinstance(node, ast.Call):
        return False
    name = _call_name(node)
    return name.startswith(("test_", "assert_")) or name in ("assert_allclose", "assert_equal")


def count_checks(tree):
    return sum(isinstance(n, ast.Assert) or _is_check_call(n) for n in ast.walk(tree))


def _patched_classes(fn):
    "The classes a fastcore `@patch` adds `fn` to (from its first argument's annotation), or []."
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        name = (
            target.id
            if isinstance(target, ast.Name)
            else target.attr
            if isinstance(target, ast.Attribute)
            else ""
        )
        if name == "patch" and fn.args.args and fn.args.args[0].annotation is not None:
            return _annotation_names(fn.args.args[0].annotation)
    return []


def _annotation_names(node):
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Tuple):
        return [n for e in node.elts for n in _annotation_names(e)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _annotation_names(node.left) + _annotation_names(node.right)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return []


def _is_plumbing_init(fn):
    "An `__init__` that only stores its parameters (maybe calling super().__init__): plumbing."
    if fn.name != "__init__":
        return False
    body = fn.body[1:] if fn.body and _is_docstring(fn.body[0]) else fn.body
    for s in body:
        if isinstance(s, ast.Assign) and all(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
            for t in s.targets
        ):
            continue
        if (
            isinstance(s, ast.Expr)
            and isinstance(s.value, ast.Call)
            and isinstance(s.value.func, ast.Attribute)
            and s.value.func.attr == "__init__"
        ):
            continue
        if isinstance(s, ast.Pass):
            continue
        return False
    return True


# ---------------------------------------------------------------------------------------- messages
def _clean_text(text):
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = "\n".join(line for line in text.split("\n") if not line.strip().startswith(":::"))
    text = re.sub(r"^\s*#+\s*", "", text, flags=re.M)
    text = text.replace("**", "").replace("__", "")
    return " ".join(text.split())


def first_sentence(text):
    """The first sentence of a markdown text.

    An exercise's bold label `**Exercise N (kind).**` and a leading heading take the next one too.
    """
    lines = [line for line in text.strip().split("\n")]
    if lines and re.match(r"^\s*#+\s", lines[0]):
        heading, rest = _clean_text(lines[0]).rstrip(".:"), first_sentence("\n".join(lines[1:]))
        return _shorten(f"{heading}: {rest}" if rest else heading)
    text = _clean_text(text)
    sentences, start = [], 0
    for m in re.finditer(r"[.!?](?=\s+\S)", text):
        if text[: m.end()].lower().endswith(_ABBREV):
            continue
        sentences.append(text[start : m.end()].strip())
        start = m.end()
    sentences.append(text[start:].strip())
    sentences = [s for s in sentences if s]
    if not sentences:
        return ""
    first = sentences[0]
    if re.match(r"^Exercise\s+\d+\b", first) and len(sentences) > 1 and len(first) < 40:
        first = f"{first} {sentences[1]}"
    return _shorten(first)


def _shorten(text, limit=280):
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def function_message(qualname, doc, title):
    "The message of a function slot: what to implement and which equation (or chapter)."
    if doc:
        doc = inspect.cleandoc(doc)
        summary = _shorten(" ".join(doc.split("\n\n")[0].split())).rstrip(".")
        eq = _EQUATION.search(doc)
        eq = " ".join(eq.group(0).split()) if eq else None
        msg = f"Implement {qualname}: {summary}"
        if eq and eq.lower() not in summary.lower():
            msg += f" (see {eq} of the chapter “{title}”)"
        elif not eq:
            msg += f" (see the chapter “{title}”)"
        return " ".join(f"{msg}.".split())
    return " ".join(f"Implement {qualname}, as derived in the chapter “{title}”.".split())


def raise_lines(message, indent):
    "`raise NotImplementedError(message)` at `indent`, wrapped to 100 columns."
    message = " ".join(message.split())
    one = f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"
    if len(one) <= 100:
        return [one]
    width = max(40, 96 - len(indent) - 4)
    chunks = textwrap.wrap(message, width, drop_whitespace=False, break_on_hyphens=False)
    return (
        [f"{indent}raise NotImplementedError("]
        + [f"{indent}    {json.dumps(c, ensure_ascii=False)}" for c in chunks[:-1]]
        + [f"{indent}    {json.dumps(chunks[-1], ensure_ascii=False)})"]
    )


# ---------------------------------------------------------------------------------------- stubbing
def _byte_slice(line, start=None, end=None):
    return line.encode("utf-8")[start:end].decode("utf-8")


def _extend_end(lines, end, indent_len):
    "The last line of a block ending at `end` (1-based), with the deeper comments trailing it."
    j, last = end, end
    while j < len(lines):
        s = lines[j]
        if not s.strip():
            j += 1
            continue
        if s.lstrip().startswith("#") and len(s) - len(s.lstrip()) > indent_len:
            last = j = j + 1
            continue
        break
    return last


@dataclass
class _Edit:
    start: int  # 1-based first line replaced
    end: int  # 1-based last line replaced
    student: list  # replacement lines in the student edition
    source: list  # replacement lines in the nbgrader source
    removed: str  # the instructor's code removed


def _function_edit(lines, fn, message):
    body = fn.body
    has_doc = _is_docstring(body[0])
    rest = body[1:] if has_doc else body
    if not rest:
        return None
    def_indent = len(lines[fn.lineno - 1]) - len(lines[fn.lineno - 1].lstrip())
    end = _extend_end(lines, fn.end_lineno, def_indent)
    first = rest[0]
    line = lines[first.lineno - 1]
    head = _byte_slice(line, None, first.col_offset)
    if head.strip():
        # `def f(x): return x` (or docstring and code on one line): split the line before the body.
        indent = " " * (def_indent + 4)
        removed = [indent + _byte_slice(line, first.col_offset)] + lines[first.lineno : end]
        head = head.rstrip().rstrip(";").rstrip()
        return _Edit(
            first.lineno,
            end,
            [head] + raise_lines(message, indent),
            [head, indent + BEGIN] + removed + [indent + END],
            "\n".join(removed),
        )
    start = body[0].end_lineno + 1 if has_doc else first.lineno
    indent = head
    removed = lines[start - 1 : end]
    return _Edit(
        start,
        end,
        raise_lines(message, indent),
        [indent + BEGIN] + removed + [indent + END],
        "\n".join(removed),
    )


def _run_edit(lines, stmts, message, prev_end):
    "A computation slot replacing the statements `stmts` (and the comment lines just above them)."
    start = stmts[0].lineno
    while start - 1 > prev_end and lines[start - 2].strip().startswith("#"):
        start -= 1
    end = _extend_end(lines, stmts[-1].end_lineno, 0)
    removed = lines[start - 1 : end]
    return _Edit(
        start, end, raise_lines(message, ""), [BEGIN] + removed + [END], "\n".join(removed)
    )


def _apply(lines, edits, which):
    out = list(lines)
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out[e.start - 1 : e.end] = getattr(e, which)
    return out


# --------------------------------------------------------------------------------------- data flow
class _Flow:
    """Which slots each name (and each method of a chapter class) needs, cell after cell.

    Names are followed statement by statement: a stored name needs what the statement's free names
    need; a function needs what its body's free names need; `obj.meth` needs the method's slots when
    `obj` derives from the class.
    """

    def __init__(self, classes):
        self.classes = set(classes)
        self.dep = {}  # name -> frozenset of slot keys
        self.cls = {}  # name -> frozenset of chapter classes its value derives from
        self.attr = {}  # (class, attribute) -> frozenset of slot keys
        self.slot_messages = {}
        # names bound by imports: `np.testing.assert_allclose(...)` does not change np
        self.modules = set()
        self.functions = set()  # names bound to functions and classes of the notebook

    @staticmethod
    def called(node):
        """(names, attributes) that `node` calls, or passes to a call that may call them.

        `f(x)`, `obj.fit(X)`, `check_gradients(f, ...)`, `map(f, xs)` call f and fit;
        `show_doc(f)` and `print(obj.fit)` do not."""
        names, attrs = set(), set()
        for n in ast.walk(node):
            if not isinstance(n, ast.Call):
                continue
            if isinstance(n.func, ast.Name):
                names.add(n.func.id)
            elif isinstance(n.func, ast.Attribute):
                attrs.add(n.func.attr)
            if _call_name(n) in _INSPECTORS:
                continue
            for a in n.args + [k.value for k in n.keywords]:
                if isinstance(a, ast.Name):
                    names.add(a.id)
                elif isinstance(a, ast.Attribute):
                    attrs.add(a.attr)
        return names, attrs

    # --- free names
    @staticmethod
    def _bound_in(body):
        names = set()
        for stmt in body:
            for n in ast.walk(stmt):
                if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                    names.add(n.id)
                elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(n.name)
                elif isinstance(n, (ast.Import, ast.ImportFrom)):
                    names.update((a.asname or a.name).split(".")[0] for a in n.names)
                elif isinstance(n, ast.arg):
                    names.add(n.arg)
        return names

    @classmethod
    def _args(cls, a):
        return {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs} | {
            x.arg for x in (a.vararg, a.kwarg) if x
        }

    def free(self, node, bound=frozenset(), skip_bare_fail=False):
        "(free names loaded, attributes used) in `node`."
        names, attrs = set(), set()

        def visit(n, bound):
            if skip_bare_fail and isinstance(n, ast.Call) and self._is_bare_fail(n):
                for a in n.args[1:]:
                    visit(a, bound)
                return
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                for d in getattr(n, "decorator_list", []):
                    visit(d, bound)
                for d in n.args.defaults + [d for d in n.args.kw_defaults if d is not None]:
                    visit(d, bound)
                body = n.body if isinstance(n.body, list) else [n.body]
                inner = bound | self._args(n.args) | self._bound_in(body)
                for b in body:
                    visit(b, inner)
                return
            if isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                inner = bound | {
                    t.id
                    for g in n.generators
                    for t in ast.walk(g.target)
                    if isinstance(t, ast.Name)
                }
                for child in ast.iter_child_nodes(n):
                    visit(child, inner)
                return
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound:
                names.add(n.id)
            if isinstance(n, ast.Attribute):
                attrs.add(n.attr)
            for child in ast.iter_child_nodes(n):
                visit(child, bound)

        visit(node, frozenset(bound))
        return names, attrs

    def _is_bare_fail(self, call):
        "A `test_fail(f)` that a NotImplementedError from f's slots satisfies (no/its `contains`)."
        if _call_name(call) != "test_fail":
            return False
        contains = [k.value for k in call.keywords if k.arg == "contains"]
        if len(call.args) >= 3:
            contains.append(call.args[2])
        if not contains:
            return True
        c = contains[0]
        if not (isinstance(c, ast.Constant) and isinstance(c.value, str)):
            return False
        if not c.value:
            return True
        target = call.args[0] if call.args else None
        if target is None:
            return False
        keys = self.needs(*self.free(target))[0]
        return any(c.value in self.slot_messages.get(k, "") for k in keys)

    # --- what a set of names needs
    def classes_of(self, names):
        out = set()
        for n in names:
            if n in self.classes:
                out.add(n)
            out |= self.cls.get(n, frozenset())
        return out

    def needs(self, names, attrs, extra_classes=()):
        deps = set()
        for n in names:
            deps |= self.dep.get(n, frozenset())
        classes = self.classes_of(names) | set(extra_classes)
        for c in classes:
            for a in attrs:
                deps |= self.attr.get((c, a), frozenset())
        return frozenset(deps), frozenset(classes)

    # --- statements
    @staticmethod
    def stored(stmt):
        "(names a module-level statement binds, names it mutates)."
        binds, mutates = set(), set()

        def root(t):
            while isinstance(t, (ast.Attribute, ast.Subscript, ast.Starred)):
                t = t.value
            return t.id if isinstance(t, ast.Name) else None

        def targets(t):
            if isinstance(t, ast.Name):
                binds.add(t.id)
            elif isinstance(t, (ast.Tuple, ast.List)):
                for e in t.elts:
                    targets(e)
            elif isinstance(t, ast.Starred):
                targets(t.value)
            elif root(t):
                mutates.add(root(t))

        for n in ast.walk(stmt):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and n is not stmt:
                continue
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    targets(t)
            elif isinstance(n, (ast.AugAssign, ast.AnnAssign)):
                targets(n.target)
                if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                    mutates.add(n.target.id)
            elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
                if not isinstance(n, ast.comprehension):
                    targets(n.target)
            elif isinstance(n, ast.withitem) and n.optional_vars is not None:
                targets(n.optional_vars)
            elif isinstance(n, ast.NamedExpr):
                targets(n.target)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                binds.update((a.asname or a.name).split(".")[0] for a in n.names)
            elif (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and isinstance(n.func.value, ast.Name)
            ):
                # `obj.method(...)` may change obj (`history.append(loss)`).
                mutates.add(n.func.value.id)
        return binds, mutates

    def define_function(self, fn, own=frozenset(), owner=None):
        "Record what calling `fn` needs (`own`: its slot key, if it is a slot)."
        names, attrs = self.free(fn)
        owners = ([owner] if owner else []) + _patched_classes(fn)
        self.classes.update(owners)
        deps, _ = self.needs(
            names, attrs, extra_classes=[c for o in owners for c in self.cls.get(o, {o})]
        )
        deps = deps | own
        if owners:
            for c in owners:
                self.attr[(c, fn.name)] = deps
                if fn.name == "__init__":
                    self.dep[c] = self.dep.get(c, frozenset()) | deps
        else:
            self.dep[fn.name] = deps
            self.functions.add(fn.name)
        return deps

    def define_class(self, node, slot_keys=None):
        slot_keys = slot_keys or {}
        bases, _ = self.free(ast.Module(body=[ast.Expr(b) for b in node.bases], type_ignores=[]))
        ancestors = self.classes_of(bases)
        self.classes.add(node.name)
        self.cls[node.name] = frozenset({node.name} | ancestors)
        inherited = set()
        for b in bases:
            inherited |= self.dep.get(b, frozenset())
        self.dep[node.name] = frozenset(inherited)
        self.functions.add(node.name)
        for a in ancestors:
            for (c, attr), d in list(self.attr.items()):
                if c == a:
                    self.attr.setdefault((node.name, attr), d)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                key = slot_keys.get(stmt.name)
                self.define_function(
                    stmt, frozenset({key}) if key else frozenset(), owner=node.name
                )

    def statement(self, stmt, own=frozenset()):
        "Follow one module-level statement; return (what it needs, what running it can raise from)."
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.define_function(stmt, own)
            return frozenset(), frozenset()
        if isinstance(stmt, ast.ClassDef):
            self.define_class(stmt)
            return frozenset(), frozenset()
        names, attrs = self.free(stmt)
        deps, classes = self.needs(names, attrs)
        # A function raises only when called: `show_doc(softplus)` runs no slot.
        r_names, r_attrs = self.free(stmt, skip_bare_fail=True)
        c_names, c_attrs = self.called(stmt)
        raising, _ = self.needs(
            {n for n in r_names if n not in self.functions or n in c_names},
            r_attrs & c_attrs,
            extra_classes=classes,
        )
        deps, raising = deps | own, raising | own
        binds, mutates = self.stored(stmt)
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self.modules |= binds
        else:
            self.modules -= binds
        for n in binds:
            self.dep[n], self.cls[n] = deps, frozenset(classes)
        for n in mutates - binds - self.modules:
            self.dep[n] = self.dep.get(n, frozenset()) | deps
            self.cls[n] = self.cls.get(n, frozenset()) | classes
        return deps, raising


def _chapter_classes(cells):
    "The names of the classes the notebook's code cells define."
    names = set()
    for cell in cells:
        if cell.cell_type == "code":
            try:
                tree = ast.parse(_mask_ipython(split_directives(cell.source)[2]))
            except SyntaxError:
                continue
            names |= {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    return names


# ------------------------------------------------------------------------------------- one chapter
def _title(nb, name):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.match(r"^\s*#\s+(.+)", cell.source)
            if m:
                return m.group(1).strip()
    return name


def _preceding_markdown(cells, i):
    """What the text just above cell `i` asks for: the first sentence of the nearest markdown cell,
    unless a test cell comes between (that text was about the test): then the section's heading."""
    passed_test = False
    for cell in reversed(cells[:i]):
        if cell.cell_type == "code" and not passed_test:
            try:
                passed_test = bool(count_checks(ast.parse(_mask_ipython(cell.source))))
            except SyntaxError:
                pass
        if cell.cell_type != "markdown" or _is_callout(cell) or _derivation_question(cell):
            continue
        if not passed_test:
            sentence = first_sentence(cell.source)
            if sentence:
                return sentence
        heading = re.match(r"^\s*#+\s+(.+)", cell.source)
        if passed_test and heading:
            return f"the computation of the section “{_clean_text(heading.group(1))}”."
    return ""


def _sanitize(text):
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] or "cell"


def _nbgrader_meta(grade_id, *, solution, grade, locked, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def _new_cell(kind, source, cell_id):
    cell = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(
        source
    )
    cell.id = cell_id[:64]
    return cell


def _clear(cell):
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _split_solution_callouts(cells):
    """Give every solution callout that follows other text in a markdown cell a cell of its own,
    so that it is dropped like any other (the text around it stays)."""
    out = []
    for cell in cells:
        pending, k = [cell.source] if cell.cell_type == "markdown" else None, 0
        if pending is None or CALLOUT not in cell.source.lstrip()[1:]:
            out.append(cell)
            continue
        while pending:
            src = pending.pop()
            at = src.find(CALLOUT)
            if at < 0 or not src[:at].strip():
                end = src.find("\n:::", max(at, 0)) if at >= 0 else -1
                head, rest = (src, "") if at < 0 or end < 0 else (src[: end + 4], src[end + 4 :])
                pieces = [head] + ([rest] if rest.strip() else [])
            else:
                pieces = [src[:at].rstrip(), src[at:]]
            piece, *more = pieces
            new = copy.deepcopy(cell)
            new.source = piece.strip("\n")
            if k:
                new.id = f"{cell.get('id') or 'cell'}-{k}"
            out.append(new)
            k += 1
            pending.extend(reversed(more))
    return out


def build_chapter(nb, name):
    """The student edition and the nbgrader source of the instructor's notebook `nb` (named `name`).

    Raises StudentEditionError naming the notebook and cell of anything it cannot turn into a slot.
    """
    nb = copy.deepcopy(nb)
    nb.cells = _split_solution_callouts(nb.cells)
    ids = set()
    for i, cell in enumerate(nb.cells):
        # Slots are found again by cell id (student edition, nbgrader source): make them unique.
        if not cell.get("id") or cell.id in ids:
            cell.id = f"cell-{i}"
        ids.add(cell.id)
    title = _title(nb, name)
    flow = _Flow(_chapter_classes(nb.cells))
    ch = Chapter(name, title, copy.deepcopy(nb), copy.deepcopy(nb))
    student_cells, source_cells = [], []
    seen_ids, exercise = set(), None

    def grade_id(base):
        gid, n = _sanitize(base), 2
        while gid in seen_ids:
            gid, n = f"{_sanitize(base)}-{n}", n + 1
        seen_ids.add(gid)
        return gid

    def _answer_cell(text, cell_id, grade_key):
        "A manually graded answer cell of the nbgrader source, holding the worked answer `text`."
        answer = _new_cell("markdown", text or "…", cell_id)
        answer.metadata["nbgrader"] = _nbgrader_meta(
            grade_id(grade_key), solution=True, grade=True, locked=False, points=MANUAL_POINTS
        )
        return answer

    for i, cell in enumerate(nb.cells):
        where = f"{name}.ipynb, cell {i} (id {cell.get('id', '?')})"
        if cell.cell_type == "markdown":
            if _EXERCISE.match(cell.source):
                exercise = int(_EXERCISE.match(cell.source).group(1))
                ch.exercises += 1
            elif re.match(r"^\s*##\s", cell.source) and not _is_callout(cell):
                exercise = None if not re.match(r"^\s*##\s+Exercises", cell.source) else exercise
            q = _derivation_question(cell)
            if _is_callout(cell):
                body = cell.source.strip()[len(CALLOUT) :].strip()
                body = body[:-3].rstrip() if body.endswith(":::") else body
                source_cells.append(_answer_cell(body, f"{cell.id}-answer", f"answer-{cell.id}"))
                ch.manual_points += MANUAL_POINTS
                continue
            if q is not None:
                if not q:
                    raise StudentEditionError(
                        f"{where}: `<!-- solution: ... -->` needs the question after 'solution:'"
                    )
                ch.prompts += 1
                answer_md = _SOLUTION_MD.sub("", cell.source, count=1).strip()
                student_cells.append(
                    _new_cell(
                        "markdown",
                        f"**Question.** {q}\n\n**Your answer.** _Write your answer here._",
                        cell.id,
                    )
                )
                prompt = _new_cell("markdown", f"**Question.** {q}", f"{cell.id}-question")
                prompt.metadata["nbgrader"] = _nbgrader_meta(
                    grade_id(f"question-{cell.id}"), solution=False, grade=False, locked=True
                )
                source_cells += [prompt, _answer_cell(answer_md, cell.id, f"answer-{cell.id}")]
                ch.manual_points += MANUAL_POINTS
                continue
            student_cells.append(copy.deepcopy(cell))
            source_cells.append(copy.deepcopy(cell))
            continue
        if cell.cell_type != "code":
            student_cells.append(copy.deepcopy(cell))
            source_cells.append(copy.deepcopy(cell))
            continue

        directives, directive_lines, code = split_directives(cell.source)
        names = {n for n, _ in directives}
        if "solution" in names:
            if code.lstrip().startswith("%%"):
                raise StudentEditionError(f"{where}: a `#| solution` cell cannot be a cell magic")
            text = next(t for n, t in directives if n == "solution")
            kept = [
                line
                for (n, _), line in zip(directives, directive_lines, strict=True)
                if n not in ("solution", "code-fold")
            ]
            s_code, g_code, slots = _solution_code(
                code,
                "export" in names,
                text,
                title,
                where,
                flow,
                lambda i=i: _preceding_markdown(nb.cells, i),
                cell.get("id", str(i)),
            )
            if not slots:
                warnings.warn(
                    f"{where}: `#| solution` cell with nothing to replace (no body, no code)",
                    stacklevel=2,
                )
            if count_checks(parse(code, where)):
                warnings.warn(
                    f"{where}: `#| solution` cell makes checks; tests belong in their own cell",
                    stacklevel=2,
                )
            ch.slots += slots
            if any(s.kind == "computation" for s in slots):
                ch.raising_cells.append(
                    (
                        cell.get("id", str(i)),
                        frozenset(s.key for s in slots if s.kind == "computation"),
                    )
                )
            scell, gcell = copy.deepcopy(cell), copy.deepcopy(cell)
            scell.source = "\n".join(kept + s_code)
            gcell.source = "\n".join(kept + g_code)
            base = "-".join(s.key for s in slots) if slots else cell.id
            gcell.metadata["nbgrader"] = _nbgrader_meta(
                grade_id(f"impl-{base}"), solution=True, grade=False, locked=False
            )
            student_cells.append(scell)
            source_cells.append(gcell)
            continue

        try:
            tree = (
                ast.parse(_mask_ipython(code))
                if not code.lstrip().startswith("%%")
                else ast.Module(body=[], type_ignores=[])
            )
        except SyntaxError:
            warnings.warn(
                f"{where}: not Python, the cell is left out of the data-flow analysis", stacklevel=2
            )
            tree = ast.Module(body=[], type_ignores=[])
        raising = frozenset()
        for stmt in tree.body:
            _, r = flow.statement(stmt)
            raising |= r
        if raising:
            ch.raising_cells.append((cell.get("id", str(i)), raising))
        scell, gcell = copy.deepcopy(cell), copy.deepcopy(cell)
        checks = count_checks(tree)
        if checks and raising and "export" not in names:
            gid = grade_id(f"test-{len(ch.tests) + 1:02d}-{sorted(raising)[0]}")
            t = TestCell(
                cell.get("id", str(i)), gid, min(checks, MAX_TEST_POINTS), raising, exercise
            )
            ch.tests.append(t)
            gcell.metadata["nbgrader"] = _nbgrader_meta(
                gid, solution=False, grade=True, locked=True, points=t.points
            )
        student_cells.append(scell)
        source_cells.append(gcell)

    ch.self_checked = len({t.exercise for t in ch.tests if t.exercise is not None})
    for nbk, cells in ((ch.student, student_cells), (ch.source, source_cells)):
        nbk.cells = [_clear(c) for c in cells]
        nbk.metadata.setdefault(
            "kernelspec", {"display_name": "python3", "language": "python", "name": "python3"}
        )
    ch.source.metadata.pop("celltoolbar", None)
    _self_check(ch, nb)
    return ch


def _solution_code(code, export, text, title, where, flow, preceding, cell_id):
    "(student lines, nbgrader source lines, slots) of the code part of a `#| solution` cell."
    tree = parse(code, where)
    lines = code.split("\n")
    edits, slots = [], []
    has_defs = any(
        isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for s in tree.body
    )
    keep_statements = export and has_defs

    def function(fn, qualname, owner=None):
        doc = ast.get_docstring(fn, clean=False)
        msg = function_message(qualname, doc, title)
        edit = _function_edit(lines, fn, msg)
        if edit is None:
            flow.define_function(fn, owner=owner)
            return
        edits.append(edit)
        flow.slot_messages[qualname] = msg
        deps = flow.define_function(fn, frozenset({qualname}), owner=owner)
        slots.append(Slot(qualname, "function", cell_id, msg, edit.removed, deps))

    def klass(node, prefix=""):
        qual = f"{prefix}{node.name}"
        methods = {}
        for stmt in node.body:
            if (
                isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not _is_plumbing_init(stmt)
                and stmt.body[1 if _is_docstring(stmt.body[0]) else 0 :]
            ):
                methods[stmt.name] = f"{qual}.{stmt.name}"
        for stmt in node.body:
            if isinstance(stmt, ast.ClassDef):
                klass(stmt, f"{qual}.")
        # Record the class with its slot methods, then cut the bodies.
        flow.define_class(node, slot_keys=methods)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in methods:
                doc = ast.get_docstring(stmt, clean=False)
                msg = function_message(methods[stmt.name], doc, title)
                edit = _function_edit(lines, stmt, msg)
                if edit is None:
                    continue
                edits.append(edit)
                flow.slot_messages[methods[stmt.name]] = msg
                slots.append(
                    Slot(
                        methods[stmt.name],
                        "function",
                        cell_id,
                        msg,
                        edit.removed,
                        flow.attr.get((node.name, stmt.name), frozenset({methods[stmt.name]})),
                    )
                )

    run, prev_end = [], 0
    comp_key = f"cell-{cell_id}"
    comp_msg = None

    def close_run():
        nonlocal run, comp_msg
        if not run:
            return
        if comp_msg is None:
            sentence = preceding()
            comp_msg = (
                _shorten(" ".join(text.split()))
                if text
                else f"Complete this cell – {sentence}"
                if sentence
                else f"Complete this computation of the chapter “{title}”."
            )
            comp_msg = " ".join(comp_msg.split())
        edit = _run_edit(lines, run, comp_msg, prev_end_of_run[0])
        edits.append(edit)
        flow.slot_messages[comp_key] = comp_msg
        deps = frozenset()
        for stmt in run:
            d, _ = flow.statement(stmt, own=frozenset({comp_key}))
            deps |= d
        if slots and slots[-1].key == comp_key:
            last = slots[-1]
            last.body += "\n" + edit.removed
            last.deps, last.parts = last.deps | deps, last.parts + [edit.removed]
        else:
            slots.append(
                Slot(comp_key, "computation", cell_id, comp_msg, edit.removed, deps, [edit.removed])
            )
        run = []

    prev_end_of_run = [0]
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            close_run()
            flow.statement(stmt)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            close_run()
            patched = _patched_classes(stmt)
            function(stmt, f"{patched[0]}.{stmt.name}" if patched else stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            close_run()
            klass(stmt)
        elif keep_statements:
            close_run()
            flow.statement(stmt)
        else:
            if not run:
                prev_end_of_run[0] = prev_end
            run.append(stmt)
        if not run:
            prev_end = stmt.end_lineno
    close_run()
    return _apply(lines, edits, "student"), _apply(lines, edits, "source"), slots


def _self_check(ch, instructor):
    "Guard the generator's own output: student code parses, every slot raises its message."
    for cell in ch.student.cells:
        if cell.cell_type == "code" and not cell.source.lstrip().startswith("%%"):
            parse(
                split_directives(cell.source)[2],
                f"{ch.name}.ipynb (student edition, cell {cell.id})",
            )
    cells = {c.id: c for c in ch.student.cells}
    for s in ch.slots:
        tree = ast.parse(_mask_ipython(split_directives(cells[s.cell_id].source)[2]))
        messages = [
            ast.literal_eval(n.exc.args[0])
            for n in ast.walk(tree)
            if isinstance(n, ast.Raise)
            and isinstance(n.exc, ast.Call)
            and _call_name(n.exc) == "NotImplementedError"
            and n.exc.args
        ]
        if s.message not in messages:
            raise StudentEditionError(
                f"{ch.name}.ipynb: the slot {s.key} lost its message (generator bug)"
            )


# ----------------------------------------------------------------------------------- filling slots
def fill_function(source, qualname, body):
    """`source` (a cell) with the body of the function `qualname` replaced by `body`.

    Works on the student edition (our `raise NotImplementedError(...)`) and on nbgrader's release.
    """
    directives, dlines, code = split_directives(source)
    tree = ast.parse(_mask_ipython(code))
    lines = code.split("\n")
    parts = qualname.split(".")
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != parts[-1]:
            continue
        patched = _patched_classes(node)
        owner = next(
            (c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and node in c.body), None
        )
        qual = (
            f"{owner.name}.{node.name}"
            if owner
            else f"{patched[0]}.{node.name}"
            if patched
            else node.name
        )
        if qual != qualname:
            continue
        has_doc = _is_docstring(node.body[0])
        start = node.body[0].end_lineno + 1 if has_doc else node.body[0].lineno
        if not has_doc and node.body[0].lineno == node.lineno:
            raise ValueError(f"{qualname}: a one-line stub cannot be filled")
        end = node.end_lineno
        lines[start - 1 : end] = body.split("\n")
        return "\n".join(dlines + lines)
    raise KeyError(f"no function {qualname} in the cell")


def fill_computation(source, parts):
    "`source` with its computation slots (module-level `raise NotImplementedError`s) as `parts`."
    directives, dlines, code = split_directives(source)
    tree = ast.parse(_mask_ipython(code))
    lines = code.split("\n")
    raises = [
        s
        for s in tree.body
        if isinstance(s, ast.Raise)
        and isinstance(s.exc, ast.Call)
        and _call_name(s.exc) == "NotImplementedError"
    ]
    if len(raises) != len(parts):
        raise KeyError(f"the cell has {len(raises)} computation slots, not {len(parts)}")
    for stmt, body in reversed(list(zip(raises, parts, strict=True))):
        start = stmt.lineno
        if start >= 2 and lines[start - 2].strip() == "# YOUR CODE HERE":
            start -= 1
        lines[start - 1 : stmt.end_lineno] = body.split("\n")
    return "\n".join(dlines + lines)


def fill(nb, chapter, keys=None):
    "A copy of the student notebook `nb`, the instructor's code back in the slots `keys` (or all)."
    nb = copy.deepcopy(nb)
    by_id = {c.get("id"): c for c in nb.cells}
    for slot in chapter.slots:
        if keys is not None and slot.key not in keys:
            continue
        cell = by_id[slot.cell_id]
        if slot.kind == "function":
            cell.source = fill_function(cell.source, slot.key, slot.body)
        else:
            cell.source = fill_computation(cell.source, slot.parts)
    return nb


# -------------------------------------------------------------------------------------- the course
def chapter_paths(nbs=NBS, chapters=None):
    "The numbered notebooks of `nbs`, or those `chapters` names ('3', '03', '03_logistic')."
    nbs = Path(nbs)
    if not nbs.is_dir():
        raise StudentEditionError(f"the notebook folder {nbs} does not exist")
    available = sorted(p for p in nbs.glob("*.ipynb") if re.match(r"^\d\d_", p.name))
    if not chapters:
        return available
    out = []
    for token in chapters:
        t = token[:-6] if token.endswith(".ipynb") else token
        t = f"{int(t):02d}" if t.isdigit() else t
        match = [p for p in available if p.stem == t or p.stem.startswith(t + "_")]
        if not match:
            raise StudentEditionError(
                f"no chapter notebook matches {token!r} in {nbs.name}/ "
                f"(there are: {', '.join(p.stem for p in available)})"
            )
        out += [p for p in match if p not in out]
    return out


def build(paths):
    chapters = []
    for p in paths:
        try:
            nb = nbformat.read(p, as_version=4)
        except Exception as e:
            raise StudentEditionError(f"{p.name}: cannot read the notebook ({e})") from None
        chapters.append(build_chapter(nb, p.stem))
    return chapters


def _inside(path, parent):
    try:
        path.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def _check_target(path, what):
    path = Path(path)
    for forbidden in (NBS, LIB):
        if _inside(path, forbidden):
            raise StudentEditionError(
                f"{what} {path} is inside {forbidden.name}/: nbdev would take the student "
                "notebooks for sources; choose a folder outside the repository's sources"
            )
    if path.exists() and not path.is_dir():
        raise StudentEditionError(f"{what} {path} exists and is not a folder")
    return path


def _write_nb(nb, path):
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)


def _replace_dir(tmp, dest):
    "Move the finished folder `tmp` to `dest`, replacing what is there."
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
        os.rename(tmp, dest)
        shutil.rmtree(old)
    else:
        os.rename(tmp, dest)


def _temp_dir(parent, name):
    "A new hidden folder in `parent` with an ordinary folder's permissions (mkdtemp's are 700)."
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    return tmp


def write_student_edition(chapters, outdir, zip_all=True):
    outdir = _check_target(Path(outdir), "OUTDIR")
    if outdir.exists() and any(outdir.iterdir()) and not (outdir / MARKER).exists():
        raise StudentEditionError(
            f"OUTDIR {outdir} is not empty and was not written by this tool (no {MARKER}): "
            "choose a new or empty folder"
        )
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_dir(outdir.parent, outdir.name)
    try:
        for ch in chapters:
            _write_nb(ch.student, tmp / f"{ch.name}.ipynb")
        (tmp / MARKER).write_text(
            "Written by tools/student_edition.py; the whole folder is regenerated.\n"
        )
        (tmp / "README.md").write_text(_readme(chapters), encoding="utf-8")
        if zip_all:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for p in sorted(tmp.iterdir()):
                    if p.suffix in (".ipynb", ".md"):
                        z.write(p, f"coursework_lib_student_edition/{p.name}")
            (tmp / ZIP_NAME).write_bytes(buf.getvalue())
        _replace_dir(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outdir


def _readme(chapters):
    rows = "\n".join(
        f"| `{c.name}.ipynb` | {c.title} | {c.exercises} | {len(c.slots)} |" for c in chapters
    )
    return (
        "# coursework_lib: the student edition\n\n"
        "Every solution of the course's notebooks is replaced by a slot: a function keeps its "
        "signature and docstring and raises `NotImplementedError` saying what to implement; the "
        "tests stay, so run a notebook top to bottom to see what is left to do. Install the "
        "library and set `COURSEWORK_DATA` to the folder holding the course's data files, as the "
        "course's README says.\n\n"
        "| notebook | chapter | exercises | slots |\n|---|---|---|---|\n" + rows + "\n"
    )


def write_nbgrader_course(chapters, course):
    "COURSE/source/<chapter>/<chapter>.ipynb of each chapter with grades, and nbgrader_config.py."
    course = _check_target(Path(course), "the nbgrader course folder")
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        fd, tmpname = tempfile.mkstemp(dir=course, prefix=".nbgrader_config.", suffix=".py")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmpname, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(NBGRADER_CONFIG)
        os.replace(tmpname, config)
    (course / "source").mkdir(exist_ok=True)
    written = []
    for ch in chapters:
        if not (ch.slots or ch.tests or ch.manual_points):
            continue
        tmp = _temp_dir(course / "source", ch.name)
        try:
            _write_nb(ch.source, tmp / f"{ch.name}.ipynb")
            _replace_dir(tmp, course / "source" / ch.name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        written.append(ch.name)
    return written


def stats_table(chapters):
    head = (
        "| chapter | exercises | self-checked | slots | prompts | autograded cells "
        "| autograded points "
        "| manual points |\n|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {c.name} | {c.exercises} | {c.self_checked} | {len(c.slots)} | {c.prompts} "
        f"| {len(c.tests)} "
        f"| {c.points} | {c.manual_points} |"
        for c in chapters
    ]
    tot = [sum(getattr(c, k) for c in chapters) for k in ("exercises", "self_checked")]
    rows.append(
        f"| total | {tot[0]} | {tot[1]} | {sum(len(c.slots) for c in chapters)} "
        f"| {sum(c.prompts for c in chapters)} | {sum(len(c.tests) for c in chapters)} "
        f"| {sum(c.points for c in chapters)} | {sum(c.manual_points for c in chapters)} |"
    )
    return "\n".join([head] + rows)


def _command(args):
    if args.outdir:
        _check_target(args.outdir, "OUTDIR")
    if args.nbgrader:
        _check_target(args.nbgrader, "the nbgrader course folder")
    chapters = build(chapter_paths(args.nbs, args.chapters))
    if args.outdir:
        out = write_student_edition(chapters, args.outdir, zip_all=not args.no_zip)
        print(f"student edition: {len(chapters)} notebooks in {out}")
    if args.nbgrader:
        names = write_nbgrader_course(chapters, args.nbgrader)
        print(
            f"nbgrader source assignments: {', '.join(names) or 'none'} "
            f"in {args.nbgrader / 'source'}"
        )
    if args.stats:
        print(stats_table(chapters))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("outdir", nargs="?", type=Path, help="folder to write the student edition into")
    ap.add_argument(
        "--nbgrader",
        type=Path,
        metavar="COURSE_DIR",
        help="also write nbgrader source assignments into COURSE_DIR/source/<chapter>/",
    )
    ap.add_argument(
        "--chapters", nargs="+", metavar="CHAPTER", help="e.g. 01 03_logistic (default: all)"
    )
    ap.add_argument(
        "--no-zip", action="store_true", help="do not write the archive of all chapters"
    )
    ap.add_argument("--stats", action="store_true", help="print the per-chapter counts")
    ap.add_argument("--nbs", type=Path, default=NBS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not (args.outdir or args.nbgrader or args.stats):
        ap.error("name OUTDIR (or --nbgrader COURSE_DIR, or --stats)")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *a, **k: print(
            f"student_edition: warning: {message}", file=sys.stderr
        )
        try:
            _command(args)
        except StudentEditionError as e:
            print(f"student_edition: error: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
