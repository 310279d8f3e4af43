"""The libyaml fast path reads a catalog exactly as the ruamel path does: same data, same line for every node."""

from __future__ import annotations

from pathlib import Path

import pytest

from snnkb import REPO_ROOT, catalog
from snnkb.catalog import load

FILES = sorted((REPO_ROOT / "tests" / "data" / "catalog").glob("*.yaml")) + [REPO_ROOT / "catalog.yaml"]
SCALARS = """\
papers:
  - id: a2020x
    year: 2_020
    flags: [yes, no, on, off, true, False, ~, null, '']
    numbers: [017, 0o17, 0x1F, 1e3, .5, -.inf, +5, 1_000, 12:30]
    dates: [2022-01-01, 2022-01-01 10:00:00]
    tagged: !!str 5
    empty:
"""


def _slow(path: Path, monkeypatch: pytest.MonkeyPatch) -> catalog.Catalog:
    with monkeypatch.context() as m:
        m.setattr(catalog, "_fast_load", lambda text: None)
        return load(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fast_and_ruamel_paths_agree(path: Path, monkeypatch: pytest.MonkeyPatch):
    fast, slow = load(path), _slow(path, monkeypatch)
    assert fast.data == slow.data
    assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]
    if fast.lines is not None:
        assert fast.lines, "a well-formed catalog has lines"
        for node_path in fast.lines:
            assert fast.line_of(node_path) == slow.line_of(node_path), node_path
        assert fast.line_of(("papers", 10_000, "title")) == slow.line_of(("papers", 10_000, "title"))


def test_yaml_12_scalars_as_ruamel_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "catalog.yaml"
    path.write_text(SCALARS, "utf-8")
    fast = load(path)
    assert fast.lines is not None  # this one is read by the fast path
    assert fast.data == _slow(path, monkeypatch).data
    entry = fast.papers[0]
    assert entry["year"] == 2020 and entry["flags"][:4] == ["yes", "no", "on", "off"]
    assert entry["numbers"][:4] == [17, 15, 31, 1000.0] and entry["numbers"][-1] == "12:30"


def test_unusual_input_goes_to_the_ruamel_path(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    path.write_text("papers:\n  - id: a\n    id: b\n", "utf-8")
    cat = load(path)
    assert cat.lines is None and "duplicate key" in str(cat.problems[0])
