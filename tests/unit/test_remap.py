"""remap-equivalents moves ids along unchanged lines, flags changed ones, touches nothing else, and is idempotent."""

from __future__ import annotations

import subprocess
from pathlib import Path

from snnkb.cli import main
from snnkb.remap import line_map, remap

CODE = "def f(x):\n    y = x + 1\n    return y * 2\n"
CATALOG = """papers:
  - id: toy2020a
    title: 'A: toy'
    equivalent_mutants:
      - id: snnref/toy.py:2:8:arith-swap
        reason: an example reason
      - id: snnref/toy.py:3:11:arith-swap
        reason: another one
  - id: toy2021b
    equivalent_mutants:
      - id: snnref/toy.py:3:11:arith-swap
        reason: shared with the first entry
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "toy.py").write_text(CODE)
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "0")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "1")
    return tmp_path


def test_line_map_pairs_only_unchanged_lines():
    assert line_map("a\nb\nc\n", "new\na\nB\nc\n") == {1: 2, 3: 4}


def test_moved_ids_follow_their_line_and_nothing_else_changes(tmp_path: Path):
    root = _repo(tmp_path)
    (root / "snnref" / "toy.py").write_text('"""Docstring."""\n\n' + CODE)
    moved, review = remap(root)
    assert len(moved) == 3 and review == []
    assert (root / "catalog.yaml").read_text() == (CATALOG.replace("toy.py:2:8", "toy.py:4:8")
                                                   .replace("toy.py:3:11", "toy.py:5:11"))
    assert remap(root) == ([], [])  # already moved: a second run changes nothing


def test_changed_line_is_flagged_and_left_alone(tmp_path: Path, capsys):
    root = _repo(tmp_path)
    (root / "snnref" / "toy.py").write_text("\n" + CODE.replace("x + 1", "x - 1"))
    assert main(["remap-equivalents", "--root", str(root), "--dry-run"]) == 1
    out, err = capsys.readouterr()
    assert "would move catalog.yaml:7: snnref/toy.py:3:11:arith-swap -> snnref/toy.py:4:11:arith-swap" in out
    assert "catalog.yaml:5: snnref/toy.py:2:8:arith-swap: line 2 of snnref/toy.py changed since HEAD" in err
    assert (root / "catalog.yaml").read_text() == CATALOG  # dry run writes nothing
    moved, review = remap(root)
    text = (root / "catalog.yaml").read_text()
    assert len(moved) == 2 and len(review) == 1
    assert "toy.py:2:8:arith-swap" in text and "toy.py:3:11" not in text
