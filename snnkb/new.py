"""`snnkb new --bibtex FILE`: scaffold a paper from one BibTeX entry.

Adds the catalog entry at its sorted place (no other byte of catalog.yaml changes) and creates papers/<id>.md,
notebooks/<id>.py and an snnref module from templates. Every part a person must still write is marked with the
placeholder that validation reports as unfinished, so a scaffold can never pass as a paper. Bad input changes nothing.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import re
import string
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snnkb import PACKAGE_DIR, REPO_ROOT
from snnkb.edit import EditError, insert_entry, write_atomic
from snnkb.catalog import load
from snnkb.validate import UNFINISHED

FAMILIES = ("conversion", "training", "models", "neuro")
_STOPWORDS = {"a", "an", "the", "of", "for", "in", "on", "to", "and", "with", "via", "by", "from", "towards",
              "toward", "is", "are", "spiking", "neural", "networks", "network", "deep", "snn", "snns", "learning",
              "training", "efficient"}


class NewError(Exception):
    """Bad BibTeX or a clash with what exists; nothing was written."""


@dataclass
class Scaffold:
    id: str
    entry: dict[str, Any]
    files: dict[Path, str]


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _full_name(name: Any) -> str:
    parts = [" ".join(name.first), " ".join(name.von), " ".join(name.last)]
    full = " ".join(p for p in parts if p)
    return f"{full}, {' '.join(name.jr)}" if name.jr else full


def parse_entry(text: str, source: str = "<stdin>", key: str | None = None) -> Any:
    """The single BibTeX entry in ``text`` (or the one named ``key``), with LaTeX decoded and names split."""
    import bibtexparser
    from bibtexparser import middlewares as mw
    from bibtexparser.model import DuplicateBlockKeyBlock

    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    library = bibtexparser.parse_string(
        text, append_middleware=[mw.LatexDecodingMiddleware(), mw.SeparateCoAuthors(), mw.SplitNameParts()])
    problems = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            problems.append(f"{source}:{line}: duplicate BibTeX key {block.key!r}")
        else:
            problems.append(f"{source}:{line}: malformed BibTeX entry (unbalanced braces or quotes, or a missing comma)")
    if problems:
        raise NewError("\n".join(problems))
    entries = library.entries
    if key is not None:
        entries = [e for e in entries if e.key == key]
        if not entries:
            raise NewError(f"{source}: no entry with key {key!r}")
    if not entries:
        raise NewError(f"{source}: no BibTeX entry found")
    if len(entries) > 1:
        keys = ", ".join(e.key for e in entries)
        raise NewError(f"{source}: {len(entries)} entries ({keys}); choose one with --key")
    return entries[0]


def _field(entry: Any, name: str) -> str | None:
    value = entry.fields_dict.get(name)
    return str(value.value).strip() if value is not None and str(value.value).strip() else None


def scaffold(entry: Any, *, root: Path, family: str, source: str, paper_id: str | None = None,
             keyword: str | None = None) -> Scaffold:
    """Build the catalog entry and the three files for one parsed BibTeX entry (nothing written)."""
    line = (entry.start_line or 0) + 1
    where = f"{source}:{line}: {entry.key}"
    venue = _field(entry, "booktitle") or _field(entry, "journal")
    if venue is None and (_field(entry, "eprint") or "arxiv" in (_field(entry, "publisher") or "").lower()):
        venue = "arXiv"
    authors = entry.fields_dict.get("author")
    missing = [name for name, value in (("title", _field(entry, "title")), ("author", authors),
                                        ("year", _field(entry, "year")), ("booktitle or journal", venue))
               if value is None]
    if missing:
        raise NewError(f"{where}: missing field(s): {', '.join(missing)}")
    title = re.sub(r"\s+", " ", _field(entry, "title") or "")
    year_text = _field(entry, "year") or ""
    if not re.fullmatch(r"\d{4}", year_text) or not 1940 <= int(year_text) <= datetime.date.today().year + 1:
        raise NewError(f"{where}: year must be a four-digit year up to next year, got {year_text!r}")
    names = [_full_name(n) for n in authors.value]
    if family not in FAMILIES:
        raise NewError(f"--family must be one of {', '.join(FAMILIES)}, got {family!r}")

    words = [_ascii_word(w) for w in re.split(r"[\s\-:/]+", title)]
    keyword = keyword or next((w for w in words if w and w not in _STOPWORDS and not w.isdigit()), "paper")
    surname = _ascii_word(authors.value[0].last[-1] if authors.value[0].last else names[0]) or "anon"
    pid = paper_id or f"{surname}{year_text}{_ascii_word(keyword)}"
    if not re.fullmatch(r"[a-z0-9-]+", pid):
        raise NewError(f"id {pid!r} must match [a-z0-9-]+")
    cat = load(root / "catalog.yaml")
    if cat.problems:
        raise NewError("catalog.yaml has problems; fix them first:\n" + "\n".join(map(str, cat.problems)))
    if pid in {p.get("id") for p in cat.papers}:
        raise NewError(f"catalog.yaml: id {pid!r} already exists; choose another with --id")

    module_name = re.sub(r"\W", "_", _ascii_word(keyword) or pid)
    if not module_name[0].isalpha():
        module_name = f"m_{module_name}"
    module_rel = Path("snnref", family, f"{module_name}.py")
    module = f"snnref.{family}.{module_name}"
    function = f"{module_name}_step"
    links: dict[str, str] = {}
    if _field(entry, "eprint") and re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", _field(entry, "eprint") or ""):
        links["arxiv"] = f"https://arxiv.org/abs/{_field(entry, 'eprint')}"
    if _field(entry, "doi"):
        links["doi"] = f"https://doi.org/{_field(entry, 'doi')}"
    url = _field(entry, "url")
    paper = url if url and url.startswith("https://") else links.get("doi") or links.get("arxiv")
    links = {"paper": paper or f"{UNFINISHED}: https:// link to the paper", **links}

    todo = f"{UNFINISHED}: "
    new_entry = {
        "id": pid, "title": title, "authors": names, "venue": venue, "year": int(year_text),
        "categories": [UNFINISHED], "paradigm": UNFINISHED, "neuron_models": [UNFINISHED], "datasets": [UNFINISHED],
        "links": links,
        "notes": {"en": f"{todo}the key idea in 2-4 sentences.", "zh": f"{todo}用 2-4 句中文写出核心思想。",
                  "ja": f"{todo}核となるアイデアを 2〜4 文の日本語で。"},
        "equation": f"{todo}LaTeX of the core equation",
        "impl": f"{module}:{function}", "notebook": f"notebooks/{pid}.py", "sources": [],
    }
    values = {"id": pid, "title": title, "module": module, "function": function}
    files = {}
    for rel, template in ((module_rel, "module.py.tmpl"), (Path("notebooks", f"{pid}.py"), "notebook.py.tmpl"),
                          (Path("papers", f"{pid}.md"), "paper.md.tmpl")):
        if (root / rel).exists():
            raise NewError(f"{rel.as_posix()} already exists; choose another id or keyword")
        text = (PACKAGE_DIR / "templates" / template).read_text("utf-8")
        files[rel] = string.Template(text).substitute(values)
    return Scaffold(pid, new_entry, files)


def create(sc: Scaffold, root: Path) -> None:
    """Write the files, then insert the entry; if the insert fails, remove the files again."""
    written = []
    try:
        for rel, text in sc.files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
            written.append(path)
        insert_entry(root / "catalog.yaml", sc.entry)
    except (OSError, EditError):
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _main(args: argparse.Namespace) -> int:
    source = "<stdin>" if args.bibtex == "-" else args.bibtex
    try:
        text = sys.stdin.read() if args.bibtex == "-" else Path(args.bibtex).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{source}: cannot read BibTeX: {exc}", file=sys.stderr)
        return 1
    try:
        entry = parse_entry(text, source, args.key)
        sc = scaffold(entry, root=args.root, family=args.family, source=source, paper_id=args.id, keyword=args.keyword)
        create(sc, args.root)
    except (NewError, EditError) as exc:
        print(f"{exc}\nnothing was changed", file=sys.stderr)
        return 1
    print(f"added {sc.id} to catalog.yaml and created:")
    for rel in sc.files:
        print(f"  {rel.as_posix()}")
    print(f"next: replace every {UNFINISHED} placeholder; `snnkb validate` lists what is left")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `new` subcommand."""
    p = sub.add_parser("new", help="scaffold a paper from a BibTeX entry (catalog entry, note, notebook, module)")
    p.add_argument("--bibtex", required=True, metavar="FILE", help="BibTeX file, or - for standard input")
    p.add_argument("--key", help="the entry to use when the file holds several")
    p.add_argument("--id", help="catalog id (default: <first-author surname><year><keyword>)")
    p.add_argument("--keyword", help="keyword for the id and the module name (default: from the title)")
    p.add_argument("--family", default="training", choices=FAMILIES, help="snnref subpackage for the module")
    p.add_argument("--root", type=Path, default=REPO_ROOT)
    p.set_defaults(func=_main)
