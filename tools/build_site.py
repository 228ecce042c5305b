"""The main job: execute every notebook in `nbs/` in place, then render the documentation site into
`_docs/`.

    python tools/build_site.py                      # execute every notebook, then render
    python tools/build_site.py --skip-execution     # render the outputs saved in the notebooks
    python tools/build_site.py --renderer smalldocs # force the Quarto-free renderer

Execution: each notebook runs in a fresh process, in execnb's `CaptureShell` (the shell that
`nbdev_test` and nbdev's own tooling run notebooks in), with the working directory `nbs/`, and
its outputs are saved back into the notebook, cleaned as `nbdev_clean` would leave it. Cells are
skipped exactly where `nbdev_test` skips them (`#| eval: false`, `nbdev_export()` calls, read
with nbdev's directive parser); `#| slow` cells run, since they draw the figures the site shows.
`COURSEWORK_DATA` is passed on as it is (unset, the chapters run on the library's embedded
defaults). A failing cell stops the job with the notebook, the cell and the error, and leaves
`_docs/` as it was.

Rendering: nbdev processes the notebooks into `_proc/` (front matter, `show_doc` blocks, doc
links; `nbdev_proc_nbs` without its Quarto install step), then tools/site_fixes.py makes one
pass over the processed copies (maths lines that Markdown would read as lists, links inside
links, `#| output: asis`, API blocks re-made from the objects), so both renderers read the same
Markdown. With `quarto` on PATH, `quarto render` renders `_proc/`, as `nbdev_docs` does. Without
Quarto (which these machines and CI cannot install) the same site, from the same
`nbs/_quarto.yml`, is rendered by smalldocs: it reads `_quarto.yml` with nbdev's
`metadata-files` (`nbdev.yml`, `sidebar.yml`), renders the processed notebooks with their saved
outputs (never executing code), and makes Quarto's markup (maths spans for KaTeX, figures,
callouts, folded code, navbar, sidebar, contents, page navigation, `search.json`). Pure Python
from PyPI. (nbconvert's HTML exporter has no site; Jupyter Book or MkDocs would need a second
site definition beside `_quarto.yml`.) Its gaps for an nbdev site are closed in `NbdevSite`
below, a subclass of its `Site`:
- nbdev names pages by the front matter's `output-file` (`00_data.ipynb` -> `data.html`);
  `NbdevSite` writes each page there and resolves links written to either name.
- nbdev links names in backticks to the published site (`doc_host` + `doc_baseurl`); `NbdevSite`
  points them at the local pages, so the site works offline and before it is published.
- pictures: `#| fig-alt:` becomes the alt text and a retina PNG is shown at its metadata width
  (half its pixels).
Both renderers: KaTeX is vendored from npm's registry (`npm pack`, pinned version checked
against its pinned sha512, cached in `$COURSEWORK_CACHE` or `~/.cache/coursework_lib` so later
builds are offline) into `site_libs/katex`; a theme's remote `@import` (its web font) is dropped
(system fonts); and the build fails if any page or stylesheet would still load anything from
another host (`<script src>`, `<link href>`, `<img src>`, CSS `@import` and `url()`). Tables,
API blocks, callouts and search results are styled by `nbs/styles.css`, loaded under either
renderer.

The site is written to a temporary folder and swapped into `_docs/` only when the whole build
succeeded. Like `nbdev_docs`, the job then renders README.md from `nbs/index.ipynb`
(tools/readme.py, which needs no Quarto).
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
from traceback import format_exception

REPO = Path(__file__).resolve().parents[1]
TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

KATEX_VERSION = "0.16.11"
# npm's `dist.integrity` for katex@0.16.11: the tarball must hash to this, whatever is served.
KATEX_INTEGRITY = "sha512-RQrI8rlHY92OLf3rho/Ts8i/XvjgguEjOkO1BEXcU3N8BqPpSzBNwV/G0Ukr+P/l3ivvJUE/Fa/CwbS6HesGNQ=="  # noqa: E501
KATEX_FILES = ("katex.min.css", "katex.min.js", "contrib/auto-render.min.js")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
REMOTE_ASSET = re.compile(
    r"""<(?:script[^>]*\ssrc|link[^>]*\shref|img[^>]*\ssrc)=["']((?:https?:)?//[^"']+)""", re.I
)
# What a stylesheet loads: `@import url(...)`, `@import "..."`, `url(...)` (data: URLs load nothing)
CSS_URL = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)|url\(\s*["']?([^"')]+)""", re.I)
REMOTE_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*["']?(?:https?:)?//[^)]*\)|["'](?:https?:)?//[^"']*["'])[^;]*;\s*""",
    re.I,
)


class BuildFailed(Exception):
    "The main job cannot finish; the message says what failed and where."


def log(msg=""):
    print(msg, flush=True)


def fmt_time(seconds):
    return (
        f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:04.1f} s"
    )


# ---------------------------------------------------------------- execution


def runs(cell):
    """Whether the main job runs a cell: nbdev_test's rule, without its flags (`#| slow` cells draw
    the docs' figures)."""
    from fastcore.basics import AttrDict
    from nbdev.process import extract_directives

    if cell["cell_type"] != "code" or "nbdev_export" + "(" in cell["source"]:
        return False
    directives = extract_directives(AttrDict(cell_type="code", source=cell["source"]), remove=False)
    return directives.get("eval:", [""])[0].lower() != "false"


def execute_notebook(path, timeout, extra_env=None):
    """Run `path` with execnb's `CaptureShell` (the shell `nbdev_test` runs notebooks in), in its
    folder, and save its outputs in place, cleaned as `nbdev_clean` leaves them; `extra_env` is
    added to the environment first. The shell runs in this process: call it in a fresh process
    per notebook, as `execute_all` does."""
    from execnb.nbio import read_nb, write_nb
    from nbdev.clean import clean_nb
    from nbdev.config import get_config

    nb = read_nb(path)
    if not any(runs(c) for c in nb.cells):
        return "no code to run"
    # Figures are drawn into the notebook whatever backend the calling shell chose (CI: Agg).
    os.environ.update(
        {**(extra_env or {}), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    )
    from execnb.shell import CaptureShell

    shell, current = CaptureShell(path, timeout=timeout), [None]
    # The shell switches the inline backend on before the first cell, so a notebook's
    # `%config InlineBackend.rc = {...}` comes too late to be applied as a kernel would apply it
    # (when pyplot is first imported); apply it as it is set.
    import matplotlib
    from matplotlib_inline.config import InlineBackend

    InlineBackend.instance().observe(lambda change: matplotlib.rcParams.update(change.new), "rc")

    def skip(cell):
        current[0] = cell
        if cell.cell_type == "code" and runs(cell):
            cell.outputs = []  # execnb keeps a cell's old outputs when it prints nothing now
            return False
        return True

    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        shell.run_all(nb, exc_stop=True, preproc=skip)
    except BaseException as e:  # noqa: BLE001 - a cell's KeyboardInterrupt or SystemExit too
        cell = current[0]
        source = cell.source.strip().splitlines()
        head = "\n".join(f"    | {line}" for line in source[:8]) + (
            "\n    | ..." if len(source) > 8 else ""
        )
        trace = ANSI.sub("", "".join(format_exception(e)))
        raise BuildFailed(
            f"{trace}\nnotebook {os.path.relpath(path, cwd)} failed in cell {cell.idx_} (counting "
            f"every cell from 0, id {cell.get('id', '?')}): {type(e).__name__}: {e}\n{head}\n"
            "The notebook was not saved; fix the cell, then run the job again."
        ) from None
    finally:
        os.chdir(cwd)
    cfg = get_config()
    clean_nb(
        nb,
        cfg.clear_all,
        cfg.get("allowed_metadata_keys", "").split(),
        cfg.get("allowed_cell_metadata_keys", "").split(),
        cfg.clean_ids,
    )
    write_nb(nb, path)
    return None


def execute_all(nbs_dir, timeout, jobs=2):
    """Execute every notebook under `nbs_dir` (nbdev's list: no `_`/`.` names), `jobs` at a time,
    printing a line per notebook as it finishes."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    from nbdev.doclinks import nbglob

    paths = sorted(nbglob(nbs_dir, as_path=True))
    data = (
        "the folder in COURSEWORK_DATA"
        if os.environ.get("COURSEWORK_DATA")
        else "embedded defaults"
    )
    log(
        f"Executing {len(paths)} notebooks in {os.path.relpath(nbs_dir)}, {jobs} at a time "
        f"(course data: {data})"
    )
    # Kernels side by side get one BLAS thread each: two kernels with a BLAS thread per core would
    # fight over the cores, and the chapters' products are too small to gain from a second thread.
    one_thread = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    extra_env = one_thread if jobs > 1 else None
    start = time.time()
    # A fresh process per notebook: the shell runs in it, so no notebook sees another's modules.
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("spawn"), max_tasks_per_child=1
    )
    with pool:
        running = {
            pool.submit(_timed_execution, path, timeout, extra_env): (n, path)
            for n, path in enumerate(paths, 1)
        }
        failed = None
        while running and failed is None:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f][0]):
                n, path = running.pop(future)
                prefix = f"[{n:>2}/{len(paths)}] {path.relative_to(nbs_dir)} ... "
                try:
                    seconds, note = future.result()
                except BuildFailed as e:
                    log(prefix + "FAILED")
                    failed = failed or e
                    continue
                log(prefix + fmt_time(seconds) + (f" ({note})" if note else ""))
        if failed is not None:
            for future in running:
                future.cancel()
            raise failed
    log(f"Executed {len(paths)} notebooks in {fmt_time(time.time() - start)}")


def _timed_execution(path, timeout, extra_env):
    "`execute_notebook` in a worker process, returning (seconds, note)."
    t = time.time()
    note = execute_notebook(path, timeout, extra_env)
    return time.time() - t, note


# ---------------------------------------------------------------- KaTeX, vendored from npm


def cache_dir():
    base = (
        os.environ.get("COURSEWORK_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coursework_lib"
    )
    return Path(base)


def katex_dist():
    """The folder holding KaTeX's dist files: fetched once with `npm pack`, checked against the
    pinned hash, then cached."""
    dest = cache_dir() / f"katex-{KATEX_VERSION}"
    if all((dest / f).is_file() for f in KATEX_FILES) and (dest / "fonts").is_dir():
        return dest
    npm = shutil.which("npm")
    if npm is None:
        raise BuildFailed(
            f"KaTeX {KATEX_VERSION} is not cached in {dest} and npm is not on PATH to fetch it "
            "once "
            ""
            f"(Debian: apt-get install npm)"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        res = subprocess.run(
            [npm, "pack", f"katex@{KATEX_VERSION}", "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
        )
        tarballs = list(Path(tmp).glob("katex-*.tgz"))
        if res.returncode or not tarballs:
            raise BuildFailed(f"npm pack katex@{KATEX_VERSION} failed:\n{res.stderr.strip()}")
        digest = (
            "sha512-" + base64.b64encode(hashlib.sha512(tarballs[0].read_bytes()).digest()).decode()
        )
        if digest != KATEX_INTEGRITY:
            raise BuildFailed(
                f"katex@{KATEX_VERSION} from npm hashes to {digest}, not the pinned "
                f"{KATEX_INTEGRITY}"
            )
        staged = Path(tmp) / "dist"
        with tarfile.open(tarballs[0]) as tar:
            for m in tar.getmembers():
                name = m.name.removeprefix("package/")
                keep = name == "LICENSE" or (
                    name.startswith("dist/")
                    and (name[5:] in KATEX_FILES or name.startswith("dist/fonts/"))
                )
                if m.isfile() and keep:
                    target = staged / name.removeprefix("dist/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(m).read())
        shutil.rmtree(dest, ignore_errors=True)
        staged.rename(dest)
    return dest


# ---------------------------------------------------------------- nbdev processing


def prepare_notebooks(images=False):
    """nbdev's `nbdev_proc_nbs` without its first step (`_ensure_quarto`, which installs Quarto
    with sudo and re-runs `pip install -e`): refresh `nbs/nbdev.yml`, the module index and
    `nbs/sidebar.yml`, then process the notebooks into `_proc/` (front matter, `show_doc` blocks
    for exported names, hidden cells removed), then our one pass over the processed copies
    (tools/site_fixes.py; `images`: pictures as `<img>` for smalldocs). Returns `_proc/`."""
    import nbdev.doclinks
    from nbdev.config import get_config
    from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
    from nbdev.serve import proc_nbs
    from site_fixes import fix_processed

    cfg = get_config()
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
    try:
        proc = Path(proc_nbs(cfg.nbs_path))
    except Exception as e:
        raise BuildFailed(
            f"{where_processing_failed(cfg.nbs_path, str(e))}: {e}\n"
            "To make the show_doc blocks, nbdev re-runs a documented notebook's exported cells, "
            "its import cells and any cell that mixes imports with other code, in a fresh shell. "
            "It cannot parse a cell holding a %magic, so imports in such a cell are missing then: "
            "keep %config lines in a cell of their own, and imports out of cells doing other work."
        ) from None
    # proc_nbs caches by modification time and never deletes: drop pages whose notebook left nbs/.
    for f in proc.rglob("*.ipynb"):
        if not (cfg.nbs_path / f.relative_to(proc)).exists():
            f.unlink()
    fix_processed(proc, cfg.config_path, cfg.lib_name, cfg.readme_nb, images=images)
    return proc


def where_processing_failed(nbs_dir, message):
    """Name the notebook and cell behind nbdev's processing error ("Error in notebook: <title> in
    cell <n> :\n<source>", where n counts the cells of nbdev's processed copy): the notebook
    with that title, the cell with that code."""
    import json

    m = re.match(r"Error in notebook: (.*?) in cell \d+ :\n(.*)", message, re.S)
    if not m:
        return "nbdev could not process the notebooks for the docs"
    title, failed = m.group(1), m.group(2).strip()

    def code(src):
        return "\n".join(
            line for line in src.splitlines() if not line.lstrip().startswith("#|")
        ).strip()

    for path in sorted(Path(nbs_dir).rglob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) for c in cells]
        if not any(
            src.startswith(f"# {title}\n")
            or src.strip() == f"# {title}"
            or f"title: {title}" in src
            for src in sources[:3]
        ):
            continue
        index = next(
            (
                i
                for i, src in enumerate(sources)
                if cells[i]["cell_type"] == "code" and code(src) == code(failed)
            ),
            "?",
        )
        where = path.relative_to(Path(nbs_dir).parent)
        return f"notebook {where} failed in cell {index} while nbdev processed it for the docs"
    return f"nbdev could not process the notebook titled {title!r} for the docs"


def exported_api(lib):
    """The exported public functions and classes of the package in `lib`, as {name: module}, from
    nbdev's index `_modidx.py` (every name nbdev exported) and each module's `__all__`
    (constants are documented in the prose)."""
    from site_fixes import load_modidx

    lib = Path(lib)
    syms = load_modidx(lib.parent, lib.name)["syms"]
    found = {}
    for module, names in syms.items():
        path = lib.parent / (module.replace(".", "/") + ".py")
        if not path.is_file():  # a package: its __init__.py
            path = path.with_suffix("") / "__init__.py"
        if not path.is_file() or path.name == "_modidx.py":  # `_pca.py` behind a package is public
            continue
        public = set(_module_all(path))
        for full in names:
            name = full[len(module) + 1 :]
            if "." not in name and name in public:
                found[name] = module
    return found


def _module_all(path):
    "The names in a module's `__all__`, read without importing it."
    import ast

    for node in ast.parse(Path(path).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__all__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return []


def api_coverage(proc):
    """Exported functions and classes that no processed notebook documents with `show_doc`, as
    `module.name`."""
    from nbdev.config import get_config

    shown = set()
    for nb in proc.rglob("*.ipynb"):
        shown |= set(re.findall(r"show_doc\(\s*([A-Za-z_][\w.]*)", nb.read_text(encoding="utf-8")))
    return [
        f"{module}.{name}"
        for name, module in exported_api(get_config().lib_path).items()
        if name not in shown
    ]


# ---------------------------------------------------------------- self-contained output


def drop_remote_imports(docs):
    """Remove every `@import` of a stylesheet on another host (a theme's web font) from the site's
    CSS files."""
    for css in Path(docs).rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        new = REMOTE_IMPORT.sub("", text)
        if new != text:
            css.write_text(new, encoding="utf-8")


TEX_WORDS = {
    "nabla": "∇",
    "partial": "∂",
    "sum": "Σ",
    "prod": "Π",
    "top": "ᵀ",
    "cdot": "·",
    "times": "×",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "in": "∈",
    "approx": "≈",
    "neq": "≠",
    "infty": "∞",
    "to": "→",
    "leftarrow": "←",
    "rightarrow": "→",
    "mid": "|",
    "sim": "~",
    "propto": "∝",
    "ldots": "…",
    "dots": "…",
    "cdots": "…",
    "quad": " ",
    "qquad": " ",
    "lVert": "‖",
    "rVert": "‖",
    "Vert": "‖",
}
GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta lambda mu nu xi pi rho sigma tau phi "
    "varphi chi psi "
    "omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega"
).split()
GREEK_CHARS = "αβγδεεζηθλμνξπρστφφχψωΓΔΘΛΞΠΣΦΨΩ"


def tex_to_text(tex):
    """A search snippet's maths as plain text: `\\nabla_W L` -> `∇W L`; commands it does not know
    are dropped."""
    words = {**TEX_WORDS, **dict(zip(GREEK, GREEK_CHARS, strict=True))}
    text = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b", "", tex)
    text = re.sub(
        r"\\(?:mathrm|mathbf|mathcal|text|operatorname|boldsymbol|mathbb|hat|bar|tilde)\s*",
        "",
        text,
    )
    text = re.sub(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", text)
    text = re.sub(
        r"\\([A-Za-z]+)",
        lambda m: words.get(
            m.group(1),
            m.group(1)
            if m.group(1) in ("log", "exp", "max", "min", "arg", "det", "tr", "diag")
            else "",
        ),
        text,
    )
    text = re.sub(r"\\.", " ", text)
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def readable_search(path):
    """`search.json` as a reader meets it in the results: maths as plain text (no raw TeX in
    snippets), and one entry per page section (a section shown twice on a page, e.g. by two
    `show_doc` calls, is listed once)."""
    if not Path(path).is_file():
        return
    import json

    entries, seen = [], {}
    for e in json.loads(Path(path).read_text(encoding="utf-8")):
        # smalldocs keeps a formula's TeX, without its delimiters, in the text
        text = (
            tex_to_text(e["text"])
            if re.search(r"\\[a-zA-Z]{2,}|\\[()\[\]]", e["text"])
            else e["text"]
        )
        e = {**e, "text": text}
        key = (e["title"], e["section"] or e["href"])
        if key in seen:
            continue
        seen[key] = e
        entries.append(e)
    Path(path).write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")


def remote_requests(docs):
    """What a page or stylesheet of the site would load from another host, as 'file: url' lines."""
    docs = Path(docs)
    found = [
        f"{f.relative_to(docs)}: {url}"
        for f in sorted(docs.rglob("*.html"))
        for url in REMOTE_ASSET.findall(f.read_text(encoding="utf-8", errors="replace"))
    ]
    for css in sorted(docs.rglob("*.css")):
        text = re.sub(
            r"/\*.*?\*/", "", css.read_text(encoding="utf-8", errors="replace"), flags=re.S
        )
        for m in CSS_URL.finditer(text):
            url = m.group(1) or m.group(2)
            if re.match(r"(?:https?:)?//", url):
                found.append(f"{css.relative_to(docs)}: {url}")
    return found


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
            # nbdev's front matter, and our Quarto-only options (theme.scss drops the web font:
            # done here on the CSS; KaTeX: vendored here)
            if not msg.endswith(
                (
                    ": output-file is not read by smalldocs",
                    "smalldocs compiles no Sass; use css: and the --bs-* variables",
                    "html-math-method is ignored",
                )
            ):
                super().warn(msg)

        def find_page(self, target):
            return super().find_page(target) or next(
                (p for p in self.pages.values() if p.out == target), None
            )

        def resolve(self, href, page, record=True):
            if self.site_url and href.startswith(self.site_url + "/"):
                href = href[len(self.site_url) :]
            return super().resolve(href, page, record)

        def build(self):
            n = super().build()
            self.vendor_katex()
            drop_remote_imports(self.out)
            readable_search(self.out / "search.json")
            remote = remote_requests(self.out)
            if remote:
                raise BuildError(
                    "pages load scripts, stylesheets or fonts from the network:\n  "
                    + "\n  ".join(remote)
                )
            return n

        def vendor_katex(self):
            """Copy the vendored KaTeX into `site_libs/katex` and point every page with maths at
            it, not at the CDN."""
            pages = [p for p in self.pages.values() if p.env.get("math")]
            if not pages:
                return
            shutil.copytree(katex_dist(), self.out / "site_libs" / "katex", dirs_exist_ok=True)
            for p in pages:
                f = self.out / p.out
                text = f.read_text(encoding="utf-8")
                if layout.KATEX not in text:
                    raise BuildError(
                        f"{p.out} has maths but does not load KaTeX from {layout.KATEX}: smalldocs "
                        "changed"
                    )
                f.write_text(
                    text.replace(layout.KATEX, rel(PurePosixPath("site_libs/katex"), p)),
                    encoding="utf-8",
                )

    return NbdevSite


def render_smalldocs(proc, out):
    """Render the processed notebooks in `proc` into the empty folder `out` with smalldocs; return
    the warnings."""
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


def render_quarto(docs):
    """What `nbdev_docs` does, with our pass over the processed notebooks between nbdev's
    processing and Quarto: `quarto render` in `_proc/`, then KaTeX into `site_libs/katex` (where
    `_quarto.yml` points Quarto's KaTeX), the network check, and `_docs/` replaced only once all
    of it succeeded."""
    from nbdev.config import get_config

    cfg = get_config()
    log("Rendering with Quarto (nbdev's processing, then quarto render)")
    proc = prepare_notebooks()
    res = subprocess.run(["quarto", "render", "--no-cache"], cwd=proc)
    built = proc / cfg.doc_path.name
    if res.returncode or not built.is_dir():
        raise BuildFailed(f"quarto render failed (exit code {res.returncode}); {docs} is unchanged")
    shutil.copytree(katex_dist(), built / "site_libs" / "katex", dirs_exist_ok=True)
    write_student(built)
    drop_remote_imports(built)
    remote = remote_requests(built)
    if remote:
        raise BuildFailed("Quarto's pages load from the network:\n  " + "\n  ".join(remote))
    shutil.rmtree(docs, ignore_errors=True)
    shutil.move(str(built), str(docs))
    return docs


def write_student(dest):
    """The student edition of every chapter, one notebook each, and the archive of all, into the
    site folder `dest` (tools/student_edition.py; every chapter page links its own)."""
    from nbdev.config import get_config
    from site_fixes import STUDENT_DIR
    from student_edition import StudentEditionError, build, chapter_paths, write_student_edition

    try:
        write_student_edition(build(chapter_paths(get_config().nbs_path)), dest / STUDENT_DIR)
    except StudentEditionError as e:
        raise BuildFailed(f"the student edition could not be written: {e}") from None


def render(renderer):
    """Render the site into a temporary folder, then swap it into the docs folder; return the docs
    folder."""
    from nbdev.config import get_config

    cfg = get_config()
    docs = cfg.doc_path
    if renderer == "quarto":
        return render_quarto(docs)
    proc = prepare_notebooks(images=True)
    for stale in proc.glob("_site-*"):
        shutil.rmtree(stale, ignore_errors=True)
    out = Path(tempfile.mkdtemp(prefix="_site-", dir=proc))
    try:
        warnings = render_smalldocs(proc, out)
        write_student(out)
        missing = api_coverage(proc)
        for w in warnings:
            # _quarto.yml asks Quarto for KaTeX, which smalldocs renders with anyway.
            if "html-math-method" not in w:
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
    p = argparse.ArgumentParser(
        description="Execute every notebook in place, then render the site into _docs/."
    )
    p.add_argument(
        "--skip-execution",
        action="store_true",
        help="render the outputs saved in the notebooks, run nothing",
    )
    p.add_argument(
        "--renderer",
        choices=["auto", "quarto", "smalldocs"],
        default="auto",
        help="auto (default): Quarto when `quarto` is on PATH, else smalldocs",
    )
    p.add_argument(
        "--timeout", type=int, default=1800, help="seconds one cell may run (default 1800)"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="notebooks executed side by side, one BLAS thread each (default: 2, or 1 on one core)",
    )
    p.add_argument(
        "--project",
        type=Path,
        default=REPO,
        help="the project folder, holding settings.ini (default: this repo)",
    )
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"--jobs must be at least 1, got {args.jobs}")

    root = args.project.resolve()
    os.chdir(root)  # nbdev reads settings.ini from the working directory
    from nbdev.config import get_config

    cfg = get_config()
    renderer = (
        args.renderer
        if args.renderer != "auto"
        else ("quarto" if shutil.which("quarto") else "smalldocs")
    )
    start = time.time()
    try:
        if args.skip_execution:
            log("Skipping execution: rendering the outputs saved in the notebooks")
        else:
            execute_all(cfg.nbs_path, args.timeout, args.jobs)
        t = time.time()
        docs = render(renderer)
        from readme import write_readme

        try:
            write_readme(root)
        except ValueError as e:
            raise BuildFailed(f"README.md could not be rendered: {e}") from None
    except BuildFailed as e:
        print(f"\nerror: {e}", file=sys.stderr, flush=True)
        print(
            f"The site was not rebuilt: {os.path.relpath(cfg.doc_path)} is as it was.",
            file=sys.stderr,
        )
        return 1
    log(
        f"Rendered the site in {fmt_time(time.time() - t)}; whole job "
        f"{fmt_time(time.time() - start)}"
    )
    rel_docs = os.path.relpath(docs, root)
    log(f"\nThe site is in {rel_docs} (open {os.path.join(rel_docs, 'index.html')}).")
    log(f"Serve it with:  python -m http.server -d {rel_docs}   then open http://localhost:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
