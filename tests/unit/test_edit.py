"""The catalog editor inserts one entry at its sorted place and leaves every other byte alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from snnkb.catalog import load
from snnkb.edit import EditError, format_entry, insert_entry

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"


def _entry(pid: str) -> dict:
    return {
        "id": pid, "title": f"Paper {pid}", "authors": ["Dana Example"], "venue": "ICML", "year": 2021,
        "categories": ["surrogate-gradient"], "paradigm": "surrogate-gradient", "neuron_models": ["LIF"],
        "datasets": ["MNIST"], "links": {"paper": "https://example.org/p.pdf"},
        "notes": {"ja": "日本語のノート。", "en": "A note: with a colon.", "zh": "中文笔记。"},
        "equation": r"V_t = H_t - V_{th} S_t", "impl": "snnref.toy", "notebook": f"notebooks/{pid}.py",
        "sources": ["000_f56128e74e96e28f.txt"],
    }


@pytest.mark.parametrize("pid,position", [("aaa2019first", 0), ("toy2020zzz", 1), ("zzz2022last", 2)])
def test_insert_keeps_other_bytes(tmp_path: Path, pid: str, position: int):
    path = tmp_path / "catalog.yaml"
    shutil.copy(DATA / "valid.yaml", path)
    before = path.read_bytes()
    block = insert_entry(path, _entry(pid))
    after = path.read_bytes()
    assert after.replace(block.encode(), b"", 1) == before
    cat = load(path)
    assert [p["id"] for p in cat.papers].index(pid) == position
    assert cat.papers[position] == _entry(pid)


def test_existing_id_changes_nothing(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    shutil.copy(DATA / "valid.yaml", path)
    before = path.read_bytes()
    with pytest.raises(EditError, match="already exists"):
        insert_entry(path, _entry("toy2020demo"))
    assert path.read_bytes() == before


def test_format_is_canonical_and_round_trips(tmp_path: Path):
    text = format_entry(_entry("abc2020x"))
    assert text.splitlines()[0] == "  - id: abc2020x"
    keys = [line.split(":")[0].strip() for line in text.splitlines() if line.startswith("    ") and not line.startswith("      ")]
    assert keys[:4] == ["title", "authors", "venue", "year"]
    path = tmp_path / "c.yaml"
    path.write_text("papers:\n" + text, "utf-8")
    assert load(path).papers == [_entry("abc2020x")]
