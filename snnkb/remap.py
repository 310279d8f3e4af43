"""Carry equivalent-mutant ids along when the snnref code above them moves.

An equivalent mutant's id names its place, ``FILE:LINE:COL:OPERATOR[:VARIANT]``, so inserting a line above it in
``FILE`` turns a reviewed equivalent back into a survivor. ``snnkb remap-equivalents [REF]`` reads each id's file
as it was at REF (the commit the ids were written against) and as it is now, pairs the lines that did not change,
and rewrites the ids whose line moved. An id whose own line changed is listed for review and left alone: whether
the mutant is still equivalent is a reviewer's call. Only the id strings are rewritten; the rest of
``catalog.yaml`` keeps every byte. Ids already edited since REF are skipped, so running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from pathlib import Path

from snnkb import REPO_ROOT

# One list item of an entry's equivalent_mutants: "      - id: snnref/x.py:12:8:constant".
ID_LINE = re.compile(r"^(?P<lead>\s*-\s*id:\s*)(?P<file>snnref/\S+?\.py):(?P<line>\d+):(?P<rest>\d+:\S+?)\s*$")


def _git_show(root: Path, ref: str, path: str) -> str | None:
    out = subprocess.run(["git", "-C", str(root), "show", f"{ref}:{path}"], capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else None


def line_map(old: str, new: str) -> dict[int, int]:
    """1-based line numbers of ``old`` that are unchanged in ``new``, with their new numbers."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    moved: dict[int, int] = {}
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            moved.update({i1 + k + 1: j1 + k + 1 for k in range(i2 - i1)})
    return moved


def remap(root: Path, ref: str = "HEAD", write: bool = True) -> tuple[list[str], list[str]]:
    """Rewrite moved ids in ``root/catalog.yaml``; return (moved, needs_review) as printable lines."""
    catalog = root / "catalog.yaml"
    old_catalog = _git_show(root, ref, "catalog.yaml")
    if old_catalog is None:
        raise SystemExit(f"remap-equivalents: catalog.yaml is not in {ref!r} (is {root} a git checkout?)")
    ids_at_ref = {m.group(0).strip() for m in map(ID_LINE.match, old_catalog.splitlines()) if m}
    lines = catalog.read_text("utf-8").splitlines(keepends=True)
    maps: dict[str, dict[int, int] | None] = {}
    moved, review = [], []
    for n, text in enumerate(lines):
        m = ID_LINE.match(text.rstrip("\r\n"))
        if not m or m.group(0).strip() not in ids_at_ref:
            continue  # not an equivalent id, or written after REF: its line number is already current
        path, line = m.group("file"), int(m.group("line"))
        if path not in maps:
            old, current = _git_show(root, ref, path), root / path
            maps[path] = line_map(old, current.read_text("utf-8")) if old is not None and current.exists() else None
        old_id = f"{path}:{line}:{m.group('rest')}"
        where = f"catalog.yaml:{n + 1}"
        if maps[path] is None:
            review.append(f"{where}: {old_id}: {path} is missing at {ref} or now")
        elif line not in maps[path]:
            review.append(f"{where}: {old_id}: line {line} of {path} changed since {ref}; review this equivalent")
        elif maps[path][line] != line:
            new_id = f"{path}:{maps[path][line]}:{m.group('rest')}"
            end = text[len(text.rstrip("\r\n")):]
            lines[n] = f"{m.group('lead')}{new_id}{end}"
            moved.append(f"{where}: {old_id} -> {new_id}")
    if moved and write:
        from snnkb.edit import write_atomic

        write_atomic(catalog, "".join(lines))
    return moved, review


def _main(args: argparse.Namespace) -> int:
    moved, review = remap(args.root, args.ref, write=not args.dry_run)
    for line in moved:
        print(("would move " if args.dry_run else "moved ") + line)
    for line in review:
        print(line, file=sys.stderr)
    print(f"remap-equivalents: {len(moved)} id(s) {'to move' if args.dry_run else 'moved'}, "
          f"{len(review)} to review (since {args.ref})")
    return 1 if review else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `remap-equivalents` subcommand."""
    p = sub.add_parser("remap-equivalents",
                       help="move equivalent-mutant ids along snnref lines that moved since REF (default HEAD)")
    p.add_argument("ref", nargs="?", default="HEAD", help="the commit the ids were written against")
    p.add_argument("--root", type=Path, default=REPO_ROOT)
    p.add_argument("-n", "--dry-run", action="store_true", help="print what would move; write nothing")
    p.set_defaults(func=_main)
