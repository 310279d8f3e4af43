"""Edit catalog.yaml without touching a byte of what the edit is not about.

An entry is emitted in one canonical layout (:func:`format_entry`) and inserted as a block of lines at its
sorted place; the rest of the file is kept byte for byte (checked before writing), and the write is atomic.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from snnkb.catalog import load

#: Canonical key order of an entry (the schema's order).
KEY_ORDER = ["id", "title", "authors", "venue", "year", "categories", "paradigm", "neuron_models", "datasets",
             "links", "notes", "translated_from", "equation", "impl", "notebook", "sources", "source_conflicts", "builds_on",
             "equivalent_mutants"]
_FLOW_LISTS = {"authors", "categories", "neuron_models", "datasets", "sources", "builds_on"}
_LINK_ORDER = ["paper", "arxiv", "doi", "openreview", "code"]
_NOTE_ORDER = ["en", "zh", "ja"]


class EditError(Exception):
    """An edit that would lose or change data it was not asked to touch."""


def _ordered(mapping: dict[str, Any], order: list[str]) -> CommentedMap:
    out = CommentedMap()
    for key in [k for k in order if k in mapping] + sorted(k for k in mapping if k not in order):
        out[key] = mapping[key]
    return out


def format_entry(entry: dict[str, Any]) -> str:
    """The entry as catalog lines (``  - id: ...``), keys in canonical order, ending with a newline."""
    item = _ordered(entry, KEY_ORDER)
    for key in _FLOW_LISTS & set(item):
        seq = CommentedSeq(item[key])
        seq.fa.set_flow_style()
        item[key] = seq
    if "links" in item:
        item["links"] = _ordered(item["links"], _LINK_ORDER)
    if "notes" in item:
        item["notes"] = _ordered(item["notes"], _NOTE_ORDER)
    if "source_conflicts" in item:
        item["source_conflicts"] = [_ordered(c, ["source", "field", "says", "fact"]) for c in item["source_conflicts"]]
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 110
    yaml.allow_unicode = True
    buf = io.StringIO()
    yaml.dump({"papers": [item]}, buf)
    text = buf.getvalue()
    assert text.startswith("papers:\n")
    return text[len("papers:\n"):]


def insert_entry(path: str | Path, entry: dict[str, Any]) -> str:
    """Insert ``entry`` at its sorted place in the catalog at ``path``; returns the inserted block."""
    path = Path(path)
    cat = load(path)
    if cat.problems:
        raise EditError("\n".join(map(str, cat.problems)))
    ids = [str(p.get("id")) for p in cat.papers]
    new_id = str(entry.get("id"))
    if new_id in ids:
        raise EditError(f"{path.name}: id {new_id!r} already exists")
    block = format_entry(entry)
    old = cat.text
    lines = old.splitlines(keepends=True)
    after = [i for i, pid in enumerate(ids) if pid > new_id]
    if after:
        at = cat.entry_line(after[0]) - 1
    else:
        at = len(lines)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
    new = "".join(lines[:at]) + block + "".join(lines[at:])
    if new.replace(block, "", 1) != old and new.replace(block, "", 1) != old + "\n":
        raise EditError(f"{path.name}: inserting {new_id!r} would change other lines; nothing written")
    write_atomic(path, new)
    return block


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename, so a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
