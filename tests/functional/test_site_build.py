"""The strict trilingual build of the fixture catalog (tests/data/site): pages, links, assets, search indexes."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import REPO, SITE_FIXTURE, build_site

pytestmark = pytest.mark.slow
IDS = ("ada2019leak", "bo2021clip", "chen2022surr")
LANG_DIRS = {"en": "", "zh": "zh/", "ja": "ja/"}


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src") and v is not None:
                self.urls.append((tag, k, v))


def urls_of(path: Path) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(path.read_text("utf-8"))
    return parser.urls


def article(path: Path) -> str:
    text = path.read_text("utf-8")
    return text[text.index("<article"):text.index("</article>")]


def article_text(path: Path) -> str:
    """The article with entities decoded (md_text writes punctuation of contributed text as entities)."""
    return html.unescape(article(path))


def test_every_page_in_every_language(fixture_site):
    for lang, prefix in LANG_DIRS.items():
        for page in ["", "browse/", "categories/", "verification/", "conventions/", "conventions-map/",
                     "labs/conversion/", "labs/surrogate/", "blocks/", "relations/", "data-quality/",
                     "translations/", "performance/",
                     *(f"papers/{i}/" for i in IDS), *(f"notebooks/{i}/" for i in IDS)]:
            path = fixture_site / prefix / page / "index.html"
            assert path.is_file(), path
            assert f'<html lang="{lang}"' in path.read_text("utf-8"), path
        assert (fixture_site / prefix / "search" / "search_index.json").is_file()


def test_internal_links_resolve_and_nothing_is_fetched_from_another_host(fixture_site):
    checked = 0
    for page in fixture_site.rglob("*.html"):
        for tag, attr, url in urls_of(page):
            parts = urlsplit(url)
            if parts.scheme == "data":
                assert tag == "img" and url.startswith("data:image/png;base64,"), (page, url[:80])
                continue
            if parts.scheme or parts.netloc:
                # Only outbound links a reader clicks may leave the site; nothing is loaded from elsewhere.
                assert tag == "a" and parts.scheme == "https", (page, tag, url)
                continue
            if not parts.path:
                continue
            if parts.path.startswith("/"):  # only 404.html: served at any depth, so MkDocs makes it root-absolute
                assert page.name == "404.html", (page, url)
                target = (fixture_site / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve()
            if url.endswith("/") or target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(fixture_site)}: broken link {url}"
            assert fixture_site.resolve() in target.parents
            checked += 1
    assert checked > 500


def test_katex_and_own_assets_are_served_by_the_site(fixture_site):
    for prefix in LANG_DIRS.values():
        assets = fixture_site / prefix / "assets"
        for rel in ("katex/katex.min.js", "katex/katex.min.css", "katex/contrib/auto-render.min.js",
                    "katex/fonts/KaTeX_Main-Regular.woff2", "javascripts/snnkb.js", "stylesheets/snnkb.css"):
            assert (assets / rel).is_file(), assets / rel
    css = (fixture_site / "assets" / "katex" / "katex.min.css").read_text("utf-8")
    for font in set(re.findall(r"url\((fonts/[^)]+)\)", css)):
        assert (fixture_site / "assets" / "katex" / font).is_file(), font
    home = (fixture_site / "index.html").read_text("utf-8")
    assert "fonts.googleapis" not in home and "fonts.gstatic" not in home


def test_paper_pages_show_status_notes_equation_and_source(fixture_site):
    ada = article(fixture_site / "papers" / "ada2019leak" / "index.html")
    assert 'snnkb-badge--verified' in ada and "2026-11-25 12:00 UTC, run time 2.3 s" in ada
    assert '<div class="arithmatex">\\[H_t = V_{t-1}' in ada
    assert "quokkaneuron" in ada
    # The exact function from the fixture's snnref, decorator included, nothing around it.
    assert "lru_cache" in ada and "lif_step" in ada and "def</span><span class=\"w\"> </span><span class=\"nf\">helper" not in ada
    assert "(lines 10–15)" in ada
    assert '<a href="../../notebooks/ada2019leak/">Open the executed notebook</a>' in ada
    assert "@inproceedings" in ada
    bo = article(fixture_site / "zh" / "papers" / "bo2021clip" / "index.html")
    assert "snnkb-badge--failed" in bo and "snnkb-untranslated" in bo and "尚未翻译" in bo
    chen = article(fixture_site / "ja" / "papers" / "chen2022surr" / "index.html")
    assert "snnkb-badge--missing" in chen and "未検証" in chen and "未翻訳" in chen
    assert "snnkb-untranslated" not in article(fixture_site / "ja" / "papers" / "ada2019leak" / "index.html")


def test_home_counts_and_verification_page(fixture_site):
    assert "<strong>3</strong> papers in the catalog, <strong>1</strong> verified" in (
        fixture_site / "index.html").read_text("utf-8")
    assert "目录共收录 <strong>3</strong> 篇论文" in (fixture_site / "zh" / "index.html").read_text("utf-8")
    ver = article(fixture_site / "verification" / "index.html")
    assert "verified: <strong>1</strong> · failed: <strong>1</strong> · not yet verified: <strong>1</strong>" in ver
    assert "floor instead of round" in ver


def test_notebook_page_outputs_and_downloads(fixture_site):
    page = article(fixture_site / "notebooks" / "ada2019leak" / "index.html")
    assert 'src="data:image/png;base64,' in page
    assert "claim 1 holds: max error 0.0" in page
    assert "fixture-verified-marker" in page and '<span class="arithmatex">' in page
    assert "&lt;p&gt;" not in page and "SNNKBMARKDOWNCELL" not in page  # Markdown cells rendered, not escaped
    assert "html output is dropped" not in page and "__fixture" not in page  # only text, PNG and LaTeX outputs
    assert "$\\tau = 2.5$" in page  # the LaTeX output, typeset in the browser
    assert (fixture_site / "downloads" / "ada2019leak.ipynb").is_file()
    assert (fixture_site / "downloads" / "ada2019leak.py").read_text("utf-8").startswith("# %% [markdown]")
    missing = article(fixture_site / "notebooks" / "chen2022surr" / "index.html")
    assert "has not been executed in this build" in missing
    assert not (fixture_site / "downloads" / "chen2022surr.ipynb").exists()


def test_browse_table(fixture_site):
    page = article(fixture_site / "browse" / "index.html")
    assert page.count("<tr data-venue=") == 3
    assert 'data-categories="surrogate-gradient neuron-model"' in page
    assert '<select data-filter="neuron-models">' in page
    # each option with its count
    plif = "Parametric LIF (learnable τ)"
    assert f'<option value="PLIF" data-label="{plif}">{plif} (1)</option>' in page


def test_paper_page_extras(fixture_site):
    ada = article(fixture_site / "papers" / "ada2019leak" / "index.html")
    assert "mutation score 95% (38/40 killed by assertion)" in ada
    assert '<a href="../../labs/surrogate/">Surrogate-gradient lab</a>' in ada
    assert 'Built on by' in ada and '<a href="../chen2022surr/">Smooth Surrogates' in ada
    bo = article_text(fixture_site / "ja" / "papers" / "bo2021clip" / "index.html")
    assert "元の文献リストとの食い違い" in bo and "ICLR 2021 (the OpenReview page)" in bo
    assert '<a href="../../labs/conversion/">変換ラボ</a>' in bo
    chen = article_text(fixture_site / "zh" / "papers" / "chen2022surr" / "index.html")
    assert "基于" in chen and '<a href="../ada2019leak/">Leaky Integration' in chen
    # The unchanged fixture's translations are current: no out-of-date notice anywhere.
    for lang in ("zh", "ja"):
        for pid in IDS:
            assert "snnkb-stale" not in (fixture_site / lang / "papers" / pid / "index.html").read_text("utf-8")


def test_bibtex_block_is_the_exported_entry(fixture_site):
    bib = (fixture_site / "exports" / "catalog.bib").read_text("utf-8")
    for pid in IDS:
        page = article(fixture_site / "papers" / pid / "index.html")
        code = page[page.index('<code>', page.index('id="bibtex"')):]
        code = html.unescape(re.sub(r"<[^>]+>", "", code[:code.index("</code>")]))
        assert code.startswith(f"@") and code.strip() + "\n" in bib, pid


def test_exports_written_once_and_linked_from_every_home(fixture_site):
    import csv
    import io
    import xml.etree.ElementTree as ET

    import bibtexparser

    exports = fixture_site / "exports"
    assert sorted(p.name for p in exports.iterdir()) == sorted(
        ["catalog.bib", "catalog.csl.json", "catalog.json", "catalog.csv", "feed.xml"])
    assert not (fixture_site / "zh" / "exports").exists() and not (fixture_site / "ja" / "exports").exists()
    lib = bibtexparser.parse_string((exports / "catalog.bib").read_text("utf-8"))
    assert sorted(e.key for e in lib.entries) == list(IDS) and not lib.failed_blocks
    assert [p["id"] for p in json.loads((exports / "catalog.json").read_text("utf-8"))["papers"]] == list(IDS)
    assert len(json.loads((exports / "catalog.csl.json").read_text("utf-8"))) == 3
    assert [r["id"] for r in csv.DictReader(io.StringIO((exports / "catalog.csv").read_text("utf-8")))] == list(IDS)
    feed = ET.parse(exports / "feed.xml").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    hrefs = sorted(link.get("href") for link in feed.iter(f"{atom}link"))
    assert hrefs == [f"../papers/{i}/" for i in IDS]  # relative to exports/feed.xml, no absolute path
    for href in hrefs:
        assert (exports / href / "index.html").resolve().is_file()
    for updated in feed.iter(f"{atom}updated"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", updated.text), updated.text
    for lang, prefix in LANG_DIRS.items():
        home = (fixture_site / prefix / "index.html").read_text("utf-8")
        up = "" if lang == "en" else "../"
        for name in ("catalog.bib", "catalog.csl.json", "catalog.json", "catalog.csv", "feed.xml"):
            assert f'href="{up}exports/{name}"' in home, (lang, name)


def test_lab_pages(fixture_site):
    conv = article(fixture_site / "labs" / "conversion" / "index.html")
    assert "labmarker-conversion" in conv and "snnkb-badge--verified" in conv
    assert (fixture_site / "downloads" / "labs" / "conversion.ipynb").is_file()
    assert (fixture_site / "downloads" / "labs" / "conversion.py").read_text("utf-8").startswith("# %% [markdown]")
    surr = article(fixture_site / "ja" / "labs" / "surrogate" / "index.html")
    assert "代理勾配ラボ" in surr and "snnkb-badge--missing" in surr and "surrogate.ipynb" not in surr
    assert (fixture_site / "downloads" / "labs" / "surrogate.py").is_file()


def test_gallery_relations_quality_translations_performance(fixture_site):
    blocks = article(fixture_site / "blocks" / "index.html")
    assert "snnkb-block" in blocks and "atan_grad" in blocks and '<a href="../papers/chen2022surr/">' in blocks
    graph = article(fixture_site / "relations" / "index.html")
    assert graph.count("<a href=\"../papers/") == 3 and 'class="snnkb-graph-edge"' in graph
    assert "<script" not in graph
    quality = article_text(fixture_site / "zh" / "data-quality" / "index.html")
    assert "NeurIPS 2021" in quality and quality.count('<a href="../papers/bo2021clip/">bo2021clip</a>') == 3
    tr = article(fixture_site / "translations" / "index.html")
    assert "67%" in tr and "not yet translated" in tr
    perf = article_text(fixture_site / "performance" / "index.html")
    assert "x86_64, 2 cores, Python 3.13 (fixture)" in perf and "validate, 1000 papers" in perf
    assert 'class="snnkb-bars"' in perf and "not met" in perf and "Scaling note" in perf
    ver = article(fixture_site / "verification" / "index.html")
    assert "Mutation score" in ver and ">95%</td>" in ver and ">40</td>" in ver


def _index(site: Path, prefix: str) -> dict:
    return json.loads((site / prefix / "search" / "search_index.json").read_text("utf-8"))


def test_search_indexes_per_language(fixture_site):
    zh = _index(fixture_site, "zh/")
    assert "\\u200b" in zh["config"]["separator"]
    text = " ".join(d["text"] for d in zh["docs"] if d["location"].startswith("papers/ada2019leak/"))
    assert "\u200b阈值\u200b" in text  # jieba cut the sentence into words
    ja = _index(fixture_site, "ja/")
    assert ja["config"]["lang"] == ["ja"]
    text = " ".join(d["text"] for d in ja["docs"] if d["location"].startswith("papers/ada2019leak/"))
    assert "膜電位は時定数" in text and "\u200b" not in text  # left whole for TinySegmenter in the browser
    en = _index(fixture_site, "")
    assert en["config"]["lang"] == ["en"]


def test_build_output_is_deterministic(fixture_site, tmp_path):
    out = tmp_path / "again"
    proc = build_site(SITE_FIXTURE, out, "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    for rel in ("papers/ada2019leak/index.html", "browse/index.html", "search/search_index.json"):
        assert (out / rel).read_bytes() == (fixture_site / rel).read_bytes(), rel


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SITE_FIXTURE, root)
    cat = root / "catalog.yaml"
    text = cat.read_text("utf-8")
    assert old in text
    cat.write_text(text.replace(old, new, 1), "utf-8")
    return root


@pytest.mark.parametrize("old,new,message", [
    ("categories: [surrogate-gradient, neuron-model]", "categories: [surrogate-gradient, no-such-category]",
     "catalog.yaml:10: ada2019leak.categories.1: unknown category 'no-such-category'"),
    ("notebook: notebooks/bo2021clip.py", "notebook: notebooks/bo2021clipx.py",
     "bo2021clip.notebook: must be notebooks/bo2021clip.py"),
    ("    year: 2019\n", "    year: 2019\n    unknown_key: 1\n", "ada2019leak.unknown_key: unknown field"),
    ("\\frac{1}{\\tau}\\left(", "\\frac{1}{\\tau}\\undefinedmacro\\left(",
     "catalog.yaml:24: ada2019leak.equation: KaTeX cannot render it: KaTeX parse error: Undefined control sequence"),
])
def test_build_fails_on_catalog_problems(tmp_path, old, new, message):
    root = _broken_copy(tmp_path, old, new)
    proc = build_site(root, tmp_path / "out", "--lang", "en")
    assert proc.returncode == 1
    assert message in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_notebook_file_fails(tmp_path):
    root = _broken_copy(tmp_path, "papers:", "papers:")
    (root / "notebooks" / "chen2022surr.py").unlink()
    proc = build_site(root, tmp_path / "out", "--lang", "en")
    assert proc.returncode == 1 and "chen2022surr.notebook: file notebooks/chen2022surr.py does not exist" in proc.stderr


def test_plain_mkdocs_build_strict_for_one_language(tmp_path):
    # Without `snnkb site`: the hook validates, checks KaTeX and converts notebooks itself.
    env = {**os.environ, "SNNKB_LANG": "ja", "SNNKB_CATALOG": str(SITE_FIXTURE / "catalog.yaml"),
           "SNNKB_VERIFICATION": str(SITE_FIXTURE / "verification" / "verification.json"),
           "SNNKB_WORK": str(tmp_path / "work"), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("SNNKB_SITE_DATA", None)
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "ja")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr
    assert '<html lang="ja"' in (tmp_path / "ja" / "papers" / "ada2019leak" / "index.html").read_text("utf-8")


def test_katex_check_is_skipped_only_for_a_set_that_already_passed(tmp_path, monkeypatch):
    from snnkb import site

    passed = tmp_path / "katex-passed.txt"
    good = [("a.equation", r"\frac{1}{\tau}", True)]
    assert site.katex_errors(good, passed) == [] and passed.is_file()
    # Unchanged and passed before: no Node process at all.
    monkeypatch.setattr(site.subprocess, "run", lambda *a, **k: pytest.fail("KaTeX ran again"))
    assert site.katex_errors(good, passed) == []
    monkeypatch.undo()
    # Any change is checked again, and a failure is never remembered.
    bad = good + [("b.equation", r"\undefinedmacro", True)]
    digest = passed.read_text()
    assert "b.equation: KaTeX cannot render it" in site.katex_errors(bad, passed)[0]
    assert passed.read_text() == digest
