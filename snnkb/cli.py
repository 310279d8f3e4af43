"""The snnkb command line: validate the catalog, keep the schema in step, verify notebooks, build the site."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from snnkb import REPO_ROOT


def _validate(args: argparse.Namespace) -> int:
    from snnkb.validate import validate

    problems = validate(args.catalog, root=args.root, check_orphans=not args.no_orphans)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        print(p, file=sys.stderr)
    if errors:
        print(f"{len(errors)} problem(s) in {args.catalog}", file=sys.stderr)
        return 1
    print(f"{args.catalog}: OK")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from snnkb.schema import SCHEMA_PATH, schema_text

    text = schema_text()
    if args.write:
        SCHEMA_PATH.parent.mkdir(exist_ok=True)
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_PATH.relative_to(REPO_ROOT)}")
        return 0
    if args.check:
        current = SCHEMA_PATH.read_text("utf-8") if SCHEMA_PATH.exists() else ""
        if current != text:
            print(f"{SCHEMA_PATH.relative_to(REPO_ROOT)} is out of date: run `snnkb schema --write`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


def _translations(args: argparse.Namespace) -> int:
    from snnkb.catalog import load
    from snnkb.translations import TRANSLATED, coverage, status

    cat = load(args.catalog)
    if cat.problems:
        print("\n".join(map(str, cat.problems)), file=sys.stderr)
        return 1
    for i, entry in enumerate(cat.papers):
        for lang in TRANSLATED:
            state = status(entry, lang)
            if state != "current":
                print(f"{cat.name}:{cat.line_of(('papers', i, 'notes'))}: {entry.get('id')}.notes.{lang}: {state}")
    for lang, counts in coverage(cat.papers).items():
        total = sum(counts.values()) or 1
        print(f"{lang}: {counts['current']}/{total} current ({100 * counts['current'] // total}%), "
              f"{counts['stale']} stale, {counts['missing']} missing")
    return 0


PLUGINS = ("verify", "site", "new", "mutate", "remap")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="snnkb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check catalog.yaml; every problem as FILE:LINE: id.field: message")
    p.add_argument("catalog", nargs="?", type=Path, default=REPO_ROOT / "catalog.yaml")
    p.add_argument("--root", type=Path, default=REPO_ROOT, help="repository holding snnref/, notebooks/, papers/")
    p.add_argument("--no-orphans", action="store_true", help="skip the orphan-notebook check (partial catalogs)")
    p.set_defaults(func=_validate)

    p = sub.add_parser("translations", help="list stale and missing Chinese/Japanese notes, and coverage")
    p.add_argument("catalog", nargs="?", type=Path, default=REPO_ROOT / "catalog.yaml")
    p.set_defaults(func=_translations)

    p = sub.add_parser("schema", help="print, write or check schema/catalog.schema.json")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true")
    g.add_argument("--check", action="store_true")
    p.set_defaults(func=_schema)

    # Subcommands that live beside the code they drive; each module has register(sub). Only the one asked for is
    # imported (the others pull in jsonschema, ruamel, ...), so a no-op `snnkb verify` stays fast.
    import importlib

    argv = sys.argv[1:] if argv is None else argv
    asked = next((a for a in argv if not a.startswith("-")), None)
    for name in PLUGINS if asked not in PLUGINS else (asked,):
        importlib.import_module(f"snnkb.{name}").register(sub)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
