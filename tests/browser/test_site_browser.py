"""Chromium against the built fixture site served on 127.0.0.1: search in three languages, the language switcher,
math, badges, the notebook link, the Browse table, and the hostile fixture (no dialog, no request to another host).
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(apt-get install -y chromium); CI installs it"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


def _serve(directory: Path):
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Session:
    """One browser page that records every request and every dialog."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, path
        return response

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != "127.0.0.1"]

    def search(self, query: str) -> list[str]:
        """Type a query in Material's search box; the hrefs of the result links."""
        page = self.page
        box = page.locator("input.md-search__input")
        box.click()
        box.fill(query)
        box.press("End")  # fill() sends no key event, and Material's search waits for one
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        hrefs = page.eval_on_selector_all(".md-search-result__item > a", "els => els.map(e => e.href)")
        return [h.split("?")[0].split("#")[0] for h in hrefs]  # drop search.highlight's ?h= and the section

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def site(fixture_site, browser):
    server, base = _serve(fixture_site)
    yield browser, base
    server.shutdown()


@pytest.fixture
def session(site):
    browser, base = site
    s = Session(browser, base)
    yield s
    assert s.foreign_requests() == [], "requests to another host"
    assert s.dialogs == []
    s.close()


def test_english_search_finds_the_paper(session):
    session.goto("")
    hrefs = session.search("quokkaneuron")
    assert any(h.endswith("/papers/ada2019leak/") and "/zh/" not in h and "/ja/" not in h for h in hrefs), hrefs


@pytest.mark.parametrize("lang,query,paper", [
    ("zh", "阈值", "ada2019leak"),         # from the middle of "当膜电位达到阈值时神经元发放脉冲"
    ("zh", "静息电位", "ada2019leak"),     # "向静息电位泄漏"
    ("zh", "反正切", "chen2022surr"),      # "用平滑反正切函数的导数"
    ("ja", "膜電位", "ada2019leak"),       # "ニューロンの膜電位は時定数に従って" (TinySegmenter cuts it 膜電|位)
    ("ja", "スパイク", "ada2019leak"),     # "しきい値に達するとスパイクを出力する"
    ("ja", "しきい値", "ada2019leak"),     # kana + kanji in one word: needs snnkb-ja-search.js
    ("ja", "時間ステップ", "bo2021clip"),  # kanji + katakana: "少ない時間ステップで一致する"
])
def test_cjk_search_finds_the_paper_in_that_language(session, lang, query, paper):
    session.goto(f"{lang}/")
    hrefs = session.search(query)
    assert any(h.endswith(f"/{lang}/papers/{paper}/") for h in hrefs), hrefs
    assert all(f"/{lang}/" in h for h in hrefs), hrefs  # results from this language's own index only


def test_language_switcher_keeps_the_page(session):
    session.goto("papers/ada2019leak/")
    assert "quokkaneuron" in session.page.inner_text(".snnkb-notes")
    for lang, words in (("zh", "阈值"), ("ja", "膜電位")):
        session.goto("papers/ada2019leak/")
        session.page.hover(".md-header__option .md-select")
        session.page.click(f"a.md-select__link[hreflang='{lang}']")
        session.page.wait_for_url(f"**/{lang}/papers/ada2019leak/")
        assert session.page.get_attribute("html", "lang") == lang
        assert words in session.page.inner_text(".snnkb-notes")
    # and back to English from a translated page
    session.page.hover(".md-header__option .md-select")
    session.page.click("a.md-select__link[hreflang='en']")
    session.page.wait_for_url("**/papers/ada2019leak/")
    assert "/ja/" not in session.page.url and "quokkaneuron" in session.page.inner_text(".snnkb-notes")


def test_untranslated_note_is_marked(session):
    session.goto("zh/papers/bo2021clip/")
    assert session.page.is_visible(".snnkb-untranslated")
    assert "尚未翻译" in session.page.inner_text(".snnkb-untranslated")


def test_paper_page_math_badge_and_notebook_link(session):
    session.goto("papers/ada2019leak/")
    page = session.page
    page.wait_for_selector(".arithmatex .katex")
    assert page.locator("div.arithmatex .katex-display").count() >= 1  # the core equation, typeset
    assert page.locator(".snnkb-notes .katex").count() == 1  # $\tau$ inside the note
    page.locator("#bibtex").scroll_into_view_if_needed()  # Material adds copy buttons to visible code blocks
    page.wait_for_selector(".highlight button.md-code__button[data-md-type='copy']", timeout=10000)
    assert "@inproceedings{ada2019leak," in page.locator(".highlight").last.inner_text()
    badge = page.locator(".snnkb-badge--verified")
    assert badge.is_visible() and badge.inner_text() == "verified"
    page.click("text=Open the executed notebook")
    page.wait_for_url("**/notebooks/ada2019leak/")
    assert page.locator(".snnkb-notebook img[src^='data:image/png']").count() == 1
    assert page.locator(".snnkb-notebook .output_latex .katex").count() == 1  # the LaTeX output, typeset
    assert page.evaluate("typeof window.__fixture_script_ran") == "undefined"
    with page.expect_download() as download:
        page.click("a[href$='ada2019leak.ipynb']")
    assert download.value.suggested_filename == "ada2019leak.ipynb"


def test_browse_table_filters_and_sorts(session):
    session.goto("browse/")
    page = session.page
    visible = "els => els.filter(e => !e.hidden).map(e => e.cells[1].textContent)"
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == ["2019", "2021", "2022"]
    page.select_option("select[data-filter='neuron-models']", "LIF")
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == ["2019", "2022"]
    page.select_option("select[data-filter='status']", "failed")
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == []
    assert page.inner_text(".snnkb-count") == "0 of 3 papers shown"
    page.select_option("select[data-filter='status']", "")
    page.select_option("select[data-filter='neuron-models']", "")
    page.click("th:has-text('Year')")
    page.click("th:has-text('Year')")  # second click: descending
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == ["2022", "2021", "2019"]
    page.fill("input[data-filter='text']", "babbage")
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == ["2019"]


def test_browse_facets_combine_and_count(session):
    session.goto("browse/")
    page = session.page
    visible = "els => els.filter(e => !e.hidden).map(e => e.cells[1].textContent)"
    options = "(sel) => Array.from(sel.options).map(o => o.textContent)"
    # Counts before any filter: every paper with that value.
    assert page.eval_on_selector("select[data-filter='categories']", options)[1:] == [
        "ANN-to-SNN conversion (1)", "Architectures (1)", "Conversion: modeling activation functions (1)",
        "Gradient computation (1)", "Neuron models (1)", "Surrogate-gradient / direct training (2)"]
    page.select_option("select[data-filter='categories']", "surrogate-gradient")
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == ["2019", "2022"]
    # The other facets now count within the surrogate-gradient papers only.
    assert "MNIST (1)" in page.eval_on_selector("select[data-filter='datasets']", options)
    assert "CIFAR-100 (0)" in page.eval_on_selector("select[data-filter='datasets']", options)
    page.select_option("select[data-filter='datasets']", "DVS128-Gesture")
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == ["2022"]
    assert page.inner_text(".snnkb-count") == "1 of 3 papers shown"
    assert "2019 (0)" in page.eval_on_selector("select[data-filter='year']", options)
    page.select_option("select[data-filter='paradigm']", "ann-snn-conversion")
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == []
    page.select_option("select[data-filter='paradigm']", "")
    page.select_option("select[data-filter='datasets']", "")
    page.select_option("select[data-filter='categories']", "")
    assert page.eval_on_selector_all(".snnkb-table tbody tr", visible) == ["2019", "2021", "2022"]


def test_relations_graph_links_to_paper_pages(session):
    session.goto("zh/relations/")
    page = session.page
    assert page.locator("svg.snnkb-graph a").count() == 3
    page.locator("svg.snnkb-graph a[href$='papers/chen2022surr/']").click()
    page.wait_for_url("**/zh/papers/chen2022surr/")


@pytest.fixture(scope="module")
def changed_note_site(tmp_path_factory, browser):
    """The fixture catalog with ada2019leak's English note changed, and its translated_from left as it was."""
    import shutil

    from conftest import SITE_FIXTURE, build_site

    root = tmp_path_factory.mktemp("changed") / "root"
    shutil.copytree(SITE_FIXTURE, root)
    cat = root / "catalog.yaml"
    text = cat.read_text("utf-8")
    old = "and a spike is emitted when it reaches the threshold."
    assert text.count(old) == 1
    cat.write_text(text.replace(old, "and a spike is emitted once it reaches the threshold."), "utf-8")
    out = root.parent / "site"
    proc = build_site(root, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    server, base = _serve(out)
    yield base
    server.shutdown()


def test_changed_english_note_marks_translations_out_of_date(changed_note_site, site, browser):
    s = Session(browser, changed_note_site)
    try:
        for lang, words in (("zh", "可能已过时"), ("ja", "古い可能性")):
            s.goto(f"{lang}/papers/ada2019leak/")
            assert s.page.is_visible(".snnkb-stale"), lang
            assert words in s.page.inner_text(".snnkb-stale")
            assert s.page.locator(".snnkb-untranslated").count() == 0  # the translation is still shown
        s.goto("papers/ada2019leak/")
        assert s.page.locator(".snnkb-stale").count() == 0  # English is the source: never "out of date"
        s.goto("zh/translations/")
        assert "可能过时" in s.page.inner_text("article")
    finally:
        s.close()
    _, base = site
    s = Session(browser, base)  # the unchanged fixture: no notice
    try:
        for lang in ("zh", "ja"):
            s.goto(f"{lang}/papers/ada2019leak/")
            assert s.page.locator(".snnkb-stale").count() == 0
            assert s.page.is_visible(".snnkb-notes")
    finally:
        s.close()


def test_hostile_site_runs_nothing_and_loads_nothing_from_elsewhere(xss_site, browser):
    server, base = _serve(xss_site)
    s = Session(browser, base)
    try:
        for prefix in ("", "zh/", "ja/"):
            for path in ("papers/evil2020xss/", "notebooks/evil2020xss/", "browse/", "verification/",
                         "categories/surrogate-gradient/", "relations/", "performance/", "data-quality/",
                         "blocks/", "translations/"):
                s.goto(prefix + path)
                s.page.wait_for_load_state("networkidle")
        s.goto("")
        s.search("Evilnote")  # search results render indexed text as HTML: it must stay inert too
        s.page.wait_for_timeout(500)
        assert s.page.evaluate("typeof window.__fixture_script_ran") == "undefined"
        assert s.dialogs == []
        assert s.foreign_requests() == []
    finally:
        s.close()
        server.shutdown()
