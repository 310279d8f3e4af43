"""snnkb.render: catalog -> Markdown pages, without MkDocs."""

from __future__ import annotations

import html
import re
import string
from html.parser import HTMLParser

import bibtexparser
import markdown
import pytest

from snnkb import LANGUAGES, render

PAPER = {
    "id": "ada2019leak",
    "title": "Leaky Integration with *Learnable* Time Constants",
    "authors": ["Ada Lovelace", "Charles Babbage"],
    "venue": "NeurIPS",
    "year": 2019,
    "categories": ["surrogate-gradient", "neuron-model"],
    "paradigm": "surrogate-gradient",
    "neuron_models": ["LIF"],
    "datasets": ["MNIST"],
    "links": {"paper": "https://example.org/a.pdf", "arxiv": "https://arxiv.org/abs/1901.00001v2",
              "doi": "https://doi.org/10.1000/xyz", "code": "javascript:alert(1)"},
    "notes": {"en": "English note with $\\tau$.", "zh": "中文笔记，阈值。"},
    "equation": "H_t = V_{t-1} + \\frac{1}{\\tau} X_t",
    "impl": "snnref.neuron:lif_step",
    "notebook": "notebooks/ada2019leak.py",
}
OTHER = {**PAPER, "id": "bo2021clip", "title": "Clip", "year": 2021, "venue": "ICLR",
         "categories": ["ann-snn-conversion"], "notes": {"en": "Other."}}


def data(**kw):
    return render.SiteData(papers=[OTHER, PAPER], **kw)


# --- contributed text ------------------------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "# Title {: onclick=alert(1) }",
    "text {: .cls #id onclick=\"alert(1)\" }",
    "``` $$x$$ | a | b |",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_is_inert_in_python_markdown_with_attr_list(text):
    # md_text output goes into Markdown that MkDocs renders; even with attr_list and arithmatex enabled it must come
    # out as exactly the original characters, with no element or attribute of its own.
    out = markdown.markdown(render.md_text(text), extensions=["attr_list", "pymdownx.arithmatex", "tables"])
    assert re.fullmatch(r"<p>[^<>]*</p>", out), out
    assert html.unescape(out[3:-4]) == " ".join(text.split())


def test_md_text_keeps_letters_and_cjk():
    assert render.md_text("膜電位 abc 9") == "膜電位 abc 9"
    assert render.md_text("a*b") == "a&#42;b"


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(fragment: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(fragment)
    return parser.found


@pytest.mark.parametrize("text", HOSTILE + ["<a href='https://e.org' onclick='x'>a</a>", "<style>p{}</style>",
                                            "<https://e.org>", "![i](https://e.org/i.png)"])
def test_markdown_html_leaves_no_live_html(text):
    # Every element in the output is one the allow-list permits, with no attribute but math's class.
    for tag, attrs in elements(render.markdown_html(text)):
        assert tag in {"p", "em", "strong", "code", "pre", "h2", "h3", "table", "thead", "tbody", "tr", "th", "td"}
        assert attrs == {}, (tag, attrs)


def test_markdown_html_math_headings_and_tables():
    out = render.markdown_html("# Top\n\n## Sub\n\nA $a_t * b_t$ and\n\n$$\\frac{1}{2}$$\n\n| a |\n|---|\n| 1 |",
                               heading_offset=1)
    assert "<h2>Top</h2>" in out and "<h3>Sub</h3>" in out
    assert '<span class="arithmatex">\\(a_t * b_t\\)</span>' in out  # emphasis did not eat the math
    assert '<div class="arithmatex">\\[\\frac{1}{2}\\]</div>' in out
    assert "<table>" in out


def test_markdown_html_escapes_markup_inside_math():
    out = render.markdown_html("$a < b </span><script>x</script>$")
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_inline_html_drops_block_and_links():
    assert render.inline_html("A *b* [c](https://x.org) <b>d</b>") == "A <em>b</em> c &lt;b&gt;d&lt;/b&gt;"


def test_math_snippets_finds_inline_and_display():
    assert render.math_snippets("x $a$ y\n\n$$b$$\n") == [("a", False), ("b", True)]


def test_https_url_only():
    assert render.https_url("https://a.org/x") == "https://a.org/x"
    for bad in ("http://a.org", "javascript:alert(1)", "https://a.org/\"onmouseover=x", " https://a.org", None, 3):
        assert render.https_url(bad) is None


# --- slots -------------------------------------------------------------------------------------------------------------

def test_fill_slots_replaces_each_once_and_fails_loudly():
    page = "<p>a</p>" + render.slot("x").strip() + render.slot("y").strip()
    assert render.fill_slots(page, {"x": "<b>X</b>", "y": "Y"}) == "<p>a</p><b>X</b>Y"
    with pytest.raises(KeyError):
        render.fill_slots(page, {"x": "X"})  # y has no content
    with pytest.raises(KeyError):
        render.fill_slots(page, {"x": "X", "y": "Y", "z": "Z"})  # z never placed


# --- pages -------------------------------------------------------------------------------------------------------------

def test_pages_are_deterministic_and_sorted():
    a = render.all_pages("en", data())
    b = render.all_pages("en", render.SiteData(papers=[PAPER, OTHER]))
    assert [(p.path, p.markdown, p.slots) for p in a] == [(p.path, p.markdown, p.slots) for p in b]
    paths = [p.path for p in a]
    assert paths.index("papers/ada2019leak.md") < paths.index("papers/bo2021clip.md")
    browse = next(p for p in a if p.path == "browse.md").slots["browse"]
    assert browse.index('data-venue="NeurIPS"') < browse.index('data-venue="ICLR"')  # sorted by id


def test_paper_page_has_every_part():
    d = data(verification={"ada2019leak": {"status": "verified", "seconds": 2.345, "date": "2026-11-25T12:00:00+00:00"}},
             reading_notes={"ada2019leak": "## Problem\n\nText."},
             sources={"ada2019leak": render.Source("snnref/neuron.py", 3, 4, "def lif_step():\n    pass\n")})
    page = render.paper_page(PAPER, "en", d)
    md, slots = page.markdown, page.slots
    assert md.startswith('---\ntitle: "Leaky Integration with &#42;Learnable&#42; Time Constants"\n---')
    for heading in ("Key idea", "Core equation", "Verification", "Implementation", "Reading note", "BibTeX"):
        assert f"\n## {heading}\n" in md
    assert "[Open the executed notebook](../notebooks/ada2019leak.md)" in md
    assert "```python\ndef lif_step():\n    pass\n```" in md
    assert "(lines 3–4)" in md
    assert 'snnkb-badge--verified' in slots["badge"] and "2026-11-25 12:00 UTC, run time 2.3 s" in slots["badge"]
    assert slots["equation"] == '<div class="arithmatex">\\[H_t = V_{t-1} + \\frac{1}{\\tau} X_t\\]</div>'
    assert '<a href="../../categories/neuron-model/">Neuron models</a>' in slots["meta"]
    assert "javascript" not in slots["meta"]  # a non-https link field is never emitted
    assert slots["meta"].count("<a href=\"https://") == 3  # paper, arXiv, DOI
    assert "<h3>Problem</h3>" in slots["reading"]
    for slot_name in slots:
        assert f'data-snnkb-slot="{slot_name}"' in md


def test_notes_translation_marker():
    zh = render.notes_html(PAPER, "zh")
    assert "中文笔记" in zh and "snnkb-untranslated" not in zh
    ja = render.notes_html(PAPER, "ja")
    assert "snnkb-untranslated" in ja and render.t("ja", "untranslated") in ja and 'lang="en"' in ja
    assert "English note" in ja


def test_badges_for_each_status():
    d = data(verification={"ada2019leak": {"status": "failed", "seconds": 1, "date": "2026-01-02T03:04:05",
                                           "error": "Traceback\nAssertionError: 3 != 4"},
                           "bo2021clip": {"status": "bogus"}})
    page = render.verification_page("en", d)
    assert "verified: **0** · failed: **1** · not yet verified: **1**" in page.markdown
    assert "AssertionError&#58; 3 &#33;&#61; 4" in page.markdown  # last line of the error, inert
    assert "snnkb-badge--missing" in page.slots["badge-bo2021clip"]  # an unknown status is "not yet verified"


def test_counts_and_categories():
    d = data(verification={"ada2019leak": {"status": "verified"}})
    assert render.counts_markdown("en", d) == "**2** papers in the catalog, **1** verified in this build."
    assert render.used_categories(d.papers) == ["surrogate-gradient", "ann-snn-conversion", "neuron-model"]
    index = render.categories_index_page("zh", d).markdown
    assert "| [替代梯度直接训练](surrogate-gradient.md) | 1 |" in index
    assert "| 归一化 | 0 |" in index  # an empty category has no page to link to
    page = render.category_page("neuron-model", "en", d)
    assert "- [Leaky Integration with &#42;Learnable&#42; Time Constants](../papers/ada2019leak.md)" in page.markdown


def test_notebook_page_with_and_without_outputs():
    with_nb = render.notebook_page(PAPER, "en", data(notebook_html={"ada2019leak": "<p>out</p>"}))
    assert "[ada2019leak.ipynb](../downloads/ada2019leak.ipynb)" in with_nb.markdown
    assert with_nb.slots["notebook"] == '<div class="snnkb-notebook"><p>out</p></div>'
    without = render.notebook_page(PAPER, "en", data())
    assert ".ipynb" not in without.markdown and render.t("en", "not_executed") in without.markdown


def test_fence_is_longer_than_any_backtick_run():
    assert render._fence("a ````` b").startswith("``````\n")


# --- BibTeX --------------------------------------------------------------------------------------------------------------

def test_paper_page_bibtex_block_is_the_export_entry():
    # One BibTeX implementation (snnkb.export): the page's block and catalog.bib are the same text.
    from snnkb import export

    assert not hasattr(render, "bibtex_entry") or render.bibtex_entry is export.bibtex_entry
    paper = {**PAPER, "title": "50% of Spikes & more"}
    md = render.paper_page(paper, "en", data()).markdown
    block = md[md.index("```bibtex\n") + len("```bibtex\n"):md.rindex("```")]
    assert block == export.bibtex_entry(paper)
    assert block in export.bibtex([OTHER, paper])
    lib = bibtexparser.parse_string(block)
    assert not lib.failed_blocks
    (e,) = lib.entries
    assert (e.key, e.entry_type) == ("ada2019leak", "inproceedings")
    f = {k: v.value for k, v in e.fields_dict.items()}
    assert f["title"] == "{50\\% of Spikes \\& more}"
    assert f["author"] == "Ada Lovelace and Charles Babbage"
    assert (f["booktitle"], f["year"], f["doi"], f["eprint"]) == ("NeurIPS", "2019", "10.1000/xyz", "1901.00001v2")


def test_bibtex_kind_from_venue():
    journal = render.paper_page({**PAPER, "venue": "Frontiers in Neuroscience"}, "en", data()).markdown
    assert "```bibtex\n@article{ada2019leak," in journal and "journal = {Frontiers in Neuroscience}" in journal


# --- snnref source -------------------------------------------------------------------------------------------------------

SOURCE = '''"""Doc."""
import functools


@functools.lru_cache(maxsize=None)
def f(x):
    return x


class C:
    def m(self):
        return 1


CONST = 3
'''


def test_extract_source_exact_lines_with_decorators():
    src = render.extract_source(SOURCE, "f", "snnref/m.py")
    assert (src.start, src.end) == (5, 7)
    assert src.code == "@functools.lru_cache(maxsize=None)\ndef f(x):\n    return x\n"
    assert render.extract_source(SOURCE, "C", "p").code == "class C:\n    def m(self):\n        return 1\n"
    assert render.extract_source(SOURCE, "CONST", "p").code == "CONST = 3\n"
    whole = render.extract_source(SOURCE, None, "p")
    assert (whole.start, whole.end, whole.code) == (1, 15, SOURCE)
    with pytest.raises(LookupError):
        render.extract_source(SOURCE, "m", "p")  # methods are not top-level


# --- language switcher and i18n ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("current,target,url,expected", [
    ("en", "zh", "", "zh/"),
    ("en", "en", "", "./"),
    ("en", "ja", "papers/x/", "../../ja/papers/x/"),
    ("zh", "en", "papers/x/", "../../../papers/x/"),
    ("zh", "ja", "browse/", "../../ja/browse/"),
    ("ja", "en", "", "../"),
    ("ja", "zh", "404.html", "../zh/"),
    ("zh", "zh", None, "../zh/"),
])
def test_alternate_href(current, target, url, expected):
    assert render.alternate_href(current, target, url) == expected


def test_rel_between_generated_pages():
    assert render._rel("papers/a.md", "categories/b.md") == "../../categories/b/"
    assert render._rel("browse.md", "papers/a.md") == "../papers/a/"
    assert render._rel("categories/index.md", "papers/a.md") == "../papers/a/"  # served at categories/


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_ui_strings_complete_in_every_language():
    en = render.strings("en")
    for lang in LANGUAGES:
        s = render.strings(lang)
        assert set(s) == set(en), lang
        for key in en:
            assert _fields(s[key]) == _fields(en[key]), (lang, key)
