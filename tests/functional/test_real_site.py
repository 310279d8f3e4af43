"""The real catalog, as `make test` builds it: every paper verified, and its page in three languages shows that."""

from __future__ import annotations

import json

import pytest

from snnkb import REPO_ROOT
from snnkb.catalog import load

SITE = REPO_ROOT / "build" / "site"
REPORT = REPO_ROOT / "build" / "verification.json"
pytestmark = pytest.mark.skipif(not (SITE / "index.html").exists() or not REPORT.exists(),
                                reason="run `snnkb verify` and `snnkb site` first (make test does)")


def test_every_paper_is_verified_and_its_pages_say_so():
    papers = load(REPO_ROOT / "catalog.yaml").papers
    report = json.loads(REPORT.read_text("utf-8"))["papers"]
    assert papers
    for paper in papers:
        pid = paper["id"]
        assert report[pid]["status"] == "verified", (pid, report[pid].get("error"))
        for prefix in ("", "zh/", "ja/"):
            html = (SITE / prefix / "papers" / pid / "index.html").read_text("utf-8")
            assert 'data-status="verified"' in html, (prefix, pid)
            assert (SITE / prefix / "notebooks" / pid / "index.html").exists()


@pytest.mark.parametrize("pid", ["rueckauer2017conversion", "wu2018stbp", "bu2022qcfs"])
def test_the_three_showcase_papers_are_in_the_catalog(pid):
    assert pid in {p["id"] for p in load(REPO_ROOT / "catalog.yaml").papers}
