"""`snnkb site`: build the trilingual site (one MkDocs build per language, in parallel) and optionally serve it.

English is built at the root of the output folder, Chinese under ``zh/`` and Japanese under ``ja/``; each build has
its own search index and ``theme.language``. What is done once for all three languages happens here, before the
builds: executed notebooks are converted to HTML (cached by content hash) and every equation is checked with KaTeX
in one Node process. After them, the catalog's exports (snnkb.export.write_all: BibTeX, CSL-JSON, JSON, CSV, Atom)
are written once into ``exports/`` of the output. The MkDocs hook (snnkb/hooks.py) reads the same settings from the
environment, so a plain ``mkdocs build --strict`` (English, into build/site) or
``SNNKB_LANG=zh mkdocs build --strict -d build/site-zh`` also works and does those steps itself (without exports).

Settings (command-line options of ``snnkb site``, or environment variables for ``mkdocs build``):
  SNNKB_CATALOG       catalog file (default: catalog.yaml at the repository root)
  SNNKB_ROOT          folder holding snnref/, notebooks/, papers/ (default: the catalog's folder)
  SNNKB_VERIFICATION  verification.json (default: <root>/build/verification.json); executed notebooks are read
                      from the ``notebooks/`` folder beside it (labs from ``notebooks/labs/``), and the optional
                      ``mutation.json`` (`make mutate`) and ``bench.json`` (`make bench`) from the same folder
  SNNKB_WORK          scratch folder for cached notebook HTML (default: build/.site-work)
  SNNKB_SITE_DATA     set by `snnkb site` for its MkDocs builds: the prepared inputs (JSON), so that the builds
                      neither validate nor convert again
  SNNKB_SKIP_TEXT_CHECKS=1   tests only: ignore the validator's text-field checks, to prove the renderer's own
                      sanitization on a hostile fixture
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snnkb import LANGUAGES, REPO_ROOT

MKDOCS_YML = REPO_ROOT / "mkdocs.yml"
KATEX_DIR = REPO_ROOT / "node_modules" / "katex"
NPM_INSTALL = "npm ci --ignore-scripts --no-audit --no-fund"
#: Bump when the notebook conversion changes, so cached HTML is rebuilt.
CONVERTER_VERSION = "3"
# Problems the validator reports for contributed text (ignored only with SNNKB_SKIP_TEXT_CHECKS=1, in tests).
TEXT_CHECK_MESSAGES = ("raw HTML is not allowed", "attribute-list syntax", "script URLs")


@dataclass(frozen=True)
class Settings:
    catalog: Path
    root: Path
    verification: Path
    work: Path
    skip_text_checks: bool = False

    @property
    def executed_notebooks(self) -> Path:
        return self.verification.parent / "notebooks"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        catalog = Path(env.get("SNNKB_CATALOG") or REPO_ROOT / "catalog.yaml").resolve()
        root = Path(env.get("SNNKB_ROOT") or catalog.parent).resolve()
        verification = Path(env.get("SNNKB_VERIFICATION") or root / "build" / "verification.json").resolve()
        work = Path(env.get("SNNKB_WORK") or REPO_ROOT / "build" / ".site-work").resolve()
        return cls(catalog, root, verification, work, env.get("SNNKB_SKIP_TEXT_CHECKS") == "1")

    def to_env(self) -> dict[str, str]:
        env = {"SNNKB_CATALOG": str(self.catalog), "SNNKB_ROOT": str(self.root),
               "SNNKB_VERIFICATION": str(self.verification), "SNNKB_WORK": str(self.work)}
        if self.skip_text_checks:
            env["SNNKB_SKIP_TEXT_CHECKS"] = "1"
        return env


# --------------------------------------------------------------------------------------------------------------------
# Inputs shared by the three builds


def catalog_errors(settings: Settings) -> list[str]:
    """Validation errors that must stop the build (text checks dropped only when the settings say so)."""
    from snnkb.validate import validate

    problems = [p for p in validate(settings.catalog, root=settings.root) if p.severity == "error"]
    if settings.skip_text_checks:
        problems = [p for p in problems if not any(m in p.message for m in TEXT_CHECK_MESSAGES)]
    return [str(p) for p in problems]


def _optional_json(path: Path) -> Any:
    """A report written by another command (mutation.json, bench.json): None when it has not been run."""
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON: {exc}") from exc


def load_mutation(settings: Settings) -> dict[str, dict[str, Any]]:
    """mutation.json's ``papers`` (beside verification.json); empty when `make mutate` has not been run."""
    data = _optional_json(settings.verification.parent / "mutation.json")
    papers = data.get("papers") if isinstance(data, dict) else None
    return {str(k): v for k, v in papers.items() if isinstance(v, dict)} if isinstance(papers, dict) else {}


def load_bench(settings: Settings) -> dict[str, Any] | None:
    """bench.json (beside verification.json); None when `make bench` has not been run."""
    data = _optional_json(settings.verification.parent / "bench.json")
    return data if isinstance(data, dict) else None


def load_verification(settings: Settings) -> dict[str, dict[str, Any]]:
    """build/verification.json's ``papers`` mapping; empty (everything "not yet verified") when there is none."""
    try:
        data = json.loads(settings.verification.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{settings.verification}: not readable JSON: {exc}") from exc
    papers = data.get("papers") if isinstance(data, dict) else None
    if not isinstance(papers, dict):
        raise ValueError(f"{settings.verification}: expected {{\"papers\": {{id: {{...}}}}}}")
    return {str(k): v for k, v in papers.items() if isinstance(v, dict)}


_KEEP_MIME = ("text/plain", "image/png", "text/latex")


def convert_notebook(path: Path) -> str:
    """An executed notebook -> sanitized HTML body: nbconvert's HTML exporter (basic template, sanitize_html=True),
    outputs cut to text / PNG / LaTeX, Markdown cells through our own renderer, then an nh3 allow-list."""
    import nbformat
    import nh3
    from nbconvert import HTMLExporter

    from snnkb.render import markdown_html

    nb = nbformat.read(path, as_version=4)
    # Markdown cells go through our own renderer (raw HTML off, math for KaTeX); nbconvert sees only a token.
    markdown: dict[str, str] = {}
    for i, cell in enumerate(nb.cells):
        cell.pop("attachments", None)
        if cell.cell_type == "markdown":
            token = f"SNNKBMARKDOWNCELL{i:05d}"
            markdown[token] = markdown_html(cell.source, heading_offset=1)
            cell.source = token
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("execute_result", "display_data"):
                out["data"] = {k: v for k, v in out.get("data", {}).items() if k in _KEEP_MIME}
                out["metadata"] = {}
                if not out["data"]:
                    continue
            outputs.append(out)
        cell["outputs"] = outputs
    exporter = HTMLExporter(template_name="basic", sanitize_html=True)
    body, _ = exporter.from_notebook_node(nb)
    # nbconvert wraps each token in a paragraph, which its own sanitizer may have escaped
    body = re.sub(r"(?:<p>|&lt;p&gt;)?\s*(SNNKBMARKDOWNCELL\d{5})\s*(?:</p>|&lt;/p&gt;)?",
                  lambda m: markdown.get(m.group(1), ""), body)

    def keep(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src":
            return value if value.startswith("data:image/png;base64,") else None
        return value

    tags = {"div", "span", "pre", "code", "p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "h2", "h3",
            "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr", "img", "s", "del", "sub", "sup"}
    return nh3.clean(body, tags=tags, attributes={"*": {"class"}, "img": {"src", "alt", "width", "height"}},
                     url_schemes={"data"}, attribute_filter=keep, link_rel=None, strip_comments=True).strip()


def notebook_html(settings: Settings, pid: str) -> str | None:
    """Sanitized HTML of the executed notebook of ``pid`` (None if it was not executed), cached by content hash."""
    src = settings.executed_notebooks / f"{pid}.ipynb"
    try:
        raw = src.read_bytes()
    except FileNotFoundError:
        return None
    digest = hashlib.sha256(CONVERTER_VERSION.encode() + raw).hexdigest()[:20]
    cached = settings.work / "notebooks" / f"{pid}-{digest}.html"
    if cached.is_file():
        return cached.read_text("utf-8")
    html = convert_notebook(src)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(html, "utf-8")
    os.replace(tmp, cached)
    return html


KATEX_CHECK_JS = r"""
const katex = require(process.argv[1]);
let input = "";
process.stdin.on("data", d => input += d);
process.stdin.on("end", () => {
  const errors = [];
  for (const [where, tex, display] of JSON.parse(input)) {
    try {
      katex.renderToString(tex, {displayMode: display, throwOnError: true, strict: "ignore", trust: false});
    } catch (e) {
      errors.push([where, String(e.message || e)]);
    }
  }
  process.stdout.write(JSON.stringify(errors));
});
"""


def katex_errors(snippets: list[tuple[str, str, bool]], passed: Path | None = None) -> list[str]:
    """Render every ``(where, latex, display)`` with KaTeX in one Node process; the failures as messages.

    ``passed`` remembers the digest of the last set of snippets that all rendered, so an unchanged set (with the
    same KaTeX) is not rendered again.
    """
    if not snippets:
        return []
    if not (KATEX_DIR / "package.json").is_file():
        return [f"KaTeX is not installed: run `{NPM_INSTALL}` in {REPO_ROOT}"]
    digest = hashlib.sha256(json.dumps([KATEX_CHECK_JS, (KATEX_DIR / "package.json").read_text("utf-8"), snippets],
                                       ensure_ascii=False).encode()).hexdigest()
    if passed is not None and passed.is_file() and passed.read_text("utf-8") == digest:
        return []
    node = shutil.which("node")
    if not node:
        return ["node is not installed: it is needed to check the equations with KaTeX"]
    proc = subprocess.run([node, "-e", KATEX_CHECK_JS, str(KATEX_DIR)], input=json.dumps(snippets),
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return [f"KaTeX check failed to run: {proc.stderr.strip()[-500:]}"]
    errors = [f"{where}: KaTeX cannot render it: {msg}" for where, msg in json.loads(proc.stdout)]
    if passed is not None and not errors:
        passed.parent.mkdir(parents=True, exist_ok=True)
        passed.write_text(digest, "utf-8")
    return errors


def math_to_check(papers: list[dict[str, Any]], settings: Settings) -> list[tuple[str, str, bool]]:
    """Every piece of math the site will typeset from contributed text, with where it comes from."""
    from snnkb.render import math_snippets

    out: list[tuple[str, str, bool]] = []
    for i, p in enumerate(papers):
        pid = p.get("id", f"papers[{i}]")
        if isinstance(p.get("equation"), str):
            out.append((f"{pid}.equation", p["equation"], True))
        for lang, text in sorted((p.get("notes") or {}).items()):
            for tex, display in math_snippets(text):
                out.append((f"{pid}.notes.{lang}", tex, display))
        note = settings.root / "papers" / f"{pid}.md"
        if note.is_file():
            for tex, display in math_snippets(note.read_text("utf-8")):
                out.append((f"papers/{pid}.md", tex, display))
    return out


class BuildError(Exception):
    """Problems that stop the build, one message per line."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


def _fast_load(path: Path) -> list[dict[str, Any]]:
    """The catalog's papers as plain data, parsed as the validator parses them (libyaml when it can)."""
    from snnkb.catalog import load

    return [p for p in load(path).papers if isinstance(p, dict)]


def prepare(settings: Settings, *, check: bool = True) -> "SiteData":
    """Validate the catalog, check its math with KaTeX, and gather every input of the pages (raises BuildError)."""
    from snnkb import render

    if check:
        errors = catalog_errors(settings)
        if errors:
            raise BuildError(errors)
    papers = _fast_load(settings.catalog)
    if check:
        snippets = math_to_check(papers, settings)
        errors = katex_errors(snippets, settings.work / "katex-passed.txt")
        if errors:
            raise BuildError(_with_lines(errors, settings))
    try:
        verification = load_verification(settings)
        mutation, bench = load_mutation(settings), load_bench(settings)
    except ValueError as exc:
        raise BuildError([str(exc)]) from exc
    from snnkb.render_extra import LABS

    labs = [name for name in LABS if (settings.root / "notebooks" / "labs" / f"{name}.py").is_file()]
    data = render.SiteData(papers=papers, verification=verification, mutation=mutation, bench=bench, labs=labs)
    data.notebook_html = convert_all(settings, [p["id"] for p in data.papers] + [f"labs/{n}" for n in LABS])
    errors = []
    for p in data.papers:
        pid = p["id"]
        data.reading_notes[pid] = (settings.root / "papers" / f"{pid}.md").read_text("utf-8")
        module, _, obj = p["impl"].partition(":")
        rel = render.module_path(module, settings.root)
        try:
            data.sources[pid] = render.extract_source((settings.root / rel).read_text("utf-8"), obj or None,
                                                      rel.as_posix())
        except (OSError, SyntaxError, LookupError) as exc:
            errors.append(f"{settings.catalog.name}: {pid}.impl: {exc}")
    if errors:
        raise BuildError(errors)
    return data


def convert_all(settings: Settings, ids: list[str]) -> dict[str, str]:
    """The sanitized HTML of every executed notebook among ``ids``; cache misses are converted in parallel."""
    todo = [pid for pid in ids if (settings.executed_notebooks / f"{pid}.ipynb").is_file()]
    workers = min(os.cpu_count() or 1, 8)
    if len(todo) > 4 and workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(notebook_html, [settings] * len(todo), todo, chunksize=4))
    else:
        results = [notebook_html(settings, pid) for pid in todo]
    return {pid: html for pid, html in zip(todo, results) if html is not None}


def _with_lines(errors: list[str], settings: Settings) -> list[str]:
    """Put catalog line numbers on KaTeX errors (the round-trip load is slow: only done when there are errors)."""
    from snnkb.catalog import load

    cat = load(settings.catalog)
    lines = {}
    for i, p in enumerate(cat.papers):
        lines[f"{p.get('id')}.equation"] = cat.line_of(("papers", i, "equation"))
        for lang in p.get("notes") or {}:
            lines[f"{p.get('id')}.notes.{lang}"] = cat.line_of(("papers", i, "notes", lang))
    out = []
    for e in errors:
        where = e.split(":", 1)[0]
        out.append(f"{cat.name}:{lines[where]}: {e}" if where in lines else e)
    return out


def save_data(data: "SiteData", path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {"papers": data.papers, "verification": data.verification, "reading_notes": data.reading_notes,
            "sources": {k: vars(v) for k, v in data.sources.items()}, "notebook_html": data.notebook_html,
            "mutation": data.mutation, "bench": data.bench, "labs": data.labs}
    path.write_text(json.dumps(blob, ensure_ascii=False), "utf-8")


def load_data(path: Path) -> "SiteData":
    from snnkb import render

    blob = json.loads(path.read_text("utf-8"))
    data = render.SiteData(papers=blob["papers"], verification=blob["verification"],
                           reading_notes=blob["reading_notes"], notebook_html=blob["notebook_html"],
                           mutation=blob["mutation"], bench=blob["bench"], labs=blob["labs"])
    data.sources = {k: render.Source(**v) for k, v in blob["sources"].items()}
    return data


# --------------------------------------------------------------------------------------------------------------------
# Build and serve


def build(settings: Settings, out: Path, languages: tuple[str, ...] = LANGUAGES, *, quiet: bool = True) -> int:
    """Build every language in parallel into ``out`` (English at its root); 0 on success."""
    started = time.monotonic()
    try:
        data = prepare(settings)
    except BuildError as exc:
        print("\n".join(exc.messages), file=sys.stderr)
        print(f"site: {len(exc.messages)} problem(s); not building", file=sys.stderr)
        return 1
    data_file = settings.work / "site-data.json"
    save_data(data, data_file)

    staging = settings.work / "lang"
    shutil.rmtree(staging, ignore_errors=True)
    env = {**os.environ, **settings.to_env(), "SNNKB_SITE_DATA": str(data_file)}
    procs = {}
    for lang in languages:
        cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(MKDOCS_YML),
               "-d", str(staging / lang)] + (["-q"] if quiet else [])
        procs[lang] = subprocess.Popen(cmd, env={**env, "SNNKB_LANG": lang}, cwd=REPO_ROOT,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    failed = []
    for lang, proc in procs.items():
        output, _ = proc.communicate()
        if proc.returncode != 0 or not quiet:
            sys.stderr.write(output)
        if proc.returncode != 0:
            failed.append(lang)
    if failed:
        print(f"site: the build failed for {', '.join(failed)}", file=sys.stderr)
        return 1

    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    first, *others = languages
    os.replace(staging / first, out)
    for lang in others:
        os.replace(staging / lang, out / lang)
    (out / ".nojekyll").write_text("")
    # The exports, once for all languages; the feed sits in exports/, so its links climb one level to the pages.
    from snnkb.export import write_all

    write_all(data.papers, out / "exports", settings.catalog, base_url="../")
    print(f"site: built {', '.join(languages)} into {out} in {time.monotonic() - started:.1f} s")
    return 0


def serve(directory: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer((host, port), handler) as httpd:
        print(f"serving {directory} on http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


def _run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    for name, value in (("SNNKB_CATALOG", args.catalog), ("SNNKB_ROOT", args.root),
                        ("SNNKB_VERIFICATION", args.verification)):
        if value is not None:
            env[name] = str(value)
    if args.unsafe_skip_text_checks:
        env["SNNKB_SKIP_TEXT_CHECKS"] = "1"
    out = Path(args.out).resolve()
    env.setdefault("SNNKB_WORK", str(out.parent / ".site-work"))
    settings = Settings.from_env(env)
    languages = tuple(args.lang.split(",")) if args.lang else LANGUAGES
    if languages[0] != "en" and "en" in languages or any(x not in LANGUAGES for x in languages):
        print(f"--lang: a comma-separated subset of {','.join(LANGUAGES)}, English first", file=sys.stderr)
        return 2
    rc = build(settings, out, languages, quiet=not args.verbose)
    if rc == 0 and args.serve:
        serve(out, port=args.port)
    return rc


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `site` subcommand."""
    p = sub.add_parser("site", help="build the site (English, 中文, 日本語) into build/site; --serve to serve it")
    p.add_argument("--serve", action="store_true", help="after building, serve it on http://127.0.0.1:PORT/")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "site", help="output folder (default build/site)")
    p.add_argument("--catalog", type=Path, help="catalog file (default catalog.yaml; env SNNKB_CATALOG)")
    p.add_argument("--root", type=Path, help="folder with snnref/, notebooks/, papers/ (default: the catalog's)")
    p.add_argument("--verification", type=Path, help="verification.json (default <root>/build/verification.json)")
    p.add_argument("--lang", help="comma-separated languages to build (default en,zh,ja)")
    p.add_argument("--verbose", action="store_true", help="show MkDocs' output")
    p.add_argument("--unsafe-skip-text-checks", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_run)
