"""The main job (`tools/build_site.py`) on a minimal nbdev project in a temporary folder: it
executes notebooks in place, refuses clearly when one fails (naming the notebook and the cell),
and only ever replaces `_docs/` with a whole site."""

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
pytestmark = pytest.mark.slow  # each test runs the main job or nbdev in a subprocess
OLD_SITE = "<html><body>the previous site</body></html>"


def write_nb(path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "python3", "language": "python", "name": "python3"}
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path):
    """A minimal copy of this project's layout: settings, site config, a landing page, an empty
    package, an old site."""
    root = tmp_path / "proj"
    (root / "nbs").mkdir(parents=True)
    (root / "coursework_lib").mkdir()
    (root / "coursework_lib" / "__init__.py").write_text('__version__ = "0.0.0"\n')
    for f in (
        "settings.ini",
        "nbs/_quarto.yml",
        "nbs/styles.css",
        "nbs/theme.scss",
        "nbs/favicon.svg",
    ):
        shutil.copy(REPO / f, root / f)
    write_nb(
        root / "nbs" / "index.ipynb",
        [
            new_markdown_cell("# Minimal\n\n> A landing page."),
            new_code_cell("import os\nprint('data:', os.environ.get('COURSEWORK_DATA'))"),
            new_code_cell(
                "#| eval: false\nraise RuntimeError('a cell marked eval: false must not run')"
            ),
        ],
    )
    (root / "_docs").mkdir()
    (root / "_docs" / "index.html").write_text(OLD_SITE)
    return root


def main_job(root, *args, renderer="smalldocs", env=None):
    env = {k: v for k, v in (env or os.environ).items() if k != "COURSEWORK_DATA"}
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "build_site.py"),
            "--project",
            str(root),
            "--renderer",
            renderer,
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_failing_notebook_names_notebook_and_cell_and_keeps_old_site(project):
    bad = project / "nbs" / "01_broken.ipynb"
    write_nb(
        bad,
        [
            new_markdown_cell("# Broken\n\n> Fails in its third cell."),
            new_code_cell("x = 1"),
            new_code_cell("y = x / 0"),
            new_code_cell("print('never reached')"),
        ],
    )
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
    # A course folder beside the project is not looked for: COURSEWORK_DATA is the one mechanism.
    (tmp_path / "shared" / "data" / "coursework").mkdir(parents=True)
    res = main_job(project)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "[ 1/1] index.ipynb ... " in res.stdout and "Executed 1 notebooks in" in res.stdout, out
    assert "course data: embedded defaults" in res.stdout, out
    assert "python -m http.server -d _docs" in res.stdout, out
    assert str(tmp_path) not in out, "the main job must not print where it runs"

    nb = json.loads((project / "nbs" / "index.ipynb").read_text())
    printed = "".join(nb["cells"][1]["outputs"][0]["text"])
    assert printed.strip() == "data: None", "COURSEWORK_DATA must stay unset when it is unset"
    assert nb["cells"][2]["outputs"] == [], "the eval: false cell ran"
    assert all(c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code"), (
        "saved notebooks must be as nbdev_clean leaves them"
    )
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
    """With `quarto` on PATH the job renders with Quarto after nbdev's processing; a failure leaves
    `_docs/` as it was."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "quarto-calls"
    fake = bin_dir / "quarto"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 3\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    res = main_job(project, "--skip-execution", renderer="auto", env=env)
    assert res.returncode != 0, res.stdout + res.stderr
    assert "Rendering with Quarto" in res.stdout
    assert "quarto render failed (exit code 3)" in res.stderr, res.stderr
    assert "render" in calls.read_text()
    assert (project / "_docs" / "index.html").read_text() == OLD_SITE


def test_katex_needs_npm_once_and_checks_the_pinned_hash(tmp_path, monkeypatch):
    """KaTeX comes from the cache, else from npm once; a tarball that is not the pinned release is
    refused."""
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


def test_nbs_quarto_yml_is_a_plain_file():
    """nbdev users find the site's configuration in nbs/_quarto.yml, a file of its own (no symlink,
    no second copy)."""
    cfg = REPO / "nbs" / "_quarto.yml"
    assert cfg.is_file() and not cfg.is_symlink()
    assert not (REPO / "_quarto.yml").exists()
    text = cfg.read_text()
    for option in (
        "page-navigation: true",
        "back-to-top-navigation: true",
        "favicon:",
        "method: katex",
    ):
        assert option in text, option


def test_setup_publishes_the_status_settings_ini_names():
    """settings.ini's `status = 3` is the classifier's own number: '3 - Alpha' (nbdev's default
    status, 3)."""
    import configparser

    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(REPO / "settings.ini")
    res = subprocess.run(
        [sys.executable, "setup.py", "--classifiers"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    status = next(line for line in res.stdout.splitlines() if line.startswith("Development Status"))
    assert status.startswith(f"Development Status :: {cfg['DEFAULT']['status']} - "), status


def test_sync_check_fails_on_drift_and_never_touches_the_tree(tmp_path):
    """tools/check_sync.sh: nbdev_clean + nbdev_export on a scratch copy, then `git status
    --porcelain` must be empty."""
    root = tmp_path / "proj"
    (root / "nbs").mkdir(parents=True)
    (root / "tools").mkdir()
    shutil.copy(REPO / "settings.ini", root / "settings.ini")
    shutil.copy(REPO / "tools" / "check_sync.sh", root / "tools" / "check_sync.sh")
    write_nb(
        root / "nbs" / "00_tiny.ipynb",
        [
            new_code_cell("#| default_exp tiny"),
            new_markdown_cell("# Tiny\n\n> One function."),
            new_code_cell("#| export\ndef one():\n    return 1"),
        ],
    )
    env = {**os.environ, "NBDEV_BIN": str(Path(sys.executable).parent)}
    bin_dir = Path(sys.executable).parent
    for tool in ("nbdev_export", "nbdev_clean"):
        subprocess.run(
            [str(bin_dir / tool)], cwd=root, check=True, capture_output=True, timeout=120
        )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(git + ["add", "-A"], cwd=root, check=True)
    subprocess.run(git + ["commit", "-qm", "base"], cwd=root, check=True)

    def check_sync():
        return subprocess.run(
            ["bash", "tools/check_sync.sh"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    ok = check_sync()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    module = root / "coursework_lib" / "tiny.py"
    module.write_text(module.read_text() + "\nedited_by_hand = True\n")
    before = module.read_text()
    bad = check_sync()
    assert bad.returncode == 1 and "coursework_lib/tiny.py" in bad.stdout, bad.stdout + bad.stderr
    assert module.read_text() == before, "the check must not rewrite the working tree"


def test_test_script_fails_when_pytest_collects_nothing():
    "tools/test.sh turns pytest's exit 5 (no tests ran) into a failure."
    text = (REPO / "tools" / "test.sh").read_text()
    assert '"$status" -eq 5' in text and "exit 1" in text


@pytest.mark.skipif(shutil.which("quarto") is None, reason="Quarto is not on PATH")
def test_quarto_site_is_self_contained(project):
    "Issue 15.1 under real Quarto: KaTeX served from site_libs, no CDN script, stylesheet or font."
    sys.path.insert(0, str(REPO / "tools"))
    import build_site

    res = main_job(project, "--skip-execution", renderer="quarto")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not build_site.remote_requests(project / "_docs")
    assert (project / "_docs" / "site_libs" / "katex" / "katex.min.js").is_file()
