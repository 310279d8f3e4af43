"""Validator: every check has a bad-input fixture whose exact messages are in <fixture>.expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from snnkb.validate import validate

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"
BAD = sorted(DATA.glob("bad_*.yaml"))


def _messages(path: Path) -> list[str]:
    return [str(p) for p in validate(path, root=DATA)]


def test_valid_fixture_has_no_problem():
    assert _messages(DATA / "valid.yaml") == []


@pytest.mark.parametrize("fixture", BAD, ids=lambda p: p.stem)
def test_bad_fixture_gives_its_exact_messages(fixture: Path):
    expected = fixture.with_suffix(".expected").read_text("utf-8").splitlines()
    assert expected, f"{fixture.name} needs a non-empty .expected file"
    assert _messages(fixture) == expected


@pytest.mark.parametrize("fixture", BAD, ids=lambda p: p.stem)
def test_cli_reports_without_traceback(fixture: Path):
    proc = subprocess.run([sys.executable, "-m", "snnkb.cli", "validate", str(fixture), "--root", str(DATA)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{fixture.name}:")


def test_every_check_has_a_fixture():
    """The fixture names cover the validator's checks (a new check needs a new fixture)."""
    names = {p.stem for p in BAD}
    for check in ["yaml_syntax", "duplicate_key", "anchor", "encoding", "bom", "empty", "no_papers", "missing_field",
                  "unknown_field", "year_type", "year_range", "year_future", "duplicate_id", "unsorted",
                  "duplicate_title", "duplicate_arxiv", "arxiv_form", "unknown_category", "unknown_neuron", "url",
                  "html", "attr_list", "script_url", "impl_module", "impl_object", "impl_form", "notebook_missing",
                  "notebook_name", "orphan_notebook", "reading_note", "id_pattern", "unfinished", "builds_on",
                  "conflict_field", "source_name"]:
        assert f"bad_{check}" in names


def test_truncated_catalogs_never_raise(tmp_path: Path):
    """Any prefix of a valid catalog is reported, never a traceback."""
    text = (DATA / "valid.yaml").read_text("utf-8")
    for cut in range(0, len(text), 23):
        path = tmp_path / "catalog.yaml"
        path.write_text(text[:cut], "utf-8")
        problems = validate(path, root=DATA)
        assert all(str(p).startswith("catalog.yaml:") for p in problems)


def test_oversized_file_is_rejected(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    path.write_bytes(b"papers: []\n" + b"#" * 5_000_001)
    assert "more than the" in _messages(path)[0]


def test_schema_file_is_in_step_with_vocabulary():
    from snnkb.schema import SCHEMA_PATH, schema_text

    assert SCHEMA_PATH.read_text("utf-8") == schema_text(), "run `snnkb schema --write`"


def test_stale_translation_is_a_warning_not_an_error():
    fixture = DATA / "warn_stale_translation.yaml"
    problems = validate(fixture, root=DATA)
    assert [str(p) for p in problems] == fixture.with_suffix(".expected").read_text("utf-8").splitlines()
    assert problems and all(p.severity == "warning" for p in problems)
    proc = subprocess.run([sys.executable, "-m", "snnkb.cli", "validate", str(fixture), "--root", str(DATA)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "translation may be out of date" in proc.stderr
