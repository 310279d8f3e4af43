"""The pages added on top of the paper pages: translation freshness, provenance, relations, mutation scores, labs,
block gallery, data quality, translations, performance, Browse facet counts (snnkb.render / snnkb.render_extra)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import markdown
import pytest

from snnkb import LANGUAGES, render, render_extra
from snnkb.translations import note_hash

EN = "English note with $\\tau$."
PAPER = {
    "id": "ada2019leak", "title": "Leaky *Learnable*", "authors": ["Ada Lovelace"], "venue": "NeurIPS", "year": 2019,
    "categories": ["surrogate-gradient", "architecture"], "paradigm": "surrogate-gradient", "neuron_models": ["LIF"],
    "datasets": ["MNIST"], "links": {"paper": "https://example.org/a.pdf"},
    "notes": {"en": EN, "zh": "中文笔记。", "ja": "日本語のノート。"},
    "translated_from": {"zh": note_hash(EN), "ja": note_hash(EN)},
    "equation": "H_t = V_{t-1}", "impl": "snnref.neuron:lif_step", "notebook": "notebooks/ada2019leak.py",
}
OTHER = {**PAPER, "id": "bo2021clip", "title": "Clip <b>", "year": 2021, "venue": "ICLR",
         "categories": ["ann-snn-conversion"], "neuron_models": ["IF"], "datasets": ["MNIST", "CIFAR-10"],
         "notes": {"en": "Other."}, "translated_from": {}, "builds_on": ["ada2019leak"],
         "source_conflicts": [
             {"source": "001_b68ddc83dbeadf8a.txt", "field": "venue", "says": "NeurIPS | <script>", "fact": "ICLR"},
             {"source": "000_f56128e74e96e28f.txt", "field": "year", "says": "2020", "fact": "2021"},
             {"source": "001_b68ddc83dbeadf8a.txt", "field": "title", "says": "Clip", "fact": "Clip <b>"}]}
MUTATION = {"ada2019leak": {"mutants": 40, "killed_assert": 38, "killed_error": 1, "timed_out": 0, "score": 0.95},
            "bo2021clip": {"mutants": 0, "killed_assert": 0, "score": None, "status": "baseline-failed"}}


def data(**kw):
    return render.SiteData(papers=[OTHER, PAPER], **kw)


def page(pages, path):
    return next(p for p in pages if p.path == path)


# --- paper page ----------------------------------------------------------------------------------------------------

def test_stale_translation_notice_only_when_english_changed():
    for lang in ("zh", "ja"):
        assert "snnkb-stale" not in render.notes_html(PAPER, lang)  # hashes match
        changed = {**PAPER, "notes": {**PAPER["notes"], "en": EN + " Changed."}}
        html = render.notes_html(changed, lang)
        assert "snnkb-stale" in html and render.t(lang, "stale_translation") in html
        assert "snnkb-untranslated" not in html  # the translation is still shown, under the notice
    assert "snnkb-stale" not in render.notes_html({**PAPER, "notes": {**PAPER["notes"], "en": "x"}}, "en")
    missing = render.notes_html(OTHER, "zh")  # no Chinese note at all: the "not yet translated" marker instead
    assert "snnkb-untranslated" in missing and "snnkb-stale" not in missing


def test_mutation_score_beside_the_badge():
    d = data(mutation=MUTATION, verification={"ada2019leak": {"status": "verified"}})
    ada = render.paper_page(PAPER, "en", d).slots["badge"]
    assert "snnkb-badge--verified" in ada and "mutation score 95% (38/40 killed by assertion)" in ada
    assert "变异得分 95%（40 个变异体中 38 个被断言捕获）" in render.paper_page(PAPER, "zh", d).slots["badge"]
    bo = render.paper_page(OTHER, "en", d).slots["badge"]
    assert render.t("en", "mutation_unscored") in bo
    assert "snnkb-mutation" not in render.paper_page(PAPER, "en", data()).slots["badge"]  # no mutation.json


def test_conflicts_relations_and_lab_links():
    d = data()
    other = render.paper_page(OTHER, "en", d).markdown
    assert "\n## Where the source lists differ\n" in other
    # contributed text inert in the table (the pipe cannot split the row, the tag is an entity)
    assert "| 001&#95;b68ddc83dbeadf8a&#46;txt | venue | NeurIPS &#124; &#60;script&#62; | ICLR |" in other
    assert "### Builds on\n\n- [Leaky &#42;Learnable&#42;](../papers/ada2019leak.md) (2019)" in other
    assert "[Conversion lab](../labs/conversion.md)" in other
    ada = render.paper_page(PAPER, "en", d).markdown
    assert "### Built on by\n\n- [Clip &#60;b&#62;](../papers/bo2021clip.md) (2021)" in ada
    assert "Where the source lists differ" not in ada and "### Builds on" not in ada
    assert "[Surrogate-gradient lab](../labs/surrogate.md)" in ada and "labs/conversion" not in ada


def test_equivalent_mutants_reasons_are_inert():
    p = {**PAPER, "equivalent_mutants": [{"id": "m.py:1:2:constant", "reason": "<img onerror=x> *never*"}]}
    md = render.paper_page(p, "en", data()).markdown
    assert "- m&#46;py&#58;1&#58;2&#58;constant: &#60;img onerror&#61;x&#62; &#42;never&#42;" in md


# --- Browse facets -------------------------------------------------------------------------------------------------

def test_browse_options_show_counts_for_every_facet():
    html = render.browse_page("en", data()).slots["browse"]
    for key in ("venue", "year", "categories", "paradigm", "neuron-models", "datasets", "status"):
        assert f'<select data-filter="{key}">' in html
    assert '<option value="MNIST" data-label="MNIST">MNIST (2)</option>' in html
    assert '<option value="CIFAR-10" data-label="CIFAR-10">CIFAR-10 (1)</option>' in html
    assert '<option value="2019" data-label="2019">2019 (1)</option>' in html
    assert '<option value="missing" data-label="not yet verified">not yet verified (2)</option>' in html


# --- verification table ------------------------------------------------------------------------------------------------

def test_verification_table_mutation_columns():
    md = render.verification_page("en", data(mutation=MUTATION)).markdown
    assert "| Mutation score | Mutants | Error |" in md
    assert re.search(r"\[ada2019leak\].* \| 95% \| 40 \|", md)
    assert re.search(r"\[bo2021clip\].* \| — \| 0 \|", md)
    assert re.search(r"\[bo2021clip\].* \| — \| — \|", render.verification_page("en", data()).markdown)


# --- new pages ---------------------------------------------------------------------------------------------------------

def test_every_extra_page_in_every_language_renders_strict_markdown():
    d = data(mutation=MUTATION, bench={"machine": "m", "date": "d", "rows": []}, labs=["conversion"])
    for lang in LANGUAGES:
        pages = render.all_pages(lang, d)
        paths = [p.path for p in pages]
        for path in ("labs/conversion.md", "labs/surrogate.md", "blocks.md", "relations.md", "data-quality.md",
                     "translations.md", "performance.md"):
            assert paths.count(path) == 1, (lang, path)
        for p in pages:
            assert "{" not in p.markdown.split("---", 2)[1], p.path  # front matter: JSON title only
            for name in p.slots:
                assert f'data-snnkb-slot="{name}"' in p.markdown, (lang, p.path, name)


def test_lab_page_with_and_without_an_executed_notebook():
    d = data(notebook_html={"labs/conversion": "<p>lab out</p>"}, labs=["conversion", "surrogate"],
             verification={"labs/conversion": {"status": "verified", "date": "2026-11-25T12:00:00+00:00",
                                               "seconds": 3.5}})
    conv = render_extra.lab_page("conversion", "zh", d)
    assert conv.markdown.startswith('---\ntitle: "转换实验"')
    assert "[conversion.ipynb](../downloads/labs/conversion.ipynb) · [conversion.py](../downloads/labs/conversion.py)" \
        in conv.markdown
    assert conv.slots["notebook"] == '<div class="snnkb-notebook"><p>lab out</p></div>'
    assert "snnkb-badge--verified" in conv.slots["badge"]
    surr = render_extra.lab_page("surrogate", "en", d)
    assert ".ipynb" not in surr.markdown and render.t("en", "lab_not_executed") in surr.markdown
    assert "snnkb-badge--missing" in surr.slots["badge"]


def test_block_gallery_equation_code_and_links():
    d = data(sources={"ada2019leak": render.Source("snnref/neuron.py", 3, 4, "def lif_step(x):\n    return x < 1\n")})
    p = render_extra.blocks_page("en", d)
    assert "\n## Architectures\n" in p.markdown
    assert "### [Leaky &#42;Learnable&#42;](papers/ada2019leak.md)" in p.markdown
    assert "bo2021clip" not in p.markdown  # not a block category
    block = p.slots["block-ada2019leak"]
    assert '<div class="arithmatex">\\[H_t = V_{t-1}\\]</div>' in block
    assert '<a href="https://example.org/a.pdf" rel="noopener noreferrer">Paper</a>' in block
    assert '<a href="../papers/ada2019leak/">' in block
    assert 'class="highlight"' in block and "&lt;" in block and "x < 1" not in block  # code escaped by Pygments
    assert "snnkb-shapes" not in block  # no recorded call: no shape table
    io = {"inputs": [["x", "[4, 2] float64"], ["tau", "<b>"]], "output": "[4, 2] float64"}
    shaped = data(verification={"ada2019leak": {"status": "verified", "io": io}})
    table = render_extra.blocks_page("zh", shaped).slots["block-ada2019leak"]
    assert "<caption>" in table and "<td><code>x</code></td><td><code>[4, 2] float64</code></td>" in table
    assert "<td><code>返回值</code></td><td><code>[4, 2] float64</code></td>" in table and "&lt;b&gt;" in table
    failed = data(verification={"ada2019leak": {"status": "failed", "io": io}})
    assert "snnkb-shapes" not in render_extra.blocks_page("en", failed).slots["block-ada2019leak"]
    empty = render_extra.blocks_page("ja", render.SiteData(papers=[OTHER]))
    assert render.t("ja", "blocks_none") in empty.markdown and not empty.slots


def test_relations_svg_is_well_formed_escaped_and_linked():
    hostile = {**OTHER, "title": "<script>alert(1)</script> & \"q\""}
    d = render.SiteData(papers=[PAPER, hostile])
    svg = render_extra.relations_svg(d, "relations.md")
    root = ET.fromstring(svg)  # well-formed XML: every text escaped
    ns = "{http://www.w3.org/2000/svg}"
    links = [a.get("href") for a in root.iter(f"{ns}a")]
    assert links == ["../papers/ada2019leak/", "../papers/bo2021clip/"]
    assert [t.text for t in root.iter(f"{ns}title")][1] == "<script>alert(1)</script> & \"q\" (2021)"
    assert "<script>" not in svg
    edges = list(root.iter(f"{ns}path"))
    assert len(edges) == 2  # the arrow head's path in <defs>, and one edge bo2021clip -> ada2019leak
    assert [t.text for t in root.iter(f"{ns}text")][:2] == ["2019", "2021"]  # one column per year, oldest first
    assert "(1 link(s))" in render_extra.relations_page("en", d).markdown


def test_data_quality_groups_conflicts_per_source_file():
    md = render_extra.data_quality_page("en", data()).markdown
    assert "**3** in **2** source list file(s)" in md
    assert "| 000&#95;f56128e74e96e28f&#46;txt | 1 |\n| 001&#95;b68ddc83dbeadf8a&#46;txt | 2 |" in md
    first, second = md.index("## 000&#95;"), md.index("## 001&#95;")
    assert first < second
    assert md.count("| [bo2021clip](papers/bo2021clip.md) |") == 3
    assert "| [bo2021clip](papers/bo2021clip.md) | title | Clip | Clip &#60;b&#62; |" in md[second:]


def test_translations_page_coverage_and_lists():
    stale = {**PAPER, "notes": {**PAPER["notes"], "en": "changed"}}
    d = render.SiteData(papers=[OTHER, stale])
    md = render_extra.translations_page("en", d).markdown
    assert "| 中文 | 0 | 1 | 1 | 0% |" in md and "| 日本語 | 0 | 1 | 1 | 0% |" in md
    assert "- [Leaky &#42;Learnable&#42;](papers/ada2019leak.md) — out of date" in md
    assert "- [Clip &#60;b&#62;](papers/bo2021clip.md) — not yet translated" in md
    current = render_extra.translations_page("en", render.SiteData(papers=[PAPER])).markdown
    assert "| 中文 | 1 | 0 | 0 | 100% |" in current and render.t("en", "translations_all_current") in current


BENCH = {"machine": "x86_64, 2 cores", "date": "2026-11-25", "rows": [
    {"figure": "LIF fwd+bwd T=32: snnref-fast", "unit": "ms", "median_ms": 18.5, "min_ms": 17.9, "max_ms": 20.1},
    {"figure": "verify, nothing changed (no-op)", "unit": "s", "median": 0.2, "min": 0.1, "max": 0.3,
     "target": "< 0.5 s", "met": True},
    {"figure": "site build, strict, three languages", "unit": "s", "median": 20.0, "target": "< 15 s", "met": False,
     "why": {"key": "why_site", "args": {"papers": 126, "cores": 2}}},
    {"figure": "validate, 1000 papers", "unit": "s", "median": 2.41, "target": "-"}]}


def test_performance_page_table_chart_and_scaling_note():
    p = render_extra.performance_page("en", data(bench=BENCH))
    md = p.markdown
    assert "x86&#95;64&#44; 2 cores" in md and "**1** target(s) met, **1** not met." in md
    assert "| LIF fwd&#43;bwd T&#61;32&#58; snnref&#45;fast | 18.5 ms | 17.9 – 20.1 | &#45; | — |" in md
    assert "| site build&#44; strict&#44; three languages | 20 s | — | &#60; 15 s | not met |" in md
    assert "\n## Scaling note\n" in md
    assert md.count("| validate&#44; 1000 papers | 2.41 s |") == 2  # main table, and the scaling table
    svg = ET.fromstring(p.slots["bars-s"].removeprefix('<div class="snnkb-graph-box">').removesuffix("</div>"))
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect")]
    assert [b.get("class") for b in bars] == ["snnkb-bar snnkb-bar--met", "snnkb-bar snnkb-bar--not-met",
                                             "snnkb-bar snnkb-bar--none"]
    assert float(bars[1].get("width")) == 300.0  # the largest value spans the chart; the others in proportion
    assert float(bars[2].get("width")) == pytest.approx(300 * 2.41 / 20, abs=0.05)
    # Each missed target comes with the reason `make bench` computed, in the page's language.
    assert "\n## Targets not met, and why\n" in md and "of 126 papers share 2 cores" in md
    assert "共享 2 个核" in render_extra.performance_page("zh", data(bench=BENCH)).markdown
    hostile = {**BENCH, "rows": [{**BENCH["rows"][2], "why": {"key": "why_site", "args": {"papers": "<b>", "cores": 2}}},
                                 {**BENCH["rows"][2], "why": {"key": "perf_title"}}]}
    text = render_extra.performance_page("en", data(bench=hostile)).markdown
    assert "<b>" not in text and text.count("share 2 cores") == 1  # escaped; only why_* keys are rendered
    absent = render_extra.performance_page("zh", data())
    assert "`make bench`" in absent.markdown and not absent.slots and "\n## 规模说明\n" in absent.markdown


def test_exports_links_from_each_home():
    assert 'href="exports/catalog.bib"' in render_extra.exports_html("en")
    for lang in ("zh", "ja"):
        html = render_extra.exports_html(lang)
        assert all(f'href="../exports/{name}"' in html for name in render_extra.EXPORTS)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ui_markdown_strings_render(lang):
    # The Markdown-bearing UI strings render with the site's own extensions, without leftover syntax.
    for key in ("see_lab", "quality_intro", "perf_scaling_note", "relations_intro"):
        text = render.t(lang, key, **{k: "x" for k in ("link", "lab", "conflicts", "sources", "edges")})
        out = markdown.markdown(text, extensions=["tables"])
        assert "**" not in out and "](" not in out, (lang, key)
