"""Load catalog.yaml safely, keeping every node's line so that every problem can be reported as FILE:LINE."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml as pyyaml

MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class Problem:
    """One validation finding, printed as ``FILE:LINE: where: message``."""

    file: str
    line: int
    where: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {tag}{where}{self.message}"


@dataclass
class Catalog:
    """The parsed catalog: ``data`` is plain Python (dicts, lists, str, int); ``root`` keeps ruamel's positions."""

    path: Path
    text: str
    data: Any = None
    root: Any = None  # ruamel's tree (slow path) ...
    lines: dict[tuple[Any, ...], int] | None = None  # ... or the fast path's line of every key and item
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def papers(self) -> list[dict[str, Any]]:
        papers = self.data.get("papers") if isinstance(self.data, dict) else None
        return [p for p in papers if isinstance(p, dict)] if isinstance(papers, list) else []

    def line_of(self, path: tuple[Any, ...]) -> int:
        """1-based line of the node at ``path`` (keys and indices), or of its nearest existing parent."""
        if self.lines is not None:
            line = 1
            for i in range(1, len(path) + 1):
                if path[:i] not in self.lines:
                    break
                line = self.lines[path[:i]]
            return line
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        node, line = self.root, 1
        for key in path:
            try:
                if isinstance(node, CommentedMap) and key in node:
                    line = node.lc.key(key)[0] + 1
                    node = node[key]
                elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                    line = node.lc.item(key)[0] + 1
                    node = node[key]
                else:
                    break
            except (AttributeError, KeyError, TypeError):
                break
        return line

    def entry_line(self, index: int) -> int:
        return self.line_of(("papers", index))


def _plain(node: Any) -> Any:
    """ruamel's round-trip types -> plain Python (str subclasses and scalars become their base types)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


# --- fast path: libyaml (C) with YAML 1.2 scalars, as ruamel reads them ------------------------------------------
# ruamel in pure Python takes seconds on a large catalog; libyaml takes a tenth of that. The fast path handles a
# well-formed catalog only: anything unusual (a syntax error, a duplicate key, an anchor, a tag it cannot build)
# returns None and the ruamel path below reads the file, so every message stays ruamel's.

class _Loader(getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader with YAML 1.2 core-schema scalars (``yes`` stays a string, ``1e3`` is a float, ``017`` is 17)."""

    yaml_implicit_resolvers: dict = {}


def _int(loader: Any, node: Any) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2].lower(), 10)
    return sign * int(digits[2:] if base != 10 else digits, base)


def _float(loader: Any, node: Any) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    return {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}.get(
        text, None) or float(text)


for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$", "-+0123456789"),
    ("float", r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
              r"|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
    ("timestamp", r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}"
                  r":[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$", "0123456789"),
):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))
_Loader.add_constructor("tag:yaml.org,2002:bool", lambda loader, node: loader.construct_scalar(node).lower() == "true")
_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)


def _fast_load(text: str) -> tuple[Any, dict[tuple[Any, ...], int]] | None:
    """(plain data, line of every key and item) of a well-formed catalog; None to leave the file to ruamel."""
    try:
        for event in pyyaml.parse(text, Loader=_Loader):
            if isinstance(event, pyyaml.AliasEvent) or getattr(event, "anchor", None):
                return None
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            lines: dict[tuple[Any, ...], int] = {}
            data = _build(loader, node, (), lines)
        finally:
            loader.dispose()
    except (pyyaml.YAMLError, _Duplicate, ValueError, TypeError):
        return None
    return data, lines


class _Duplicate(Exception):
    pass


def _build(loader: Any, node: Any, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> Any:
    if isinstance(node, pyyaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_plain(loader.construct_object(key_node, deep=True)))
            if key in out:
                raise _Duplicate(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _build(loader, value_node, (*path, key), lines)
        return out
    if isinstance(node, pyyaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            items.append(_build(loader, item, (*path, i), lines))
        return items
    return _plain(loader.construct_object(node, deep=True))


def load(path: str | Path) -> Catalog:
    """Parse the catalog; never raises on bad input: problems are collected in ``Catalog.problems``."""
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        cat = Catalog(path, "")
        cat.problems.append(Problem(name, 1, "", f"cannot read the file: {exc.strerror}"))
        return cat
    cat = Catalog(path, "")
    if len(raw) > MAX_BYTES:
        cat.problems.append(Problem(name, 1, "", f"file is {len(raw)} bytes, more than the {MAX_BYTES} allowed"))
        return cat
    try:
        cat.text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        cat.problems.append(Problem(name, line, "", f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8"))
        return cat
    if cat.text.startswith("\ufeff"):
        cat.problems.append(Problem(name, 1, "", "starts with a byte-order mark; save as UTF-8 without BOM"))
        return cat
    fast = _fast_load(cat.text)
    if fast is not None:
        cat.data, cat.lines = fast
        return cat
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.events import AliasEvent, NodeEvent

    yaml = _yaml()
    try:
        for event in yaml.parse(cat.text):
            if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor):
                line = event.start_mark.line + 1
                cat.problems.append(Problem(name, line, "", "YAML anchors and aliases are not allowed in the catalog"))
                return cat
        cat.root = yaml.load(cat.text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        cat.problems.append(Problem(name, line, "", f"invalid YAML: {what}".strip()))
        return cat
    except YAMLError as exc:
        cat.problems.append(Problem(name, 1, "", f"invalid YAML: {exc}"))
        return cat
    cat.data = _plain(cat.root)
    return cat
