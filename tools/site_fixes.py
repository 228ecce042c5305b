"""Our one pass over nbdev's processed notebooks (`_proc/`), run before either renderer (Quarto or
smalldocs) reads them.

nbdev's processing (front matter, `show_doc` blocks, doc links) is used as it is; this pass
fixes what it leaves wrong for a reader, in the notebook JSON, so both renderers get the same
Markdown:
- maths: a `$...$` or `$$...$$` source line that starts with `+ `, `- `, `* `, `> ` or `1. ` is
  joined to the line before it, so Markdown can never read a wrapped formula as a list item or a
  quote;
- links: nbdev links a backticked name even inside an explicit link (`[`x`](url)` becomes a link
  in a link, and `](url)` shows as text): the inner link goes; a link to a private name
  (`#_helper`) has no block to land on: it becomes plain code;
- `#| output: asis` cells: their printed text is Markdown (as Quarto reads it), not a `<pre>`
  block;
- API blocks: fastcore's `show_doc` Markdown shows a class as `def X(args:VAR_POSITIONAL,
  kwargs:VAR_KEYWORD)`, an untyped `None` default as `NoneType=None`, italicises only the first
  line of a summary, puts docments in comments and reads numpy-style section underlines as
  headings. Each block is re-made from the object itself: `class` or `def`, the real signature
  (`Optional[...]`), the whole summary in one style, a parameter table from docments;
- `index.ipynb` links chapters as `nbs/03_logistic.ipynb` so that README.md links resolve from
  the top level; on the site those links are made relative to the pages again.
The pass is idempotent: nbdev's cache keeps a processed notebook until its source changes.
"""

import html
import importlib
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]+`")
MATHS = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$(?![\s$]).+?(?<![\s\\])\$(?!\d)", re.S)
# A line Markdown would read as a block of its own: a list item, a quote, an ordered item
BLOCK_START = re.compile(r"\n[ \t]*(?=(?:[-+*>]|\d+[.)])(?:[ \t]|$))")
# nbdev's doc link put inside an explicit link: [[`name`](doc url)](url)
NESTED_LINK = re.compile(r"\[\[(`[^`\n]+`)\]\([^)\s]*\)\]\(([^)\s]+)\)")
DIV_LINE = re.compile(r"^:::+ *\{.*\}[ \t]*$", re.M)
MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\s]+\)")
# a link to a private name's anchor, which no block documents
PRIVATE_LINK = re.compile(r"\[(`[^`\n]+`)\]\([^)\s#]*#(?:[\w-]+\.)?_[\w.]*\)")
# fastcore's block: a rule, the source link, the name, a fence that opens with a blank line, the
# docstring. Our re-made block's fence opens with `class`/`def` directly: a block is re-made once.
SHOW_DOC = re.compile(
    r"^---\n\n(?P<head>.*?^#{2,4} (?P<name>[\w.]+)\n\n)```python\n\n.*?\n```\n?(?P<docs>.*)\Z",
    re.M | re.S,
)
WIDGET = "application/vnd.jupyter.widget-view+json"


def protected(text, fn):
    "Apply `fn` to the parts of Markdown `text` outside fenced and inline code."
    out, last = [], 0
    for m in FENCE.finditer(text):
        out.append(_outside_inline(text[last : m.start()], fn))
        out.append(m.group(0))
        last = m.end()
    out.append(_outside_inline(text[last:], fn))
    return "".join(out)


def _outside_inline(text, fn):
    parts = INLINE_CODE.split(text)
    codes = INLINE_CODE.findall(text)
    return "".join(fn(p) + (codes[i] if i < len(codes) else "") for i, p in enumerate(parts))


def fix_maths(text):
    """Join every maths source line that Markdown would read as a list item or quote to the line
    before it."""
    return protected(text, lambda s: MATHS.sub(lambda m: BLOCK_START.sub(" ", m.group(0)), s))


CALLOUT_TITLE = re.compile(
    r'^(?P<fence>:::+) *\{(?P<pre>[^}]*?)\s*\btitle="(?P<title>(?:[^"\\]|\\.)*)"'
    r"(?P<post>[^}]*)\}[ \t]*$",
    re.M,
)


def callout_titles(text):
    """A callout title holding maths or code (`title="Erratum: $XH^\\top H$"`) becomes the callout's
    first heading, Quarto's other way to title a callout, which both renderers read as Markdown."""

    def fix(m):
        title = m.group("title").replace('\\"', '"')
        if not re.search(r"[$`*_\\]", title):
            return m.group(0)
        attrs = " ".join(s for s in (m.group("pre").strip(), m.group("post").strip()) if s)
        return f"{m.group('fence')} {{{attrs}}}\n## {title}"

    return CALLOUT_TITLE.sub(fix, text)


def fix_links(text):
    """Drop nbdev's link inside an explicit link; turn links to private names into plain code; no
    link inside a div's attributes (`::: {.callout-warning title="..."}`), which print as text."""
    text = PRIVATE_LINK.sub(r"\1", NESTED_LINK.sub(r"[\1](\2)", text))
    return DIV_LINE.sub(lambda m: MD_LINK.sub(r"\1", m.group(0)), text)


# ---------------------------------------------------------------- API blocks


def fmt_annotation(anno):
    "A type as a reader writes it: `Optional[int]` for `int | None`, names without module prefixes."
    if anno is inspect.Parameter.empty:
        return ""
    if isinstance(anno, str):
        return anno
    origin = typing.get_origin(anno)
    if origin in (typing.Union, getattr(types, "UnionType", ())):
        args = [a for a in typing.get_args(anno) if a is not type(None)]
        inner = " | ".join(fmt_annotation(a) for a in args)
        return f"Optional[{inner}]" if len(args) < len(typing.get_args(anno)) else inner
    if origin is not None:
        args = typing.get_args(anno)
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(fmt_annotation(a) for a in args)}]" if args else name
    if isinstance(anno, type):
        return anno.__qualname__
    return inspect.formatannotation(anno).replace("typing.", "")


def fmt_default(value):
    if inspect.isfunction(value) or inspect.isclass(value):
        return value.__qualname__
    text = repr(value)
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def signature_of(obj):
    "The parameters a reader calls `obj` with, or None when Python cannot tell."
    target = obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    return sig.replace(parameters=params)


def fmt_param(p):
    star = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
    text = star + p.name
    anno = fmt_annotation(p.annotation)
    if anno:
        text += f": {anno}"
    if p.default is not p.empty:
        text += f" = {fmt_default(p.default)}" if anno else f"={fmt_default(p.default)}"
    return text


def fmt_signature(name, obj, width=88):
    """`class Name(...)` or `def name(...) -> T`, wrapped at `width`, one parameter a line when it
    is long."""
    kind = "class" if inspect.isclass(obj) else "def"
    short = name.rsplit(".", 1)[-1] if kind == "def" else name
    sig = signature_of(obj)
    if sig is None:
        return f"{kind} {short}(...)"
    params = [fmt_param(p) for p in sig.parameters.values()]
    ret = ""
    if kind == "def" and sig.return_annotation is not sig.empty:
        ret = f" -> {fmt_annotation(sig.return_annotation)}"
    one = f"{kind} {short}({', '.join(params)}){ret}"
    if len(one) <= width:
        return one
    body = "".join(f"\n    {p}," for p in params)
    return f"{kind} {short}({body}\n){ret}"


def bases_of(obj):
    if not inspect.isclass(obj):
        return []
    return [b.__name__ for b in obj.__bases__ if b is not object and b.__name__ != "tuple"]


def param_table(obj):
    """A Markdown table of the parameters from nbdev docments (each argument's comment), or ''."""
    from fastcore.docments import docments

    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        dm = docments(target, full=True)
    except Exception:
        return ""
    sig = signature_of(obj)
    names = list(sig.parameters) if sig else []
    rows = []
    for nm in names:
        d = dm.get(nm) or {}
        p = sig.parameters[nm]
        rows.append(
            (
                nm,
                fmt_annotation(p.annotation),
                "" if p.default is p.empty else fmt_default(p.default),
                (d.get("docment") or "").strip(),
            )
        )
    ret = dm.get("return") or {}
    if ret.get("docment") and not inspect.isclass(obj):
        rows.append(
            (
                "**Returns**",
                fmt_annotation(sig.return_annotation) if sig else "",
                "",
                ret["docment"].strip(),
            )
        )
    if not any(r[3] for r in rows):
        return ""

    def cell(s):
        return s.replace("|", "\\|")

    lines = ["| Parameter | Type | Default | Details |", "|---|---|---|---|"]
    lines += [
        f"| {cell(n) if n.startswith('**') else '`' + n + '`'} | "
        f"{('`' + cell(t) + '`') if t else ''} | "
        f"{('`' + cell(d) + '`') if d else ''} | {cell(doc)} |"
        for n, t, d, doc in rows
    ]
    return "\n".join(lines)


def fix_docs(docs):
    """One style for the summary (the whole first paragraph in italics); numpy-style section
    underlines as bold labels."""
    docs = docs.strip("\n")
    if not docs:
        return ""
    first, sep, rest = docs.partition("\n\n")
    m = re.match(r"^(\s*)\*(.+?)\*(\n.*)?$", first, re.S)
    if m and m.group(3):  # fastcore italicised the first line only
        first = f"{m.group(1)}*{m.group(2)} {' '.join(m.group(3).split())}*"
    return first + sep + numpy_sections(rest)


HEADER = re.compile(r"^(?P<title>[A-Z][A-Za-z ]+)\n-{3,}[ \t]*$", re.M)


def docstring_sections(obj, skip=None):
    """The numpy-style sections of the object's docstring (`Attributes`, `Notes`, ...), which
    fastcore's `show_doc` leaves out, as Markdown; `skip`: a section the parameter table shows."""
    doc = inspect.getdoc(obj) or ""
    heads = list(HEADER.finditer(doc))
    keep = [
        doc[h.start() : (heads[i + 1].start() if i + 1 < len(heads) else len(doc))]
        for i, h in enumerate(heads)
        if h.group("title") != skip
    ]
    return numpy_sections("\n".join(keep)).strip() if keep else ""


def pipes(text):
    "Text for a Markdown table cell."
    return text.replace("|", "\\|")


ENTRY = re.compile(r"^(?P<name>[^\s:][^:]*?)(?:\s+:\s+(?P<type>.+))?$")


def numpy_sections(text):
    """numpy-style sections (`Attributes` over a `----------` underline, entries `name : type` with
    indented descriptions) as a bold label and a table; Markdown would read the underline as a
    heading and run the entries together."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        if (
            i + 1 < len(lines)
            and re.fullmatch(r"[A-Z][A-Za-z ]+", lines[i].strip())
            and re.fullmatch(r"-{3,}", lines[i + 1].strip())
        ):
            title, i, rows = lines[i].strip(), i + 2, []
            while i < len(lines):
                line = lines[i]
                if line.startswith((" ", "\t")) and rows:
                    rows[-1][2] = (rows[-1][2] + " " + line.strip()).strip()
                elif (
                    line.strip()
                    and (m := ENTRY.match(line.strip()))
                    and not (i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()))
                ):
                    rows.append([m.group("name"), m.group("type") or "", ""])
                elif not line.strip() and i + 1 < len(lines) and lines[i + 1].startswith(" "):
                    pass
                else:
                    break
                i += 1
            out.append(f"**{title}**\n")
            if rows:
                head = "Attribute" if title == "Attributes" else "Name"
                out += [f"| {head} | Type | Description |", "|---|---|---|"]
                out += [f"| `{n}` | {pipes(ty)} | {pipes(d)} |" for n, ty, d in rows]
            out.append("")
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def resolve(name, lib, modidx):
    """The object documented as `name` (`f`, `Class` or `Class.method`), found through nbdev's
    `_modidx`."""
    for syms in modidx["syms"].values():
        for full in syms:
            mod, _, qual = full.partition(".")  # package.module.qualname -> find the module part
            parts = full.split(".")
            for i in range(len(parts) - 1, 0, -1):
                if ".".join(parts[i:]) == name:
                    try:
                        obj = importlib.import_module(".".join(parts[:i]))
                        for a in parts[i:]:
                            obj = getattr(obj, a)
                        return obj
                    except Exception:
                        return None
    return None


def resolve_in_package(name, lib):
    """The object `name` found in any module of the package `lib`, packages' `__init__` included
    (nbdev's index leaves out `__init__.py`)."""
    import pkgutil

    try:
        pkg = importlib.import_module(lib)
    except Exception:
        return None
    mods = [lib] + [m.name for m in pkgutil.walk_packages(pkg.__path__, lib + ".")]
    for modname in mods:
        try:
            obj = importlib.import_module(modname)
            for a in name.split("."):
                obj = getattr(obj, a)
        except Exception:
            continue
        if getattr(obj, "__module__", "").startswith(lib):
            return obj
    return None


def fix_api_block(md, lib, modidx):
    """Re-make one `show_doc` Markdown block from the object it documents; the block unchanged when
    it is not one."""
    m = SHOW_DOC.match(md)
    if not m:
        return md
    obj = resolve(m.group("name"), lib, modidx) or resolve_in_package(m.group("name"), lib)
    if obj is None:
        return md
    sig = fmt_signature(m.group("name"), obj)
    parts = [f"---\n\n{m.group('head')}```python\n{sig}\n```"]
    bases = bases_of(obj)
    if bases:
        parts.append("Bases: " + ", ".join(f"`{b}`" for b in bases))
    docs, table = fix_docs(m.group("docs")), param_table(obj)
    if "\n**Attributes**\n" not in "\n" + docs:
        docs = (docs + "\n\n" + docstring_sections(obj, "Parameters" if table else None)).strip()
    # scikit-learn's order: summary and prose, parameters, then the learned attributes
    prose, label, sections = docs.partition("\n**Attributes**\n")
    parts += [s for s in (prose.strip(), table, (label + sections).strip()) if s]
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- notebooks


def directives(source):
    found = {}
    for line in source.splitlines():
        if not line.startswith("#|"):
            break
        key, _, value = line[2:].strip().partition(":")
        found[key.strip()] = value.strip()
    return found


def fix_notebook(nb, lib=None, modidx=None, is_index=False):
    "Apply every fix to one processed notebook (a dict); return it."
    for cell in nb["cells"]:
        src = "".join(cell.get("source", ""))
        if cell["cell_type"] == "markdown":
            new = fix_links(fix_maths(callout_titles(src)))
            if is_index:
                new = re.sub(r"\]\(nbs/", "](", new)
            cell["source"] = new
            continue
        if cell["cell_type"] != "code":
            continue
        asis = directives(src).get("output") == "asis"
        outs = []
        for out in cell.get("outputs", []):
            if asis and out.get("output_type") == "stream" and out.get("name") == "stdout":
                text = "".join(out.get("text", ""))
                out = {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/markdown": text},
                }
            data = out.get("data") or {}
            if "text/markdown" in data:
                md = "".join(data["text/markdown"])
                if lib is not None:
                    md = fix_api_block(md, lib, modidx)
                data["text/markdown"] = fix_links(fix_maths(md))
            outs.append(out)
        if "outputs" in cell:
            cell["outputs"] = outs
    # Widget outputs make Quarto load require.js and jQuery from a CDN; their text/plain stays.
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            (out.get("data") or {}).pop(WIDGET, None)
    return nb


def html_images(nb):
    """For the Quarto-free renderer: a picture output becomes an `<img>` with the alt text of `#|
    fig-alt:` and the display width of the output's metadata (a retina PNG is drawn at half its
    pixel width, as Jupyter and Quarto show it), which smalldocs does not read."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        alt = directives("".join(cell.get("source", ""))).get("fig-alt", "")
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            mime = next((m for m in ("image/png", "image/jpeg") if m in data), None)
            if mime is None or "text/html" in data:
                continue
            b64 = "".join(data[mime]).strip()
            meta = (out.get("metadata") or {}).get(mime) or {}
            width = f' width="{int(meta["width"])}"' if meta.get("width") else ""
            out["data"] = {
                "text/html": f'<img src="data:{mime};base64,{b64}"{width} alt="{html.escape(alt)}" '
                f'class="img-fluid figure-img">',
                "text/plain": data.get("text/plain", ""),
            }
    return nb


def load_modidx(root, lib_name):
    path = Path(root) / lib_name / "_modidx.py"
    if not path.is_file():
        return {"syms": {}}
    scope = {}
    exec(path.read_text(encoding="utf-8"), scope)
    return scope["d"]


DOC_LINK = re.compile(r"\[(`[^`\n]+`)\]\((?P<url>[^)\s#]*\.html)#(?P<frag>[^)\s]+)\)")


def output_file(nb, path):
    """The page nbdev makes of a processed notebook: its front matter's `output-file`, else its own
    name."""
    first = "".join(nb["cells"][0].get("source", "")) if nb["cells"] else ""
    m = re.search(r"^output-file:\s*(\S+)", first, re.M)
    return m.group(1) if m else Path(path).with_suffix(".html").name


def documented(nbs):
    "{page: anchors of its API blocks}: where a doc link can land."
    found = {}
    for path, nb in nbs.items():
        page = output_file(nb, path)
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                md = "".join((out.get("data") or {}).get("text/markdown", ""))
                m = SHOW_DOC.match(md) or re.match(
                    r"^---\n\n.*?^#{2,4} ([\w.]+)\n", md, re.M | re.S
                )
                if m:
                    found.setdefault(page, set()).add(
                        m.group(1 if m.re is not SHOW_DOC else 2).lower()
                    )
    return found


def drop_repeated_blocks(nb):
    """One API block per name and page: nbdev adds a `show_doc` after each exported definition even
    when the chapter calls it again further down (a `@patch` method), which would repeat the block,
    its anchor and its contents entry."""
    seen = set()
    for cell in nb["cells"]:
        keep = []
        for out in cell.get("outputs", []):
            md = "".join((out.get("data") or {}).get("text/markdown", ""))
            m = re.match(r"^---\n\n.*?^#{2,4} ([\w.]+)\n", md, re.M | re.S)
            if m and m.group(1) in seen:
                continue
            if m:
                seen.add(m.group(1))
            keep.append(out)
        if "outputs" in cell:
            cell["outputs"] = keep


def drop_dead_doc_links(text, anchors):
    """nbdev links every indexed name, private helpers too; a name without an API block stays plain
    code."""

    def fix(m):
        page = m.group("url").rsplit("/", 1)[-1]
        return m.group(0) if m.group("frag").lower() in anchors.get(page, set()) else m.group(1)

    return DOC_LINK.sub(fix, text)


STUDENT_DIR = "student"  # the main job writes tools/student_edition.py's output here in the site


def student_download(nb, name):
    """Put a line under a chapter's title that downloads its student edition and the archive of
    all chapters (raw HTML: neither renderer may rewrite an `.ipynb` link into a page's)."""
    from student_edition import ZIP_NAME

    html = (
        f'<p class="student-edition">Student edition: <a href="{STUDENT_DIR}/{name}.ipynb" '
        f'download>this chapter as an exercise notebook</a> · <a href="{STUDENT_DIR}/{ZIP_NAME}" '
        "download>all chapters (zip)</a></p>"
    )
    cells = nb["cells"]
    at = 1 if cells and cells[0]["cell_type"] == "raw" else 0
    cells.insert(at, {"cell_type": "markdown", "metadata": {}, "source": html})


def fix_processed(proc, root, lib_name, readme_nb="index.ipynb", images=False):
    """Fix every processed notebook under `proc` in place, importing the package from `root`;
    `images`: html_images."""
    root = str(Path(root).resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    for mod in [m for m in sys.modules if m == lib_name or m.startswith(lib_name + ".")]:
        del sys.modules[mod]  # the project's own package, not one installed elsewhere
    modidx = load_modidx(root, lib_name)
    nbs = {
        path: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(Path(proc).rglob("*.ipynb"))
        if "_site-" not in str(path) and ".ipynb_checkpoints" not in path.parts
    }
    for path, nb in nbs.items():
        nbs[path] = fix_notebook(nb, lib_name, modidx, is_index=path.name == readme_nb)
        if re.match(r"\d\d_", path.name):
            student_download(nbs[path], path.stem)
        if images:
            nbs[path] = html_images(nbs[path])
    for nb in nbs.values():
        drop_repeated_blocks(nb)
    anchors = documented(nbs)
    for path, nb in nbs.items():
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = drop_dead_doc_links("".join(cell["source"]), anchors)
            for out in cell.get("outputs", []):
                data = out.get("data") or {}
                if "text/markdown" in data:
                    data["text/markdown"] = drop_dead_doc_links(
                        "".join(data["text/markdown"]), anchors
                    )
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
