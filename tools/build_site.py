"""The main job: execute every notebook in `nbs/` in place, then render the documentation site into `_docs/`.

    python tools/build_site.py                      # execute every notebook, then render the site
    python tools/build_site.py --skip-execution     # render the outputs already saved in the notebooks
    python tools/build_site.py --renderer smalldocs # force the Quarto-free renderer

Execution: nbclient runs each notebook in its own fresh kernel, with the working directory `nbs/`, and saves the outputs
back into the notebook, cleaned as `nbdev_clean` would leave it. Cells are skipped exactly where `nbdev_test` skips them
(`#| eval: false`, `nbdev_export()` calls); `#| slow` cells run, since they draw the figures the site shows.
`COURSEWORK_DATA` is passed on; when it is unset and `../shared/data/coursework` exists, it is set to that folder.
A failing cell stops the job with the notebook, the cell and the error, and leaves `_docs/` as it was.

Rendering: with `quarto` on PATH, `nbdev_docs` renders the site, as in any nbdev project. Without Quarto (which these
machines and CI cannot install) the same site, from the same top-level `_quarto.yml` (symlinked into `nbs/` where nbdev
looks for it), is rendered by smalldocs. Alternatives considered:
- nbconvert's HTML exporter makes one standalone page per notebook: no navbar, sidebar, table of contents or search,
  and none of `_quarto.yml`; the site generator would have to be written here.
- Jupyter Book / Sphinx, or MkDocs with mkdocs-jupyter: each needs its own site definition beside `_quarto.yml` (a
  second, drifting copy of the navigation and options) and does not read nbdev's processed notebooks.
- smalldocs reads `_quarto.yml` with nbdev's `metadata-files` (`nbdev.yml`, `sidebar.yml`), renders nbdev's processed
  notebooks (`_proc/`) with their saved outputs (never executing code), and makes Quarto's markup: maths spans for
  KaTeX, figures, DataFrame tables, `show_doc` blocks, navbar, sidebar, table of contents and `search.json`. Pure
  Python from PyPI. Chosen.
Its gaps for an nbdev site are closed in one place, `NbdevSite` below, a subclass of its `Site`:
- nbdev names pages by the front matter's `output-file` (`00_data.ipynb` -> `data.html`); smalldocs by the source's
  name. `NbdevSite` writes each page to its `output-file` and resolves links written to either name.
- nbdev links names in backticks to the published site (`doc_host` + `doc_baseurl`); `NbdevSite` points them at the
  local pages, so the site works offline and before it is published.
- smalldocs loads KaTeX from a CDN. The build vendors KaTeX from npm's registry (`npm pack`, pinned version checked
  against its pinned sha512, cached in `$COURSEWORK_CACHE` or `~/.cache/coursework_lib` so later builds are offline)
  into `site_libs/katex`, points the pages at it, and fails if any page still loads a script or stylesheet from the
  network.
- Tables and `show_doc` blocks are styled by `nbs/styles.css`, which `_quarto.yml` loads under either renderer.
Notebook processing (show_doc blocks, front matter, hidden cells) is nbdev's own: `prepare_notebooks` calls the steps
of `nbdev_proc_nbs` directly, leaving out its first step, which installs Quarto (curl + sudo) and re-runs
`pip install -e`.

The site is written to a temporary folder and swapped into `_docs/` only when the whole build succeeded. Like
`nbdev_docs`, the job then renders README.md from `nbs/index.ipynb` (tools/readme.py, which needs no Quarto).
"""
import argparse
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]
TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

KATEX_VERSION = "0.16.11"
# npm's `dist.integrity` for katex@0.16.11: the tarball must hash to this, whatever the registry serves.
KATEX_INTEGRITY = "sha512-RQrI8rlHY92OLf3rho/Ts8i/XvjgguEjOkO1BEXcU3N8BqPpSzBNwV/G0Ukr+P/l3ivvJUE/Fa/CwbS6HesGNQ=="
KATEX_FILES = ("katex.min.css", "katex.min.js", "contrib/auto-render.min.js")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
REMOTE_ASSET = re.compile(r"""<(?:script[^>]*\ssrc|link[^>]*\shref)=["']((?:https?:)?//[^"']+)""", re.I)


class BuildFailed(Exception):
    "The main job cannot finish; the message says what failed and where."


def log(msg=""):
    print(msg, flush=True)


def fmt_time(seconds):
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


# ---------------------------------------------------------------- execution

def default_data_dir(root):
    "Set `COURSEWORK_DATA` to `../shared/data/coursework` when it is unset and that folder exists; return its value."
    if not os.environ.get("COURSEWORK_DATA"):
        shared = root.parent / "shared" / "data" / "coursework"
        if shared.is_dir():
            os.environ["COURSEWORK_DATA"] = str(shared.resolve())
    return os.environ.get("COURSEWORK_DATA")


def runs(cell):
    "Whether the main job runs a cell: nbdev_test's rule, without its flags (`#| slow` cells draw the docs' figures)."
    from fastcore.basics import AttrDict
    from nbdev.process import extract_directives

    if cell["cell_type"] != "code" or "nbdev_export" + "(" in cell["source"]:
        return False
    directives = extract_directives(AttrDict(cell_type="code", source=cell["source"]), remove=False)
    return directives.get("eval:", [""])[0].lower() != "false"


def execute_notebook(path, timeout):
    "Run `path` in a fresh kernel in its folder and save its outputs in place, cleaned as `nbdev_clean` leaves them."
    import json

    import nbformat
    from execnb.nbio import write_nb
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbdev.clean import clean_nb
    from nbdev.config import get_config

    class Client(NotebookClient):
        "nbclient, skipping the cells `nbdev_test` skips, and remembering which cell it is running."
        cell_index = None

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            self.cell_index = cell_index
            if cell.cell_type == "code" and not runs(cell):
                return cell
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

    nb = nbformat.read(path, as_version=4)
    if not any(runs(c) for c in nb.cells):
        return "no code to run"
    client = Client(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                    extra_arguments=["--IPKernelApp.log_level=ERROR"])  # not its warning about TCP on localhost
    # Figures must be drawn into the notebook whatever backend the calling shell chose (CI exports MPLBACKEND=Agg).
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        i = client.cell_index
        source = nb.cells[i].source.strip().splitlines()
        head = "\n".join(f"    | {line}" for line in source[:8]) + ("\n    | ..." if len(source) > 8 else "")
        if isinstance(e, CellExecutionError):
            trace, what = ANSI.sub("", e.traceback) + "\n\n", f"{e.ename}: {e.evalue}"
        else:
            trace, what = "", f"{type(e).__name__}: {e}"
        raise BuildFailed(
            f"{trace}notebook {os.path.relpath(path)} failed in cell {i} (counting every cell from 0, id {nb.cells[i].get('id', '?')}): "
            f"{what}\n{head}\nThe notebook was not saved; fix the cell, then run the job again."
        ) from None
    cfg = get_config()
    saved = json.loads(nbformat.writes(nb))
    clean_nb(saved, cfg.clear_all, cfg.get("allowed_metadata_keys", "").split(),
             cfg.get("allowed_cell_metadata_keys", "").split(), cfg.clean_ids)
    write_nb(saved, path)
    return None


def execute_all(nbs_dir, timeout):
    "Execute every notebook under `nbs_dir` (nbdev's list: no `_`/`.` names), printing a line per notebook."
    from nbdev.doclinks import nbglob

    paths = sorted(nbglob(nbs_dir, as_path=True))
    log(f"Executing {len(paths)} notebooks in {nbs_dir} (COURSEWORK_DATA={os.environ.get('COURSEWORK_DATA') or 'unset: embedded data'})")
    start = time.time()
    for n, path in enumerate(paths, 1):
        t = time.time()
        print(f"[{n:>2}/{len(paths)}] {path.relative_to(nbs_dir)} ... ", end="", flush=True)
        try:
            note = execute_notebook(path, timeout)
        except BuildFailed:
            log("FAILED")
            raise
        log(f"{fmt_time(time.time() - t)}" + (f" ({note})" if note else ""))
    log(f"Executed {len(paths)} notebooks in {fmt_time(time.time() - start)}")


# ---------------------------------------------------------------- KaTeX, vendored from npm

def cache_dir():
    base = os.environ.get("COURSEWORK_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coursework_lib"
    return Path(base)


def katex_dist():
    "The folder holding KaTeX's dist files: fetched once with `npm pack`, checked against the pinned hash, then cached."
    dest = cache_dir() / f"katex-{KATEX_VERSION}"
    if all((dest / f).is_file() for f in KATEX_FILES) and (dest / "fonts").is_dir():
        return dest
    npm = shutil.which("npm")
    if npm is None:
        raise BuildFailed(f"KaTeX {KATEX_VERSION} is not cached in {dest} and npm is not on PATH to fetch it once "
                          f"(Debian: apt-get install npm)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        res = subprocess.run([npm, "pack", f"katex@{KATEX_VERSION}", "--pack-destination", tmp, "--silent"],
                             capture_output=True, text=True)
        tarballs = list(Path(tmp).glob("katex-*.tgz"))
        if res.returncode or not tarballs:
            raise BuildFailed(f"npm pack katex@{KATEX_VERSION} failed:\n{res.stderr.strip()}")
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarballs[0].read_bytes()).digest()).decode()
        if digest != KATEX_INTEGRITY:
            raise BuildFailed(f"katex@{KATEX_VERSION} from npm hashes to {digest}, not the pinned {KATEX_INTEGRITY}")
        staged = Path(tmp) / "dist"
        with tarfile.open(tarballs[0]) as tar:
            for m in tar.getmembers():
                name = m.name.removeprefix("package/")
                keep = name == "LICENSE" or (name.startswith("dist/") and (name[5:] in KATEX_FILES or name.startswith("dist/fonts/")))
                if m.isfile() and keep:
                    target = staged / name.removeprefix("dist/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(m).read())
        shutil.rmtree(dest, ignore_errors=True)
        staged.rename(dest)
    return dest


# ---------------------------------------------------------------- nbdev processing

def prepare_notebooks():
    """nbdev's `nbdev_proc_nbs` without its first step (`_ensure_quarto`, which installs Quarto with sudo and re-runs
    `pip install -e`): refresh `nbs/nbdev.yml`, the module index and `nbs/sidebar.yml`, then process the notebooks
    into `_proc/` (front matter, `show_doc` blocks for exported names, hidden cells removed). Returns `_proc/`."""
    import nbdev.doclinks
    from nbdev.config import get_config
    from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
    from nbdev.serve import proc_nbs

    cfg = get_config()
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
    try:
        proc = Path(proc_nbs(cfg.nbs_path))
    except Exception as e:
        raise BuildFailed(
            f"{where_processing_failed(cfg.nbs_path, str(e))}: {e}\n"
            "To make the show_doc blocks, nbdev re-runs a documented notebook's exported cells, its import cells and "
            "any cell that mixes imports with other code, in a fresh shell. It cannot parse a cell holding a %magic, "
            "so imports in such a cell are missing then: keep %config lines in a cell of their own, and imports out "
            "of cells that do other work."
        ) from None
    # proc_nbs caches by modification time and never deletes: drop pages whose notebook left nbs/.
    for f in proc.rglob("*.ipynb"):
        if not (cfg.nbs_path / f.relative_to(proc)).exists():
            f.unlink()
    return proc


def where_processing_failed(nbs_dir, message):
    """Name the notebook and cell behind nbdev's processing error ("Error in notebook: <title> in cell <n> :\n<source>",
    where n counts the cells of nbdev's processed copy): the notebook with that title, the cell with that code."""
    import json

    m = re.match(r"Error in notebook: (.*?) in cell \d+ :\n(.*)", message, re.S)
    if not m:
        return "nbdev could not process the notebooks for the docs"
    title, failed = m.group(1), m.group(2).strip()

    def code(src):
        return "\n".join(line for line in src.splitlines() if not line.lstrip().startswith("#|")).strip()

    for path in sorted(Path(nbs_dir).rglob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) for c in cells]
        if not any(src.startswith(f"# {title}\n") or src.strip() == f"# {title}" or f"title: {title}" in src
                   for src in sources[:3]):
            continue
        index = next((i for i, src in enumerate(sources) if cells[i]["cell_type"] == "code" and code(src) == code(failed)), "?")
        return f"notebook {path.relative_to(Path(nbs_dir).parent)} failed in cell {index} while nbdev processed it for the docs"
    return f"nbdev could not process the notebook titled {title!r} for the docs"


def exported_api(lib):
    """The exported public functions and classes of the package in `lib`, as {name: module}: the names in each
    module's `__all__` that the module defines with `def` or `class` (constants are documented in the prose)."""
    import ast

    found = {}
    for py in sorted(Path(lib).rglob("*.py")):
        if py.name.startswith("_"):
            continue
        body = ast.parse(py.read_text(encoding="utf-8")).body
        defined = {n.name for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        for node in body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                module = ".".join(py.relative_to(Path(lib).parent).with_suffix("").parts)
                found.update({name: module for name in ast.literal_eval(node.value) if name in defined})
    return found


def api_coverage(proc):
    "Exported functions and classes that no processed notebook documents with `show_doc`, as `module.name`."
    from nbdev.config import get_config

    shown = set()
    for nb in proc.rglob("*.ipynb"):
        shown |= set(re.findall(r"show_doc\(\s*([A-Za-z_][\w.]*)", nb.read_text(encoding="utf-8")))
    return [f"{module}.{name}" for name, module in exported_api(get_config().lib_path).items() if name not in shown]


# ---------------------------------------------------------------- the Quarto-free renderer

def nbdev_site_class():
    "smalldocs' `Site`, taught the three things an nbdev site needs (see the module's docstring)."
    from smalldocs import layout
    from smalldocs.config import BuildError
    from smalldocs.site import Site, rel

    class NbdevSite(Site):
        def __init__(self, project, **kwargs):
            super().__init__(project, **kwargs)
            self.site_url = str(project.website.get("site-url") or "").rstrip("/")

        def read(self, src):
            page = super().read(src)
            if page.front.get("output-file"):
                page.out = src.parent / str(page.front["output-file"])
            return page

        def warn(self, msg):
            if not msg.endswith(": output-file is not read by smalldocs"):
                super().warn(msg)

        def find_page(self, target):
            return super().find_page(target) or next((p for p in self.pages.values() if p.out == target), None)

        def resolve(self, href, page, record=True):
            if self.site_url and href.startswith(self.site_url + "/"):
                href = href[len(self.site_url):]
            return super().resolve(href, page, record)

        def build(self):
            n = super().build()
            self.vendor_katex()
            remote = [f"{f.relative_to(self.out)}: {url}" for f in sorted(self.out.rglob("*.html"))
                      for url in REMOTE_ASSET.findall(f.read_text(encoding="utf-8"))]
            if remote:
                raise BuildError("pages load scripts or stylesheets from the network:\n  " + "\n  ".join(remote))
            return n

        def vendor_katex(self):
            "Copy the vendored KaTeX into `site_libs/katex` and point every page with maths at it, not at the CDN."
            pages = [p for p in self.pages.values() if p.env.get("math")]
            if not pages:
                return
            shutil.copytree(katex_dist(), self.out / "site_libs" / "katex", dirs_exist_ok=True)
            for p in pages:
                f = self.out / p.out
                text = f.read_text(encoding="utf-8")
                if layout.KATEX not in text:
                    raise BuildError(f"{p.out} has maths but does not load KaTeX from {layout.KATEX}: smalldocs changed")
                f.write_text(text.replace(layout.KATEX, rel(PurePosixPath("site_libs/katex"), p)), encoding="utf-8")

    return NbdevSite


def render_smalldocs(proc, out):
    "Render the processed notebooks in `proc` into the empty folder `out` with smalldocs; return the warnings."
    from smalldocs.config import BuildError, ConfigError, load

    project = load(proc)
    project.config.setdefault("project", {})["output-dir"] = str(out)
    site = nbdev_site_class()(project, quiet=True)
    try:
        n = site.build()
    except (BuildError, ConfigError) as e:
        raise BuildFailed(f"smalldocs could not render the site: {e}") from None
    log(f"Rendered {n} pages with smalldocs")
    return site.warnings


def render(renderer):
    "Render the site into a temporary folder, then swap it into the docs folder; return the docs folder."
    from nbdev.config import get_config

    cfg = get_config()
    docs = cfg.doc_path
    if renderer == "quarto":
        from nbdev.quarto import nbdev_docs

        log("Rendering with Quarto (nbdev_docs)")
        try:
            nbdev_docs.__wrapped__()  # renders into _proc/_docs, then replaces _docs only once Quarto succeeded
        except SystemExit as e:
            if e.code:
                raise BuildFailed(f"nbdev_docs failed (exit code {e.code}); {docs} is unchanged") from None
        return docs
    proc = prepare_notebooks()
    for stale in proc.glob("_site-*"):
        shutil.rmtree(stale, ignore_errors=True)
    out = Path(tempfile.mkdtemp(prefix="_site-", dir=proc))
    try:
        warnings = render_smalldocs(proc, out)
        missing = api_coverage(proc)
        for w in warnings:
            log(f"warning: {w}")
        for name in missing:
            log(f"warning: no show_doc block documents the exported {name}")
        old = docs.with_name(docs.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if docs.exists():
            docs.rename(old)
        out.rename(docs)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return docs


# ---------------------------------------------------------------- the job

def main(argv=None):
    p = argparse.ArgumentParser(description="Execute every notebook in place, then render the site into _docs/.")
    p.add_argument("--skip-execution", action="store_true", help="render the outputs saved in the notebooks, run nothing")
    p.add_argument("--renderer", choices=["auto", "quarto", "smalldocs"], default="auto",
                   help="auto (default): Quarto through nbdev_docs when `quarto` is on PATH, else smalldocs")
    p.add_argument("--timeout", type=int, default=1800, help="seconds one cell may run (default 1800)")
    p.add_argument("--project", type=Path, default=REPO, help="the project folder, holding settings.ini (default: this repo)")
    args = p.parse_args(argv)

    root = args.project.resolve()
    os.chdir(root)  # nbdev reads settings.ini from the working directory
    from nbdev.config import get_config

    cfg = get_config()
    renderer = args.renderer if args.renderer != "auto" else ("quarto" if shutil.which("quarto") else "smalldocs")
    start = time.time()
    try:
        default_data_dir(root)
        if args.skip_execution:
            log("Skipping execution: rendering the outputs saved in the notebooks")
        else:
            execute_all(cfg.nbs_path, args.timeout)
        t = time.time()
        docs = render(renderer)
        from readme import write_readme

        try:
            write_readme(root)
        except ValueError as e:
            raise BuildFailed(f"README.md could not be rendered: {e}") from None
    except BuildFailed as e:
        print(f"\nerror: {e}", file=sys.stderr, flush=True)
        print(f"The site was not rebuilt: {cfg.doc_path} is as it was.", file=sys.stderr)
        return 1
    log(f"Rendered the site in {fmt_time(time.time() - t)}; whole job {fmt_time(time.time() - start)}")
    rel_docs = os.path.relpath(docs, root)
    log(f"\nThe site is in {docs} (open {docs / 'index.html'}).")
    log(f"Serve it with:  python -m http.server -d {rel_docs}   then open http://localhost:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
