"""The main job (`tools/build_site.py`) on a minimal nbdev project in a temporary folder: it executes notebooks in place,
refuses clearly when one fails (naming the notebook and the cell), and only ever replaces `_docs/` with a whole site."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
OLD_SITE = "<html><body>the previous site</body></html>"


def write_nb(path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "python3", "language": "python", "name": "python3"}
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path):
    "A minimal copy of this project's layout: settings, site config, a landing page, an empty package, an old site."
    root = tmp_path / "proj"
    (root / "nbs").mkdir(parents=True)
    (root / "coursework_lib").mkdir()
    (root / "coursework_lib" / "__init__.py").write_text('__version__ = "0.0.0"\n')
    for f in ("settings.ini", "_quarto.yml", "nbs/styles.css"):
        shutil.copy(REPO / f, root / f)
    (root / "nbs" / "_quarto.yml").symlink_to("../_quarto.yml")
    write_nb(root / "nbs" / "index.ipynb", [
        new_markdown_cell("# Minimal\n\n> A landing page."),
        new_code_cell("import os\nprint('data:', os.environ.get('COURSEWORK_DATA'))"),
        new_code_cell("#| eval: false\nraise RuntimeError('a cell marked eval: false must not run')"),
    ])
    (root / "_docs").mkdir()
    (root / "_docs" / "index.html").write_text(OLD_SITE)
    return root


def main_job(root, *args, renderer="smalldocs", env=None):
    env = {k: v for k, v in (env or os.environ).items() if k != "COURSEWORK_DATA"}
    return subprocess.run([sys.executable, str(REPO / "tools" / "build_site.py"), "--project", str(root),
                           "--renderer", renderer, *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_failing_notebook_names_notebook_and_cell_and_keeps_old_site(project):
    bad = project / "nbs" / "01_broken.ipynb"
    write_nb(bad, [
        new_markdown_cell("# Broken\n\n> Fails in its third cell."),
        new_code_cell("x = 1"),
        new_code_cell("y = x / 0"),
        new_code_cell("print('never reached')"),
    ])
    before = bad.read_bytes()
    res = main_job(project)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "01_broken.ipynb failed in cell 2" in res.stderr, out
    assert "ZeroDivisionError" in res.stderr and "y = x / 0" in res.stderr, out
    assert "is as it was" in res.stderr, out
    assert (project / "_docs" / "index.html").read_text() == OLD_SITE
    assert sorted(p.name for p in (project / "_docs").iterdir()) == ["index.html"]
    assert bad.read_bytes() == before, "a notebook that failed must not be overwritten"


def test_success_executes_in_place_and_swaps_the_site(project, tmp_path):
    shared = tmp_path / "shared" / "data" / "coursework"  # ../shared/data/coursework beside the project
    shared.mkdir(parents=True)
    res = main_job(project)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "[ 1/1] index.ipynb ... " in res.stdout and "Executed 1 notebooks in" in res.stdout, out
    assert "python -m http.server -d _docs" in res.stdout, out

    nb = json.loads((project / "nbs" / "index.ipynb").read_text())
    printed = "".join(nb["cells"][1]["outputs"][0]["text"])
    assert printed.strip() == f"data: {shared.resolve()}", "COURSEWORK_DATA defaults to ../shared/data/coursework"
    assert nb["cells"][2]["outputs"] == [], "the eval: false cell ran"
    assert all(c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code"), \
        "saved notebooks must be as nbdev_clean leaves them"
    assert "language_info" not in nb["metadata"]

    index = (project / "_docs" / "index.html").read_text()
    assert index != OLD_SITE and "Minimal" in index and "data: " in index
    assert (project / "README.md").read_text().startswith("# Minimal\n")
    assert not (project / "_docs.old").exists()


def test_skip_execution_renders_saved_outputs_only(project):
    res = main_job(project, "--skip-execution")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Executing" not in res.stdout
    nb = json.loads((project / "nbs" / "index.ipynb").read_text())
    assert nb["cells"][1]["outputs"] == [], "--skip-execution must run nothing"
    assert "Minimal" in (project / "_docs" / "index.html").read_text()


def test_quarto_on_path_is_used_and_its_failure_keeps_old_site(project, tmp_path):
    "With `quarto` on PATH the job renders through nbdev_docs; a Quarto that fails leaves `_docs/` as it was."
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "quarto-calls"
    fake = bin_dir / "quarto"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\nexit 3\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    res = main_job(project, "--skip-execution", renderer="auto", env=env)
    assert res.returncode != 0, res.stdout + res.stderr
    assert "Rendering with Quarto (nbdev_docs)" in res.stdout
    assert "nbdev_docs failed (exit code 3)" in res.stderr, res.stderr
    assert "render" in calls.read_text()
    assert (project / "_docs" / "index.html").read_text() == OLD_SITE



def test_katex_needs_npm_once_and_checks_the_pinned_hash(tmp_path, monkeypatch):
    "KaTeX comes from the cache, else from npm once; a tarball that is not the pinned release is refused."
    sys.path.insert(0, str(REPO / "tools"))
    import build_site

    monkeypatch.setenv("COURSEWORK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(build_site.BuildFailed, match="not cached in .* and npm is not on PATH"):
        build_site.katex_dist()

    # An `npm` whose `pack` writes some other tarball where npm would put katex's.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text('#!/bin/sh\necho not katex > "$4/katex-0.0.0.tgz"\n')
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    with pytest.raises(build_site.BuildFailed, match="hashes to sha512-.*not the pinned"):
        build_site.katex_dist()
    assert not (tmp_path / "cache" / f"katex-{build_site.KATEX_VERSION}").exists()
