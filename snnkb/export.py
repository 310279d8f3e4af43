"""Exports of the catalog for other tools: BibTeX, CSL-JSON, JSON, CSV and an Atom feed.

All are pure functions of the catalog (plus, for the feed, the date each entry was first committed), deterministic
so that a rebuild of an unchanged catalog writes identical files.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

#: Venues published as conference proceedings (@inproceedings); anything else is exported as a journal article.
CONFERENCES = {"AAAI", "ACM MM", "CVPR", "DAC", "ECCV", "ICASSP", "ICCV", "ICLR", "ICML", "ICONS", "IJCAI", "IJCNN",
               "ISCAS", "NeurIPS", "NIPS", "WACV", "BMVC", "ICRA", "IROS", "CoRL", "ACL", "EMNLP", "NAACL", "KDD", "MICRO",
               "ISCA", "HPCA", "ICCAD", "DATE", "ESWEEK", "CASES", "ISLPED", "AICAS", "ICLR Workshop", "UAI", "AISTATS"}
CSV_COLUMNS = ["id", "title", "authors", "venue", "year", "categories", "paradigm", "neuron_models", "datasets",
               "paper", "arxiv", "doi", "openreview", "code", "impl", "notebook"]
ATOM = "http://www.w3.org/2005/Atom"


def is_conference(venue: str) -> bool:
    return venue in CONFERENCES or bool(re.search(r"conference|proceedings|workshop|symposium", venue, re.I))


def _doi(entry: dict[str, Any]) -> str | None:
    link = (entry.get("links") or {}).get("doi")
    return re.sub(r"^https://(dx\.)?doi\.org/", "", link) if link else None


def _arxiv(entry: dict[str, Any]) -> str | None:
    m = re.search(r"arxiv\.org/(?:abs|pdf)/([^\s?#]+?)(?:\.pdf)?$", (entry.get("links") or {}).get("arxiv", ""))
    return m.group(1) if m else None


def _bib_escape(text: str) -> str:
    return re.sub(r"([&%#])", r"\\\1", text)


def bibtex_entry(entry: dict[str, Any]) -> str:
    """One BibTeX entry; the key is the catalog id."""
    conference = is_conference(entry["venue"])
    fields = [("title", "{" + _bib_escape(entry["title"]) + "}"), ("author", " and ".join(entry["authors"])),
              ("booktitle" if conference else "journal", _bib_escape(entry["venue"])), ("year", str(entry["year"]))]
    if _doi(entry):
        fields.append(("doi", _doi(entry)))
    if _arxiv(entry):
        fields += [("eprint", _arxiv(entry)), ("archiveprefix", "arXiv")]
    fields.append(("url", entry["links"]["paper"]))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{'inproceedings' if conference else 'article'}{{{entry['id']},\n{body}\n}}\n"


def bibtex(entries: list[dict[str, Any]]) -> str:
    return "\n".join(bibtex_entry(e) for e in entries)


def _name(full: str) -> dict[str, str]:
    given, _, family = full.rpartition(" ")
    return {"given": given, "family": family} if given else {"literal": full}


def csl_json(entries: list[dict[str, Any]]) -> str:
    items = []
    for e in entries:
        item = {"id": e["id"], "type": "paper-conference" if is_conference(e["venue"]) else "article-journal",
                "title": e["title"], "author": [_name(a) for a in e["authors"]], "container-title": e["venue"],
                "issued": {"date-parts": [[e["year"]]]}, "URL": e["links"]["paper"]}
        if _doi(e):
            item["DOI"] = _doi(e)
        items.append(item)
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def catalog_json(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"papers": entries}, indent=2, ensure_ascii=False) + "\n"


def catalog_csv(entries: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for e in entries:
        row = {k: e.get(k, "") for k in CSV_COLUMNS}
        for k in ("authors", "categories", "neuron_models", "datasets"):
            row[k] = "; ".join(e.get(k, []))
        for k in ("paper", "arxiv", "doi", "openreview", "code"):
            row[k] = (e.get("links") or {}).get(k, "")
        writer.writerow(row)
    return buf.getvalue()


def added_dates(catalog: Path) -> dict[str, str]:
    """id -> ISO date of the commit that first added it to catalog.yaml (empty outside a git checkout)."""
    try:
        log = subprocess.run(["git", "log", "--reverse", "--format=COMMIT %aI", "-p", "--", catalog.name],
                             cwd=catalog.parent, capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    dates: dict[str, str] = {}
    current = None
    for line in log.splitlines():
        if line.startswith("COMMIT "):  # not "@": the diff's own hunk headers start with "@@"
            current = line[len("COMMIT "):]
        elif current and (m := re.match(r"^\+\s*- id: ([a-z0-9-]+)\s*$", line)):
            dates.setdefault(m.group(1), current)
    return dates


def atom_feed(entries: list[dict[str, Any]], dates: dict[str, str], *, base_url: str = "") -> str:
    """An Atom 1.0 feed of papers, newest addition first; papers never committed are dated by catalog order."""
    fallback = "2026-01-01T00:00:00+00:00"
    ordered = sorted(entries, key=lambda e: (dates.get(e["id"], fallback), e["id"]), reverse=True)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = "urn:snn-kb:papers"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "SNN reference knowledge base: papers as they are added"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = max((dates.get(e["id"], fallback) for e in entries),
                                                          default=fallback)
    ET.SubElement(feed, f"{{{ATOM}}}author").append(_text_el("name", "SNN reference knowledge base contributors"))
    for e in ordered:
        item = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(item, f"{{{ATOM}}}id").text = f"urn:snn-kb:paper:{e['id']}"
        ET.SubElement(item, f"{{{ATOM}}}title").text = e["title"]
        ET.SubElement(item, f"{{{ATOM}}}updated").text = dates.get(e["id"], fallback)
        ET.SubElement(item, f"{{{ATOM}}}link", href=f"{base_url}papers/{e['id']}/", rel="alternate")
        ET.SubElement(item, f"{{{ATOM}}}summary").text = (e.get("notes") or {}).get("en", "")
        for name in e["authors"]:
            ET.SubElement(item, f"{{{ATOM}}}author").append(_text_el("name", name))
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


def _text_el(tag: str, text: str) -> ET.Element:
    el = ET.Element(f"{{{ATOM}}}{tag}")
    el.text = text
    return el


def write_all(entries: list[dict[str, Any]], out: Path, catalog: Path, *, base_url: str = "") -> list[Path]:
    """Write every export into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"catalog.bib": bibtex(entries), "catalog.csl.json": csl_json(entries), "catalog.json": catalog_json(entries),
             "catalog.csv": catalog_csv(entries), "feed.xml": atom_feed(entries, added_dates(catalog), base_url=base_url)}
    for name, text in files.items():
        (out / name).write_text(text, "utf-8")
    return [out / name for name in files]
