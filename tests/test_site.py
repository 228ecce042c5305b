"""The documentation site as a reader sees it, in Debian's headless Chromium.

The main job builds the site (`--skip-execution`, Quarto-free renderer) from a copy of the project in a temporary
folder, with whatever chapter notebooks exist plus a fixture notebook that guarantees maths, a figure, a table, an API
block and links; the benchmarks page is executed there against a fixture result. A server on 127.0.0.1 that the test
starts and stops serves it; Playwright drives /usr/bin/chromium (never a downloaded browser). Without Chromium the tests
skip, unless COURSEWORK_REQUIRE_BROWSER=1 (CI), where they fail.
"""
import base64
import functools
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import build_site  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIXTURE_NB = "99_site_fixture.ipynb"
FIXTURE_PAGE = "site_fixture.html"  # nbdev's output-file: the number prefix dropped
FIXTURE_API = {"site_fixture_gradient", "SiteFixtureModel", "SiteFixtureModel.step"}
FIXTURE_BENCH = {"title": "Site fixture benchmark", "columns": ["n", "ours (s)", "reference (s)", "ratio"],
                 "rows": [[1000, 0.012, 0.010, 1.2], [10000, 0.11, 0.1, 1.1]],
                 "notes": ["a fixture result written by tests/test_site.py"], "machine": {"cores": 2}}

# What a reader sees on one page, gathered once per page after images have loaded and KaTeX has run.
PAGE_FACTS = """async () => {
  await Promise.all([...document.images].map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  await document.fonts.ready;
  const main = document.querySelector('main') || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, .katex').forEach(e => e.remove());
  return {
    title: document.title,
    katex: document.querySelectorAll('.katex').length,
    katexFont: document.querySelectorAll('.katex').length ? document.fonts.check('16px KaTeX_Main') : null,
    unrendered: [...document.querySelectorAll('span.math')].filter(s => !s.querySelector('.katex'))
                  .map(s => s.textContent.slice(0, 80)),
    katexErrors: [...document.querySelectorAll('.katex-error')].map(e => e.textContent.slice(0, 80)),
    prose: prose.textContent,
    images: [...document.images].map(i => ({src: i.src.slice(0, 60), width: i.naturalWidth})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    assets: [...document.querySelectorAll('link[rel=stylesheet][href], script[src], img[src]')].map(e => e.href || e.src),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    api: [...document.querySelectorAll('.cell-output-markdown > h3, .cell-output-markdown > h4')]
           .filter(h => h.parentElement.querySelector('pre')).map(h => h.textContent.trim()),
  };
}"""


def require_browser():
    "Skip without Chromium or Playwright, unless the environment demands the browser tests."
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (Debian: apt-get install chromium chromium-driver)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright Python package is not installed"
    if reason:
        if os.environ.get("COURSEWORK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and COURSEWORK_REQUIRE_BROWSER=1 requires the browser tests", pytrace=False)
        pytest.skip(reason)


def png_figure():
    "A small matplotlib figure as base64 PNG, as a notebook saves it."
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.plot([0, 1, 2, 3], [0, 1, 4, 9])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_fixture_notebook(path):
    import pandas as pd

    df = pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.9, 0.5, 0.3]})
    figure = new_code_cell("fig, ax = plt.subplots()\nax.plot([0, 1, 2, 3], [0, 1, 4, 9]);", outputs=[
        new_output("display_data", data={"image/png": png_figure(), "text/plain": "<Figure>"})])
    table = new_code_cell("df", outputs=[
        new_output("execute_result", data={"text/html": df.to_html(), "text/plain": str(df)}, execution_count=None)])
    cells = [
        new_code_cell("#| default_exp site_fixture"),
        new_markdown_cell("# Site fixture\n\n> A page the site tests rely on: maths, a figure, a table, an API block."),
        new_code_cell("#| export\nimport math"),
        new_code_cell("import matplotlib.pyplot as plt"),
        new_markdown_cell(
            "## A gradient step\n\n"
            "Inline maths: the gradient step $w \\leftarrow w - \\eta \\nabla_w L(w)$ for a loss $L$.\n\n"
            "Display maths:\n\n$$\n\\nabla_w L = X^\\top (p - y)\n$$\n\n"
            "Aligned maths:\n\n$$\n\\begin{aligned}\nL(w) &= -\\sum_i y_i \\log p_i \\\\\n"
            "\\frac{\\partial L}{\\partial w} &= X^\\top (p - y)\n\\end{aligned}\n$$\n\n"
            "Links: [the landing page](index.ipynb), [this page by its source](99_site_fixture.ipynb), "
            "[the benchmarks](benchmarks.ipynb), [an API block](#site_fixture_gradient), "
            "[a method's API block](#sitefixturemodel.step)."),
        new_code_cell("#| export\ndef site_fixture_gradient(w: float,  # the weight\n"
                      "                          ) -> float:  # the derivative of w squared\n"
                      "    \"The gradient of `w` squared.\"\n    return 2 * w"),
        new_code_cell("#| export\nclass SiteFixtureModel:\n    \"A model to document.\"\n"
                      "    def __init__(self, lr: float = 0.1): self.lr = lr\n"
                      "    def step(self, w: float) -> float:\n        \"One gradient step from `w`.\"\n"
                      "        return w - self.lr * site_fixture_gradient(w)"),
        new_code_cell("show_doc(SiteFixtureModel.step)"),
        figure,
        table,
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "python3", "language": "python", "name": "python3"}
    nbformat.write(nb, path)


def copy_project(dest):
    "The files the main job reads: settings, site config, notebooks, the package, the saved benchmark results."
    dest.mkdir()
    for f in ("settings.ini", "_quarto.yml"):
        shutil.copy(REPO / f, dest / f)
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "_proc", "nbdev.yml", "sidebar.yml")
    shutil.copytree(REPO / "nbs", dest / "nbs", symlinks=True, ignore=skip)
    shutil.copytree(REPO / "coursework_lib", dest / "coursework_lib", ignore=skip)
    results = REPO / "benchmarks" / "results"
    shutil.copytree(results, dest / "benchmarks" / "results") if results.is_dir() else (dest / "benchmarks" / "results").mkdir(parents=True)


def exported_by(nb_path):
    "The functions and classes a notebook's `#| export` cells define."
    import ast

    names = set()
    for cell in json.loads(nb_path.read_text(encoding="utf-8"))["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and re.match(r"\s*#\|\s*exports?\b", src):
            try:
                body = ast.parse("\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))).body
            except SyntaxError:
                continue
            names |= {n.name for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return names


def output_file(proc_nb):
    "The page nbdev made of a processed notebook: its front matter's `output-file`."
    first = json.loads(proc_nb.read_text(encoding="utf-8"))["cells"][0]
    line = next(line for line in "".join(first["source"]).splitlines() if line.startswith("output-file:"))
    return line.split(":", 1)[1].strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The project copy with the fixture notebook and benchmark result, built by the main job.

    A chapter the main job cannot process (a chapter being written) is reported by `test_one_page_per_notebook` and
    left out, so the other tests still check every other page. Returns (root, build seconds,
    {notebook left out: (the error, the functions and classes it exports)})."""
    require_browser()
    root = tmp_path_factory.mktemp("site") / "proj"
    copy_project(root)
    write_fixture_notebook(root / "nbs" / FIXTURE_NB)
    (root / "benchmarks" / "results" / "site_fixture.json").write_text(json.dumps(FIXTURE_BENCH))
    env = {**os.environ, "PYTHONPATH": str(REPO / "tools")}
    shared = REPO.parent / "shared" / "data" / "coursework"
    if not env.get("COURSEWORK_DATA") and shared.is_dir():
        env["COURSEWORK_DATA"] = str(shared)  # what the main job sets in the real tree, which nbdev's processing may read
    subprocess.run([sys.executable, "-c", "import build_site, pathlib; "
                    "build_site.execute_notebook(pathlib.Path('nbs/benchmarks.ipynb').resolve(), 300)"],
                   cwd=root, env=env, check=True, timeout=300)
    start, left_out = time.time(), {}
    while True:
        res = subprocess.run([sys.executable, str(REPO / "tools" / "build_site.py"), "--project", str(root),
                              "--skip-execution", "--renderer", "smalldocs"], capture_output=True, text=True, env=env,
                             timeout=600)
        if res.returncode == 0:
            return root, time.time() - start, left_out
        failed = re.search(r"^error: notebook nbs/(\S+\.ipynb) failed", res.stderr, re.M)
        if not failed or failed.group(1) in (FIXTURE_NB, "index.ipynb", "benchmarks.ipynb"):
            pytest.fail(f"the main job failed:\n{res.stdout}\n{res.stderr}", pytrace=False)
        nb = root / "nbs" / failed.group(1)
        left_out[nb.name] = (res.stderr[failed.start():].strip(), exported_by(nb))
        nb.unlink()


@pytest.fixture(scope="module")
def server(built):
    "An HTTP server on 127.0.0.1 (a free port) serving the built site; stopped after the module."
    docs = built[0] / "_docs"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser may drop a request it no longer needs
                super().handle_error(request, client_address)

    httpd = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(docs)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(built):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(built, server, browser):
    "Every HTML page of the site, loaded in Chromium: {path: what a reader sees there}."
    docs = built[0] / "_docs"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    facts = {}
    for f in sorted(docs.rglob("*.html")):
        rel = f.relative_to(docs).as_posix()
        if rel.startswith("site_libs/"):
            continue
        resp = page.goto(server + rel, wait_until="load")
        assert resp.status == 200, rel
        facts[rel] = page.evaluate(PAGE_FACTS)
    page.close()
    assert not errors, f"JavaScript errors: {errors}"
    return facts


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_one_page_per_notebook(built, pages):
    root, _, left_out = built
    assert not left_out, "notebooks the main job cannot build into pages:\n\n" + "\n\n".join(e for e, _ in left_out.values())
    notebooks = sorted(p.name for p in (root / "nbs").glob("*.ipynb"))
    expected = {nb: output_file(root / "_proc" / nb) for nb in notebooks}
    missing = {nb: out for nb, out in expected.items() if out not in pages}
    assert not missing, f"notebooks without their page: {missing}"
    assert expected[FIXTURE_NB] == FIXTURE_PAGE and "99_site_fixture.html" not in pages
    assert pages["index.html"]["title"].startswith("coursework_lib")
    assert "Site fixture" in pages[FIXTURE_PAGE]["title"]


def test_maths_rendered_by_katex(pages):
    assert pages[FIXTURE_PAGE]["katex"] >= 3, "inline, display and aligned maths on the fixture page"
    for rel, f in pages.items():
        assert not f["unrendered"], f"{rel}: maths left unrendered: {f['unrendered'][:3]}"
        assert not f["katexErrors"], f"{rel}: KaTeX errors: {f['katexErrors'][:3]}"
        raw = [d for d in ("\\(", "\\[", "$$") if d in f["prose"]]
        assert not raw, f"{rel}: raw TeX delimiters {raw} in the text"
        if f["katex"]:
            assert f["katexFont"], f"{rel}: KaTeX's fonts did not load from the site"


def test_every_figure_loads(pages):
    assert any(i["src"].startswith("data:image/png") for i in pages[FIXTURE_PAGE]["images"])
    broken = {rel: [i["src"] for i in f["images"] if i["width"] == 0] for rel, f in pages.items()}
    assert not {k: v for k, v in broken.items() if v}, f"images that did not load: {broken}"


def test_site_is_self_contained(pages, server):
    foreign = {rel: [a for a in f["assets"] if not a.startswith((server, "data:"))] for rel, f in pages.items()}
    assert not {k: v for k, v in foreign.items() if v}, f"assets loaded from elsewhere: {foreign}"


def test_every_internal_link_resolves(built, pages, server):
    import configparser

    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(built[0] / "settings.ini")
    published = cfg["DEFAULT"]["doc_host"] + cfg["DEFAULT"]["doc_baseurl"]
    links = {(rel, href) for rel, f in pages.items() for href in f["links"]}
    to_published = sorted({href for _, href in links if href.startswith(published)})
    assert not to_published, f"links to the published site instead of this one: {to_published[:5]}"
    internal = {(rel, href) for rel, href in links if href.startswith(server)}
    assert any(href.startswith(server + FIXTURE_PAGE) for rel, href in internal if rel == "index.html"), \
        "the sidebar links the fixture page by its output name"
    from nbdev.doclinks import _nbpath2html  # nbdev's page name for a notebook, which its API links use

    # A chapter left out of the build (see test_one_page_per_notebook): links to it by source or by page name.
    gone = {server + name for nb in built[2] for name in (Path(nb).with_suffix(".html").name, _nbpath2html(Path(nb)).name)}
    bad = []
    for url in sorted({urldefrag(href)[0] for _, href in internal} - gone):
        if (code := status(url)) != 200:
            bad.append(f"{url} -> {code}")
    for rel, href in sorted(internal):
        url, frag = urldefrag(href)
        target = unquote(urlsplit(url).path.lstrip("/")) or "index.html"
        # nbdev links a private name in backticks too, though only public names get a show_doc block to land on.
        if frag and not frag.startswith("_") and target in pages and unquote(frag) not in pages[target]["ids"]:
            bad.append(f"{rel}: {href} -> no element #{frag} (for an API name: add its show_doc block to {target})")
    assets = {a for f in pages.values() for a in f["assets"] if a.startswith(server)}
    bad += [f"{a} -> {code}" for a in sorted(assets) if (code := status(a)) != 200]
    assert not bad, "broken internal links:\n" + "\n".join(bad)


def test_search_finds_gradient(server, browser):
    page = browser.new_page()
    page.goto(server + "index.html", wait_until="load")
    box = page.locator(".smalldocs-search input:visible").first
    box.fill("gradient")
    page.wait_for_selector(".search-result", timeout=10_000)
    hits = page.eval_on_selector_all(".search-result", "rs => rs.map(r => [r.href, r.textContent])")
    page.close()
    assert hits and any("gradient" in text.lower() for _, text in hits), hits
    assert all(status(urldefrag(href)[0]) == 200 for href, _ in hits)


def test_api_reference_documents_every_exported_name(built, pages):
    shown = {name for f in pages.values() for name in f["api"]}
    left_out = set().union(*(names for _, names in built[2].values()))  # reported by test_one_page_per_notebook
    expected = (set(build_site.exported_api(built[0] / "coursework_lib")) - left_out) | FIXTURE_API
    missing = sorted(expected - shown)
    assert not missing, f"exported names without a show_doc block on any page: {missing}"


def test_benchmarks_page_shows_saved_results(pages):
    text = pages["benchmarks.html"]["prose"]
    assert FIXTURE_BENCH["title"] in text and "a fixture result written by tests/test_site.py" in text
    assert "No benchmark results" not in text


def test_screenshot_of_a_chapter(built, server, browser, pages, tmp_path_factory, capsys):
    "The first chapter (by notebook number) as a reader sees it, saved as a PNG whose path is printed."
    root = built[0]
    chapters = [output_file(root / "_proc" / nb.name) for nb in sorted((root / "nbs").glob("[0-9]*.ipynb"))]
    rel = next(c for c in chapters if c != FIXTURE_PAGE) if len(chapters) > 1 else FIXTURE_PAGE
    out = Path(os.environ.get("COURSEWORK_ARTIFACTS") or tmp_path_factory.mktemp("artifacts")) / f"site-{Path(rel).stem}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + rel, wait_until="load")
    page.screenshot(path=str(out))
    page.close()
    assert out.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nsite built in {built[1]:.1f} s; screenshot of {rel}: {out}")
