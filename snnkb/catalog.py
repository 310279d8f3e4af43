"""Load catalog.yaml safely, keeping every node's line so that every problem can be reported as FILE:LINE."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, NodeEvent

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
    root: Any = None
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


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


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
