"""Every check on catalog.yaml, all reported at once as ``catalog.yaml:LINE: <id>.<field>: message``."""

from __future__ import annotations

import ast
import datetime
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft202012Validator

from snnkb.catalog import Catalog, Problem, load
from snnkb.schema import build_schema
from snnkb.translations import TRANSLATED, note_hash
from snnkb.translations import status as translation_status
from snnkb.vocabulary import FACET_FIELDS

# Raw HTML (a tag, comment or entity-looking tag start), attribute lists ({: .cls onclick=...}) and script URLs.
_HTML = re.compile(r"<\s*[A-Za-z!/?]")
_ATTR_LIST = re.compile(r"\{:?\s*(?:[#.][A-Za-z_][\w-]*|[A-Za-z_][\w-]*\s*=)")
_SCRIPT_URL = re.compile(r"(?:java|vb)script\s*:|data\s*:\s*text/html", re.IGNORECASE)
_TEXT_FIELDS = ("title", "authors", "venue", "notes", "equation", "source_conflicts")
#: Placeholder that `snnkb new` leaves in scaffolds; validation reports each one as unfinished.
UNFINISHED = "TODO(snnkb)"
_ARXIV_ID = re.compile(r"arxiv\.org/(?:abs|pdf)/([0-9]{4}\.[0-9]{4,5}|[a-z\-]+/[0-9]{7})")


def validate(path: str | Path, *, root: Path | None = None, check_orphans: bool = True) -> list[Problem]:
    """All problems of the catalog at ``path``; ``root`` is the repository holding snnref/ and notebooks/."""
    cat = load(path)
    if cat.problems:
        return cat.problems
    root = Path(root) if root else Path(path).resolve().parent
    return list(_check(cat, root, check_orphans))


def _check(cat: Catalog, root: Path, check_orphans: bool) -> Iterator[Problem]:
    yield from _schema_problems(cat)
    papers = cat.data.get("papers") if isinstance(cat.data, dict) else None
    if not isinstance(papers, list):
        return
    ids = [p.get("id") if isinstance(p, dict) else None for p in papers]

    def at(i: int, *path: Any) -> int:
        return cat.line_of(("papers", i, *path))

    seen: dict[str, int] = {}
    titles: dict[str, str] = {}
    arxivs: dict[str, str] = {}
    for i, p in enumerate(papers):
        if not isinstance(p, dict):
            continue
        pid = p.get("id") if isinstance(p.get("id"), str) else f"papers[{i}]"
        def problem(fld: str, msg: str, *path: Any, severity: str = "error") -> Problem:
            return Problem(cat.name, at(i, *(path or (fld.split(".")[0],))), f"{pid}.{fld}", msg, severity)

        if isinstance(p.get("id"), str):
            if pid in seen:
                yield problem("id", f"duplicate id: also used by the entry at line {seen[pid]}")
            seen.setdefault(pid, at(i))
        if isinstance(p.get("title"), str):
            key = _norm_title(p["title"])
            if key in titles:
                yield problem("title", f"duplicate title: same as {titles[key]}")
            titles.setdefault(key, pid)
        arxiv = (p.get("links") or {}).get("arxiv") if isinstance(p.get("links"), dict) else None
        if isinstance(arxiv, str):
            m = _ARXIV_ID.search(arxiv)
            if not m:
                yield problem("links.arxiv", f"not an arXiv abstract or PDF link: {arxiv!r}", "links", "arxiv")
            elif m.group(1) in arxivs:
                yield problem("links.arxiv", f"duplicate arXiv id {m.group(1)}: also {arxivs[m.group(1)]}",
                              "links", "arxiv")
            else:
                arxivs[m.group(1)] = pid
        year = p.get("year")
        if isinstance(year, int) and year > datetime.date.today().year + 1:
            yield problem("year", f"year {year} is in the future")
        yield from _text_problems(p, pid, cat, i)
        if isinstance(p.get("impl"), str) and p["impl"].startswith("snnref"):
            msg = _impl_problem(p["impl"], root)
            if msg:
                yield problem("impl", msg)
        nb = p.get("notebook")
        if isinstance(nb, str) and isinstance(p.get("id"), str):
            if nb != f"notebooks/{pid}.py":
                yield problem("notebook", f"must be notebooks/{pid}.py (named after the id), got {nb!r}")
            elif not (root / nb).is_file():
                yield problem("notebook", f"file {nb} does not exist")
        if isinstance(p.get("id"), str) and not (root / "papers" / f"{pid}.md").is_file():
            yield problem("id", f"reading note papers/{pid}.md does not exist")
        for j, dep in enumerate(p.get("builds_on") or []):
            if isinstance(dep, str) and dep not in ids:
                yield problem("builds_on", f"unknown paper id {dep!r}", "builds_on", j)
        yield from _unfinished(p, pid, cat, i, root)
        for lang in TRANSLATED:
            notes = p.get("notes") if isinstance(p.get("notes"), dict) else {}
            if UNFINISHED not in str(notes) and translation_status(p, lang) == "stale":
                yield problem(f"notes.{lang}", "translation may be out of date: the English note changed since it was "
                              f"translated (update it, then set translated_from.{lang}: {note_hash(p['notes'].get('en', ''))})",
                              "notes", lang, severity="warning")

    str_ids = [x for x in ids if isinstance(x, str)]
    for i in range(1, len(str_ids)):
        if str_ids[i] < str_ids[i - 1]:
            j = ids.index(str_ids[i])
            yield Problem(cat.name, at(j), f"{str_ids[i]}.id",
                          f"entries must be sorted by id: {str_ids[i]!r} comes after {str_ids[i - 1]!r}")
            break
    if check_orphans:
        referenced = {p.get("notebook") for p in papers if isinstance(p, dict)}
        for nb in sorted((root / "notebooks").glob("*.py")):
            rel = f"notebooks/{nb.name}"
            if rel not in referenced:
                yield Problem(cat.name, 1, "", f"orphan notebook {rel}: no catalog entry names it")


def _norm_title(title: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", unicodedata.normalize("NFKC", title).lower()).strip()


_TERM_NAMES = {"categories": "category", "paradigm": "paradigm", "neuron_models": "neuron model",
               "datasets": "dataset", "field": "source-conflict field"}
_JSON_TYPES = {"integer": "an integer", "string": "a string", "array": "a list", "object": "a mapping"}


def _schema_problems(cat: Catalog) -> Iterator[Problem]:
    if cat.data is None:
        yield Problem(cat.name, 1, "", "the catalog is empty: expected a mapping with a `papers:` list")
        return
    validator = Draft202012Validator(build_schema())
    for err in sorted(validator.iter_errors(cat.data), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(err.absolute_path)
        if isinstance(err.instance, str) and UNFINISHED in err.instance:
            continue  # a scaffold placeholder: reported once, as unfinished, by _unfinished()
        if err.validator in ("required", "additionalProperties"):
            # One problem per named property, located at that property (or at its mapping when missing).
            for name in re.findall(r"'([^']+)'", err.message):
                verb = "missing required field" if err.validator == "required" else "unknown field"
                line_path = path if err.validator == "required" else (*path, name)
                yield Problem(cat.name, cat.line_of(line_path), _where(cat, (*path, name)), verb)
            continue
        yield Problem(cat.name, cat.line_of(path), _where(cat, path), _schema_message(err, path))


def _where(cat: Catalog, path: tuple[Any, ...]) -> str:
    """``<id>.<field>...`` for a path inside an entry, the bare path otherwise."""
    if len(path) >= 2 and path[0] == "papers" and isinstance(path[1], int):
        entry = cat.data["papers"][path[1]]
        pid = entry.get("id") if isinstance(entry, dict) and isinstance(entry.get("id"), str) else f"papers[{path[1]}]"
        return ".".join([pid, *(str(x) for x in path[2:])])
    return ".".join(str(x) for x in path)


def _schema_message(err: Any, path: tuple[Any, ...]) -> str:
    fld = next((str(x) for x in reversed(path) if isinstance(x, str)), "")
    if err.validator == "enum":
        allowed = err.validator_value
        where = f"one of {', '.join(allowed)}" if len(allowed) <= 10 else "terms in snnkb/vocabulary.yaml"
        return f"unknown {_TERM_NAMES.get(fld, fld)} {err.instance!r} (allowed: {where})"
    if err.validator == "pattern" and fld in ("paper", "arxiv", "doi", "openreview", "code"):
        return f"URL must start with https:// and contain no spaces or quotes: {err.instance!r}"
    if err.validator == "pattern":
        return f"{err.instance!r} does not have the required form {err.validator_value}"
    if err.validator in ("minimum", "maximum") and fld == "year":
        return f"year {err.instance} is outside the allowed range"
    if err.validator == "type":
        return f"must be {_JSON_TYPES.get(err.validator_value, err.validator_value)}, got {err.instance!r}"
    return err.message


def _walk_text(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk_text(v, (*path, k))
    elif isinstance(value, list):
        for k, v in enumerate(value):
            yield from _walk_text(v, (*path, k))


def _text_problems(p: dict[str, Any], pid: str, cat: Catalog, i: int) -> Iterator[Problem]:
    """Contributed text must be data: no raw HTML, no attribute lists, no script URLs."""
    for fld in _TEXT_FIELDS:
        for path, text in _walk_text(p.get(fld), (fld,)):
            name = ".".join(str(x) for x in path)
            line = cat.line_of(("papers", i, *path))
            if fld != "equation" and _HTML.search(text):
                yield Problem(cat.name, line, f"{pid}.{name}", "raw HTML is not allowed; write plain Markdown")
            if fld != "equation" and _ATTR_LIST.search(text):
                yield Problem(cat.name, line, f"{pid}.{name}", "attribute-list syntax {: ...} is not allowed")
            if _SCRIPT_URL.search(text):
                yield Problem(cat.name, line, f"{pid}.{name}", "script URLs (javascript:, data:text/html) are not allowed")


def _unfinished(p: dict[str, Any], pid: str, cat: Catalog, i: int, root: Path) -> Iterator[Problem]:
    for path, text in _walk_text(p, ()):
        if UNFINISHED in text:
            yield Problem(cat.name, cat.line_of(("papers", i, *path)), f"{pid}.{'.'.join(map(str, path))}",
                          "unfinished: replace the scaffold's placeholder")
    files = [f"papers/{pid}.md", p.get("notebook")]
    impl = p.get("impl")
    if isinstance(impl, str):
        files.append(_module_file(impl.split(":")[0], root))
    for rel in files:
        if isinstance(rel, (str, Path)) and (root / rel).is_file() and UNFINISHED in (root / rel).read_text("utf-8"):
            yield Problem(cat.name, cat.entry_line(i), f"{pid}",
                          f"unfinished: {Path(rel).as_posix()} still contains {UNFINISHED} placeholders")


def _module_file(module: str, root: Path) -> Path:
    rel = Path(*module.split("."))
    return rel / "__init__.py" if (root / rel).is_dir() else rel.with_suffix(".py")


@lru_cache(maxsize=256)
def _top_level_names(path: Path, mtime: float) -> frozenset[str] | None:
    try:
        tree = ast.parse(path.read_text("utf-8"))
    except SyntaxError:
        return None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return frozenset(names)


def _impl_problem(impl: str, root: Path) -> str | None:
    """Resolve ``snnref.pkg.module[:object]`` by reading the source (no import, so no torch)."""
    module, _, obj = impl.partition(":")
    path = root / _module_file(module, root)
    if not path.is_file():
        return f"module {module} not found (expected {path.relative_to(root).as_posix()})"
    if obj:
        names = _top_level_names(path, path.stat().st_mtime)
        if names is None:
            return f"{path.relative_to(root).as_posix()} has a syntax error"
        if obj not in names:
            return f"{module} defines no top-level {obj!r}"
    return None
