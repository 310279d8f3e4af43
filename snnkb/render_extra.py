"""More generated pages: labs, block gallery, relations graph, data quality, translations, performance.

Pure functions of ``render.SiteData``, like snnkb.render (which holds the paper, browse and verification pages and
the sanitizing helpers used here). Contributed text goes through ``md_text`` / ``inline_html`` / ``markdown_html``;
the two SVG images (relations graph, benchmark bars) are drawn here with every text escaped, and need no script.
"""

from __future__ import annotations

import html
from typing import Any, Mapping

from snnkb import translations
from snnkb.render import (SiteData, Page, _facet_values, _front_matter, _rel, _rel_md, badge_html,
                          equation_html, https_url, inline_html, md_text, slot, status_of, t)
from snnkb.vocabulary import label

LABS = ("conversion", "surrogate")
#: Categories whose papers are building blocks of networks (issue 6's block gallery), in gallery order.
BLOCK_CATEGORIES = ("architecture", "transformer", "graph", "point-cloud", "generative", "pruning",
                    "architecture-search")
EXPORTS = ("catalog.bib", "catalog.csl.json", "catalog.json", "catalog.csv", "feed.xml")


def extra_pages(lang: str, data: SiteData) -> list[Page]:
    """The pages of this module, in a fixed order."""
    pages = [lab_page(name, lang, data) for name in LABS]
    pages += [blocks_page(lang, data), relations_page(lang, data), data_quality_page(lang, data),
              translations_page(lang, data), performance_page(lang, data)]
    return pages


def _title(lang: str, key: str, *, search: bool = True, wide: bool = False) -> str:
    title = md_text(t(lang, key))
    return f"{_front_matter(title, search=search, wide=wide)}# {title}\n\n"


# --------------------------------------------------------------------------------------------------------------------
# Labs


def lab_page(name: str, lang: str, data: SiteData) -> Page:
    """An executed lab notebook (``labs/<name>`` in verification.json), like a paper's notebook page."""
    key = f"labs/{name}"
    md = [_title(lang, f"lab_{name}_title", search=True), t(lang, f"lab_{name}_intro") + "\n\n"]
    downloads = []
    nb = data.notebook_html.get(key)
    if nb is not None:
        downloads.append(f"[{name}.ipynb](../downloads/labs/{name}.ipynb)")
    if name in data.labs:
        downloads.append(f"[{name}.py](../downloads/labs/{name}.py)")
    if downloads:
        md.append(f"{t(lang, 'downloads')} " + " · ".join(downloads) + "\n")
    slots = {"badge": f"<p>{badge_html(lang, status_of(data, key))}</p>"}
    md.append(slot("badge"))
    if nb is not None:
        slots["notebook"] = f'<div class="snnkb-notebook">{nb}</div>'
        md.append(slot("notebook"))
    else:
        md.append(f"\n{t(lang, 'lab_not_executed')}\n")
    return Page(f"labs/{name}.md", "".join(md), slots)


# --------------------------------------------------------------------------------------------------------------------
# Block gallery


def _highlight(code: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return highlight(code, PythonLexer(), HtmlFormatter(cssclass="highlight", wrapcode=True))


def shape_table(lang: str, paper: Mapping[str, Any], data: SiteData) -> str:
    """What the block takes and returns, as its verified notebook first called it (recorded by the warm runner)."""
    record = data.verification.get(paper["id"]) if isinstance(data.verification, Mapping) else None
    io = record.get("io") if isinstance(record, Mapping) and record.get("status") == "verified" else None
    if not isinstance(io, Mapping) or not isinstance(io.get("inputs"), list):
        return ""
    name = str(paper.get("impl", "")).rpartition(":")[2]
    rows = [(str(k), str(v)) for k, v in (i for i in io["inputs"] if isinstance(i, list) and len(i) == 2)]
    rows.append((t(lang, "shape_returns"), str(io.get("output", ""))))
    body = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(v)}</code></td></tr>"
                   for k, v in rows)
    caption = html.escape(t(lang, "shape_caption", name=name))
    return (f'<table class="snnkb-shapes"><caption>{caption}</caption><thead><tr><th>{html.escape(t(lang, "shape_arg"))}'
            f'</th><th>{html.escape(t(lang, "shape_value"))}</th></tr></thead><tbody>{body}</tbody></table>')


def blocks_page(lang: str, data: SiteData) -> Page:
    """Every building-block paper: its equation, its snnref code and its paper, side by side."""
    path = "blocks.md"
    md = [_title(lang, "blocks_title", wide=True), t(lang, "blocks_intro") + "\n"]
    slots: dict[str, str] = {}
    seen: set[str] = set()
    for cat in BLOCK_CATEGORIES:
        papers = [p for p in data.papers if cat in _facet_values(p, "categories") and p["id"] not in seen]
        if not papers:
            continue
        md.append(f"\n## {md_text(label('categories', cat, lang))}\n")
        for p in papers:
            seen.add(p["id"])
            pid = p["id"]
            md.append(f"\n### [{md_text(p['title'])}]({_rel_md(path, 'papers/' + pid + '.md')})\n")
            src = data.sources.get(pid)
            code = (f'<p class="snnkb-block-src"><code>{html.escape(src.path)}</code> '
                    f'({src.start}–{src.end})</p>{_highlight(src.code)}' if src is not None else "")
            url = https_url((p.get("links") or {}).get("paper"))
            link = (f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">'
                    f'{html.escape(t(lang, "link_paper"))}</a> · ' if url else "")
            page_link = f'<a href="{_rel(path, "papers/" + pid + ".md")}">{html.escape(pid)}</a>'
            slots[f"block-{pid}"] = (
                f'<div class="snnkb-block"><div class="snnkb-block-eq">{equation_html(p.get("equation", ""))}'
                f'<p>{inline_html(p.get("venue", ""))} {int(p["year"])} · {link}{page_link}</p>'
                f'{shape_table(lang, p, data)}</div>'
                f'<div class="snnkb-block-code">{code}</div></div>')
            md.append(slot(f"block-{pid}"))
    if not seen:
        md.append(f"\n{t(lang, 'blocks_none')}\n")
    return Page(path, "".join(md), slots)


# --------------------------------------------------------------------------------------------------------------------
# Relations graph


def relations_svg(data: SiteData, page: str) -> str:
    """The builds_on graph as a static SVG: one column per year, an arrow per edge; in each column the papers with
    relations come first (by id), so that edges stay short and rarely pass under other papers."""
    col_w, row_h, box_w, box_h, top, left = 210, 26, 170, 20, 30, 10
    years = sorted({int(p["year"]) for p in data.papers})
    column = {y: i for i, y in enumerate(years)}
    pos: dict[str, tuple[int, int]] = {}
    rows: dict[int, int] = {}

    def linked(p: Mapping[str, Any]) -> bool:
        return any(data.paper(d) for d in p.get("builds_on") or []) or bool(data.built_on_by(p["id"]))

    for p in sorted(data.papers, key=lambda p: (int(p["year"]), not linked(p), p["id"])):
        y = int(p["year"])
        pos[p["id"]] = (left + column[y] * col_w, top + rows.get(y, 0) * row_h)
        rows[y] = rows.get(y, 0) + 1
    width = left * 2 + max(1, len(years)) * col_w
    height = top + max(rows.values(), default=0) * row_h + 10
    out = [f'<svg class="snnkb-graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">',
           '<defs><marker id="snnkb-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="snnkb-graph-arrow"/></marker></defs>']
    for y in years:
        out.append(f'<text class="snnkb-graph-year" x="{left + column[y] * col_w + box_w // 2}" y="{top - 12}" '
                   f'text-anchor="middle">{y}</text>')
    for p in data.papers:  # edges first, so nodes are drawn over them
        for dep in p.get("builds_on") or []:
            if dep not in pos or dep == p["id"]:
                continue
            (x1, y1), (x2, y2) = pos[p["id"]], pos[dep]
            y1, y2 = y1 + box_h // 2, y2 + box_h // 2
            if x2 < x1:  # the usual case: from the left side of the newer paper to the right side of the older
                sx, ex, bend = x1, x2 + box_w, -30
            else:  # same year (or a later one): loop round the right side
                sx, ex, bend = x1 + box_w, x2 + box_w, 30
            # the arrow always enters the older paper from its right side
            out.append(f'<path class="snnkb-graph-edge" d="M {sx} {y1} C {sx + bend} {y1}, {ex + 30} {y2}, {ex} {y2}" '
                       f'marker-end="url(#snnkb-arrow)"/>')
    for p in data.papers:
        x, y = pos[p["id"]]
        pid = p["id"]
        text = pid if len(pid) <= 24 else pid[:23] + "…"
        out.append(f'<a href="{_rel(page, "papers/" + pid + ".md")}">'
                   f'<title>{html.escape(" ".join(str(p["title"]).split()))} ({int(p["year"])})</title>'
                   f'<rect class="snnkb-graph-node{" snnkb-graph-node--linked" if linked(p) else ""}" x="{x}" y="{y}" '
                   f'width="{box_w}" height="{box_h}" rx="4"/>'
                   f'<text x="{x + 6}" y="{y + 14}">{html.escape(text)}</text></a>')
    out.append("</svg>")
    return "".join(out)


def relations_page(lang: str, data: SiteData) -> Page:
    path = "relations.md"
    edges = sum(len([d for d in p.get("builds_on") or [] if data.paper(d)]) for p in data.papers)
    md = (_title(lang, "relations_title", wide=True) + t(lang, "relations_intro", edges=edges) + "\n"
          + slot("graph"))
    return Page(path, md, {"graph": f'<div class="snnkb-graph-box">{relations_svg(data, path)}</div>'})


# --------------------------------------------------------------------------------------------------------------------
# Data quality and translations


def data_quality_page(lang: str, data: SiteData) -> Page:
    """Every source_conflict of the catalog, grouped per source list file."""
    path = "data-quality.md"
    by_source: dict[str, list[tuple[dict[str, Any], Mapping[str, Any]]]] = {}
    for p in data.papers:
        for c in p.get("source_conflicts") or []:
            if isinstance(c, Mapping):
                by_source.setdefault(str(c.get("source", "")), []).append((p, c))
    total = sum(len(v) for v in by_source.values())
    md = [_title(lang, "quality_title"),
          t(lang, "quality_intro", conflicts=total, sources=len(by_source)) + "\n"]
    if by_source:
        md.append(f"\n| {t(lang, 'col_source')} | {t(lang, 'col_conflicts')} |\n|---|---:|\n")
        md += [f"| {md_text(src)} | {len(items)} |\n" for src, items in sorted(by_source.items())]
    for src, items in sorted(by_source.items()):
        md.append(f"\n## {md_text(src)}\n\n{t(lang, 'quality_count', count=len(items))}\n\n"
                  f"| {t(lang, 'col_paper')} | {t(lang, 'col_field')} | {t(lang, 'col_says')} | "
                  f"{t(lang, 'col_fact')} |\n|---|---|---|---|\n")
        for p, c in items:
            md.append(f"| [{p['id']}]({_rel_md(path, 'papers/' + p['id'] + '.md')}) | {md_text(c.get('field', ''))} "
                      f"| {md_text(c.get('says', ''))} | {md_text(c.get('fact', ''))} |\n")
    return Page(path, "".join(md))


def translations_page(lang: str, data: SiteData) -> Page:
    """Coverage per language (translations.coverage) and the notes that are stale or missing."""
    path = "translations.md"
    cov = translations.coverage(data.papers)
    n = len(data.papers)
    md = [_title(lang, "translations_title"), t(lang, "translations_intro") + "\n\n",
          f"| {t(lang, 'col_language')} | {t(lang, 'tr_current')} | {t(lang, 'tr_stale')} | {t(lang, 'tr_missing')} "
          f"| {t(lang, 'col_coverage')} |\n|---|---:|---:|---:|---:|\n"]
    for tl in translations.TRANSLATED:
        c = cov[tl]
        pct = f"{100 * c['current'] / n:.0f}%" if n else "—"
        md.append(f"| {md_text(t(tl, 'language_name'))} | {c['current']} | {c['stale']} | {c['missing']} | {pct} |\n")
    for tl in translations.TRANSLATED:
        todo = [(p, translations.status(p, tl)) for p in data.papers]
        todo = [(p, st) for p, st in todo if st != "current"]
        md.append(f"\n## {md_text(t(tl, 'language_name'))}\n\n")
        if not todo:
            md.append(t(lang, "translations_all_current") + "\n")
            continue
        md += [f"- [{md_text(p['title'])}]({_rel_md(path, 'papers/' + p['id'] + '.md')}) — {t(lang, 'tr_' + st)}\n"
               for p, st in todo]
    return Page(path, "".join(md))


# --------------------------------------------------------------------------------------------------------------------
# Performance (build/bench.json)


def _value(row: Mapping[str, Any]) -> float | None:
    v = row.get("median", row.get("median_ms"))
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _num(v: Any) -> str:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return "—"
    return f"{v:g}"


def _met(lang: str, row: Mapping[str, Any]) -> str:
    met = row.get("met")
    return t(lang, "bench_met") if met is True else t(lang, "bench_not_met") if met is False else "—"


def bench_table(lang: str, rows: list[Mapping[str, Any]]) -> str:
    out = [f"| {t(lang, 'col_figure')} | {t(lang, 'col_median')} | {t(lang, 'col_range')} | {t(lang, 'col_target')} "
           f"| {t(lang, 'col_met')} |\n|---|---:|---:|---|---|\n"]
    for r in rows:
        lo, hi = r.get("min", r.get("min_ms")), r.get("max", r.get("max_ms"))
        rng = f"{_num(lo)} – {_num(hi)}" if lo is not None or hi is not None else "—"
        out.append(f"| {md_text(r.get('figure', ''))} | {_num(_value(r))} {md_text(r.get('unit', ''))} | {rng} | "
                   f"{md_text(r.get('target', '-'))} | {_met(lang, r)} |\n")
    return "".join(out)


def bench_svg(rows: list[Mapping[str, Any]], unit: str) -> str:
    """Horizontal bars of the rows measured in ``unit`` (scaled to the largest), coloured by target met or not."""
    rows = [r for r in rows if r.get("unit") == unit and _value(r) is not None]
    if not rows:
        return ""
    label_w, bar_w, row_h = 380, 300, 22
    top = max(_value(r) or 0 for r in rows) or 1.0
    height = row_h * len(rows) + 10
    out = [f'<svg class="snnkb-bars" xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" '
           f'height="{height}" viewBox="0 0 {label_w + bar_w + 90} {height}" role="img">']
    for i, r in enumerate(rows):
        v = _value(r) or 0.0
        y = 5 + i * row_h
        kind = "met" if r.get("met") is True else "not-met" if r.get("met") is False else "none"
        figure = " ".join(str(r.get("figure", "")).split())
        short = figure if len(figure) <= 60 else figure[:59] + "…"
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{html.escape(short)}</text>'
                   f'<rect class="snnkb-bar snnkb-bar--{kind}" x="{label_w}" y="{y + 2}" '
                   f'width="{max(1.0, bar_w * v / top):.1f}" height="{row_h - 6}"><title>{html.escape(figure)}</title>'
                   f'</rect><text x="{label_w + bar_w * v / top + 4:.1f}" y="{y + 14}">{html.escape(_num(v))} '
                   f'{html.escape(unit)}</text>')
    out.append("</svg>")
    return "".join(out)


def why_list(lang: str, rows: list[Mapping[str, Any]]) -> str:
    """The missed targets, each with the reason `make bench` computed for it (an i18n key and its figures)."""
    items = []
    for r in rows:
        why = r.get("why")
        if r.get("met") is not False or not isinstance(why, Mapping) or not str(why.get("key", "")).startswith("why_"):
            continue
        args = {str(k): md_text(_num(v) if isinstance(v, (int, float)) else v)
                for k, v in (why.get("args") or {}).items()}
        try:
            reason = t(lang, str(why["key"]), **args)
        except (KeyError, IndexError):  # a bench.json from another version: show the figure without a reason
            continue
        items.append(f"- **{md_text(r.get('figure', ''))}**: {reason}\n")
    if not items:
        return ""
    return f"\n## {t(lang, 'perf_why_title')}\n\n{t(lang, 'perf_why_intro')}\n\n" + "".join(items)


def performance_page(lang: str, data: SiteData) -> Page:
    md = [_title(lang, "perf_title", wide=True)]
    slots: dict[str, str] = {}
    bench = data.bench if isinstance(data.bench, Mapping) else None
    rows = [r for r in (bench or {}).get("rows") or [] if isinstance(r, Mapping)]
    if bench is None:
        md.append(t(lang, "perf_absent") + "\n")
    else:
        md.append(t(lang, "perf_intro", machine=md_text(bench.get("machine", "?")),
                    date=md_text(bench.get("date", "?"))) + "\n\n")
        met = sum(r.get("met") is True for r in rows)
        missed = sum(r.get("met") is False for r in rows)
        md.append(t(lang, "perf_summary", met=met, missed=missed) + "\n\n")
        md.append(bench_table(lang, rows))
        for unit in ("ms", "s"):
            svg = bench_svg(rows, unit)
            if svg:
                slots[f"bars-{unit}"] = f'<div class="snnkb-graph-box">{svg}</div>'
                md.append(f"\n### {t(lang, 'perf_chart', unit=unit)}\n" + slot(f"bars-{unit}"))
        md.append(why_list(lang, rows))
    md.append(f"\n## {t(lang, 'perf_scaling_title')}\n\n{t(lang, 'perf_scaling_note')}\n")
    scale = [r for r in rows if " papers" in str(r.get("figure", ""))]
    if scale:
        md.append("\n" + bench_table(lang, scale))
    return Page("performance.md", "".join(md), slots)


# --------------------------------------------------------------------------------------------------------------------
# Home page: exports


def exports_html(lang: str) -> str:
    """Links from a language's home page to the exports that `snnkb site` writes once into <site>/exports/."""
    up = "" if lang == "en" else "../"
    links = " · ".join(f'<a href="{up}exports/{name}">{name}</a>' for name in EXPORTS)
    return f'<p class="snnkb-exports">{html.escape(t(lang, "exports"))} {links}</p>'
