"""Exports parse with their own ecosystem's tools and carry the catalog's facts unchanged."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import bibtexparser
import feedparser
from bibtexparser import middlewares as mw

from snnkb import export
from snnkb.catalog import load

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog"


def _entries() -> list[dict]:
    papers = load(DATA / "valid.yaml").papers
    tricky = dict(papers[0], id="zed2022tricky", title="Spikes & Gradients: 100% Réel", venue="Neural Computation",
                  authors=["Timothée Masquelier", "Jean-Pierre de la Fontaine"],
                  links={"paper": "https://doi.org/10.1162/neco_a_01367", "doi": "https://doi.org/10.1162/neco_a_01367"})
    return [*papers, tricky]


def test_bibtex_round_trips():
    entries = _entries()
    library = bibtexparser.parse_string(export.bibtex(entries),
                                        append_middleware=[mw.LatexDecodingMiddleware(), mw.SeparateCoAuthors()])
    assert not library.failed_blocks
    parsed = {e.key: e for e in library.entries}
    assert set(parsed) == {e["id"] for e in entries}
    for e in entries:
        b = parsed[e["id"]]
        assert b["title"] == e["title"]
        assert list(b["author"]) == e["authors"]
        assert int(b["year"]) == e["year"]
        venue_field = "booktitle" if export.is_conference(e["venue"]) else "journal"
        assert b[venue_field] == e["venue"]
        assert b["url"] == e["links"]["paper"]
    assert parsed["zed2022tricky"].entry_type == "article" and parsed["toy2020demo"].entry_type == "inproceedings"
    assert parsed["zed2022tricky"]["doi"] == "10.1162/neco_a_01367"
    assert parsed["toy2020demo"]["eprint"] == "2001.00001"


def test_json_csl_and_csv():
    entries = _entries()
    assert json.loads(export.catalog_json(entries)) == {"papers": entries}
    csl = json.loads(export.csl_json(entries))
    assert csl[2]["author"][0] == {"given": "Timothée", "family": "Masquelier"}
    assert csl[2]["issued"] == {"date-parts": [[2020]]} and csl[2]["type"] == "article-journal"
    rows = list(csv.DictReader(io.StringIO(export.catalog_csv(entries))))
    assert [r["id"] for r in rows] == [e["id"] for e in entries]
    assert rows[0]["authors"] == "Ada Example; Ben Sample" and rows[0]["arxiv"] == "https://arxiv.org/abs/2001.00001"


def test_atom_feed_parses_newest_first():
    entries = _entries()
    dates = {"toy2020demo": "2026-01-02T10:00:00+00:00", "toy2021other": "2026-03-04T10:00:00+00:00"}
    feed = feedparser.parse(export.atom_feed(entries, dates))
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert [e.id for e in feed.entries][:2] == ["urn:snn-kb:paper:toy2021other", "urn:snn-kb:paper:toy2020demo"]
    assert feed.entries[0].title == "Another Demonstration Paper"
