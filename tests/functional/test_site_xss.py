"""Contributed text is data: a site built from a hostile catalog (tests/data/site-xss) has none of its payloads live.

The validator rejects that catalog; the build skips only the validator's text checks (--unsafe-skip-text-checks),
so what is proven here is the renderer's own sanitization. The browser half of the proof (no dialog, no request to
another host) is in tests/browser/test_site_browser.py.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import XSS_FIXTURE, build_site

pytestmark = pytest.mark.slow

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet", "style"}


class LiveScan(HTMLParser):
    """Collects everything in a page that could run script or load from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            norm = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            if name.startswith("on"):
                self.problems.append(f"event handler <{tag} {name}={value[:50]!r}>")
            if name in URL_ATTRS and norm.startswith(("javascript:", "vbscript:", "data:text/html", "data:image/svg")):
                self.problems.append(f"script URL <{tag} {name}={value[:50]!r}>")
            if name in ("src", "data", "srcdoc", "poster") and norm.startswith(("http:", "https:", "//")):
                self.problems.append(f"remote load <{tag} {name}={value[:50]!r}>")
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script":
            self.script = []
            src = dict(attrs).get("src") or ""
            if src and not re.fullmatch(r"/?(\.\./)*(assets/[\w./-]+\.js|search/[\w./-]+\.js)", src.split("?")[0]):
                self.problems.append(f"unexpected script src {src!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script is not None:
            body = "".join(self.script)
            if "alert" in body or "msgbox" in body:
                self.problems.append(f"payload inside <script>: {body[:80]!r}")
            self.script = None

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script.append(data)


def live_problems(site: Path) -> list[str]:
    out = []
    for page in sorted(site.rglob("*.html")):
        scan = LiveScan()
        scan.feed(page.read_text("utf-8"))
        out += [f"{page.relative_to(site)}: {p}" for p in scan.problems]
    return out


def test_validator_rejects_the_hostile_catalog_without_the_flag(tmp_path):
    proc = build_site(XSS_FIXTURE, tmp_path / "out", "--lang", "en")
    assert proc.returncode == 1
    assert "evil2020xss.title: raw HTML is not allowed" in proc.stderr


def test_no_payload_is_live_in_the_built_html(xss_site):
    assert live_problems(xss_site) == []


def test_payloads_are_shown_as_text(xss_site):
    # The payloads are still there, as inert text: sanitization escaped or dropped markup, it did not lose the data.
    page = (xss_site / "papers" / "evil2020xss" / "index.html").read_text("utf-8")
    assert "&lt;script&gt;alert(&#x27;note-en&#x27;)&lt;/script&gt;" in page or "&lt;script&gt;alert('note-en')" in page
    assert "Evilnote" in page and "Mallory" in page
    assert 'href="https://example.org/evil"' in page  # the link field is still a link
    assert "evil.example" not in re.sub(r">[^<]*<", "><", page)  # ...but no URL from contributed text is an attribute
    for lang in ("zh", "ja"):
        text = (xss_site / lang / "papers" / "evil2020xss" / "index.html").read_text("utf-8")
        assert "&lt;script&gt;" in text
    # New fields: source conflicts and equivalent-mutant reasons on the paper page, bench.json on Performance.
    shown = html.unescape(page)  # md_text keeps every character, as entities
    assert "onerror=alert('mutant-reason')" in shown and "[x](javascript:alert('says-link'))" in shown
    perf = html.unescape((xss_site / "performance" / "index.html").read_text("utf-8"))
    assert "<script>alert('machine')</script>" in perf and "<script>alert('figure')</script>" in perf
    quality = html.unescape((xss_site / "data-quality" / "index.html").read_text("utf-8"))
    assert "<svg onload=alert('fact-svg')>" in quality
    relations = (xss_site / "relations" / "index.html").read_text("utf-8")
    assert "&lt;script&gt;alert" in relations  # the title, escaped inside the SVG's <title>


def test_scanner_catches_live_payloads(tmp_path):
    # The scanner itself must see what it is meant to catch.
    (tmp_path / "a.html").write_text(
        "<p onclick=x>a</p><a href=' javascript:x'>b</a><img src='https://e.org/i.png'><script>alert(1)</script>"
        "<iframe></iframe><script src='https://cdn.example/x.js'></script>", "utf-8")
    assert len(live_problems(tmp_path)) == 7  # the CDN script counts twice: remote, and not one of ours
