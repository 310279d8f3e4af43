"""`snnkb new`: a scaffold from BibTeX, inserted without touching the rest; bad BibTeX changes nothing."""

from __future__ import annotations

import difflib
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from snnkb.catalog import load
from snnkb.validate import validate

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "catalog", tmp_path, dirs_exist_ok=True)
    shutil.copy(DATA / "catalog" / "valid.yaml", tmp_path / "catalog.yaml")
    return tmp_path


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _new(root: Path, bib: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snnkb.cli", "new", "--bibtex", str(DATA / "bibtex" / bib),
                           "--root", str(root), *extra], capture_output=True, text=True)


def test_new_scaffolds_and_validation_reports_it_unfinished(repo: Path):
    before = (repo / "catalog.yaml").read_text("utf-8")
    proc = _new(repo, "good.bib", "--family", "training")
    assert proc.returncode == 0, proc.stderr
    entry = next(p for p in load(repo / "catalog.yaml").papers if p["id"] == "fang2021incorporating")
    assert entry["authors"][3] == "Timothée Masquelier"  # LaTeX decoded, names split and joined
    assert entry["links"] == {"paper": "https://arxiv.org/abs/2007.05785", "arxiv": "https://arxiv.org/abs/2007.05785"}
    after = (repo / "catalog.yaml").read_text("utf-8")
    ops = difflib.SequenceMatcher(a=before.splitlines(True), b=after.splitlines(True), autojunk=False).get_opcodes()
    assert [op[0] for op in ops if op[0] != "equal"] == ["insert"]  # one inserted block, nothing else changed
    for rel in ["papers/fang2021incorporating.md", "notebooks/fang2021incorporating.py",
                "snnref/training/incorporating.py"]:
        assert (repo / rel).is_file()
    problems = [str(p) for p in validate(repo / "catalog.yaml", root=repo)]
    assert problems and all("unfinished" in p for p in problems), problems
    fields = {p.split(": ")[1] for p in problems}
    assert {"fang2021incorporating.categories.0", "fang2021incorporating.notes.en",
            "fang2021incorporating.equation", "fang2021incorporating"} <= fields


@pytest.mark.parametrize("bib,message", [
    ("unbalanced.bib", "unbalanced.bib:1: malformed BibTeX entry"),
    ("missing_fields.bib", "missing field(s): author, booktitle or journal"),
    ("duplicate_keys.bib", "duplicate_keys.bib:2: duplicate BibTeX key 'same2020'"),
    ("existing_id.bib", "id 'toy2020demo' already exists"),
    ("bad_year.bib", "year must be a four-digit year"),
    ("empty.bib", "no BibTeX entry found"),
])
def test_bad_bibtex_changes_nothing(repo: Path, bib: str, message: str):
    before = _tree(repo)
    extra = ("--keyword", "demo") if bib == "existing_id.bib" else ()
    proc = _new(repo, bib, *extra)
    assert proc.returncode == 1
    assert message in proc.stderr and "nothing was changed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _tree(repo) == before
