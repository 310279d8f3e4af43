"""Catalog -> Markdown pages of the site: pure, deterministic functions (sorted, no timestamps), testable without MkDocs.

Trusted structure (headings, vocabulary labels, ids, numbers, UI strings, links between our own pages) is written as
Markdown, so that MkDocs builds the table of contents and checks every link in strict mode. Contributed text (titles,
authors, venue, notes, reading notes, error messages) never passes through Python-Markdown, which keeps raw HTML and
``{: attr}`` lists: it is either entity-encoded (``md_text``) or rendered here with markdown-it-py (raw HTML off, no
attribute lists), cleaned with nh3, and placed in a *slot*: the Markdown holds ``<div data-snnkb-slot="NAME"></div>``
and the MkDocs hook swaps the slot for its HTML after Markdown conversion (``fill_slots``).
"""

from __future__ import annotations

import ast
import datetime
import html
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import nh3
import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from snnkb import LANGUAGES, PACKAGE_DIR, translations
from snnkb.export import bibtex_entry
from snnkb.vocabulary import label

LINK_KINDS = ("paper", "arxiv", "doi", "openreview", "code")
FACETS = ("categories", "paradigm", "neuron_models", "datasets")
FACET_SECTION = {"categories": "categories", "paradigm": "paradigms", "neuron_models": "neuron_models",
                 "datasets": "datasets"}
STATUSES = ("verified", "failed", "missing")
#: The lab page a paper of this category links to (labs compare several papers' methods on one network).
LAB_FOR_CATEGORY = {"ann-snn-conversion": "conversion", "surrogate-gradient": "surrogate"}
_HTTPS = re.compile(r"^https://[^\s<>\"'`]+$")
_IMPL = re.compile(r"^snnref(\.[a-z_][a-z0-9_]*)+(:[A-Za-z_][A-Za-z0-9_]*)?$")


# --------------------------------------------------------------------------------------------------------------------
# UI strings


@lru_cache(maxsize=None)
def strings(lang: str) -> dict[str, str]:
    """UI strings of ``lang`` (snnkb/i18n/<lang>.yaml)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    with open(PACKAGE_DIR / "i18n" / f"{lang}.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def t(lang: str, key: str, **kw: Any) -> str:
    text = strings(lang)[key]
    return text.format(**kw) if kw else text


# --------------------------------------------------------------------------------------------------------------------
# Contributed text -> safe HTML / Markdown


def md_text(text: Any) -> str:
    """Plain text made inert inside Markdown: HTML-escaped, ASCII punctuation as numeric entities, one line.

    No Markdown, HTML, attribute-list or math syntax survives (``*``, ``{``, ``$``, ``|``, ``<`` ... become entities),
    so the result is safe in headings, table cells and link texts, and shows the original characters.
    """
    out = []
    for ch in " ".join(str(text).split()):
        if ch.isascii() and not ch.isalnum() and ch != " ":
            out.append(f"&#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def _math_renderer(content: str, options: Mapping[str, Any] | None = None) -> str:
    display = bool(options and options.get("display_mode"))
    body = html.escape(content, quote=False)
    if display:
        return f'<div class="arithmatex">\\[{body}\\]</div>\n'
    return f'<span class="arithmatex">\\({body}\\)</span>'


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")  # nothing may be fetched from another host
    dollarmath_plugin(md, allow_labels=False, allow_space=True, allow_digits=False, double_inline=True)

    def rule(display: bool):
        def render(self, tokens, idx, options, env):  # noqa: ARG001 - markdown-it's rule signature
            return _math_renderer(tokens[idx].content, {"display_mode": display})
        return render

    md.add_render_rule("math_inline", rule(False))
    md.add_render_rule("math_inline_double", rule(True))
    md.add_render_rule("math_block", rule(True))
    return md


_BLOCK_TAGS = {"p", "br", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "h2", "h3", "h4", "h5", "h6",
               "table", "thead", "tbody", "tr", "th", "td", "hr", "span", "div", "s", "del", "sub", "sup"}
_INLINE_TAGS = {"em", "strong", "code", "span", "s", "del", "sub", "sup"}


def _clean(fragment: str, tags: set[str]) -> str:
    # No <a>: the only URLs on the site come from the catalog's https-only link fields.
    return nh3.clean(fragment, tags=tags, attributes={"ol": {"start"}}, allowed_classes={
        "span": {"arithmatex"}, "div": {"arithmatex"}}, url_schemes=set(), link_rel=None, strip_comments=True)


def markdown_html(text: str, *, heading_offset: int = 0) -> str:
    """Contributed Markdown -> sanitized HTML (markdown-it-py, raw HTML off, no attribute lists; then nh3).

    ``$...$`` and ``$$...$$`` become arithmatex-style spans/divs that the site's KaTeX auto-render typesets.
    Headings move down by ``heading_offset`` levels (h1 never appears: the page has its own).
    """
    md = _markdown()
    tokens = md.parse(str(text))
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            level = min(6, max(2, int(tok.tag[1]) + heading_offset))
            tok.tag = f"h{level}"
    return _clean(md.renderer.render(tokens, md.options, {}), _BLOCK_TAGS).strip()


def inline_html(text: str) -> str:
    """Contributed one-line text (a title, a name) -> sanitized inline HTML."""
    rendered = _markdown().renderInline(" ".join(str(text).split()))
    return _clean(rendered, _INLINE_TAGS).strip()


def math_snippets(text: str) -> list[tuple[str, bool]]:
    """The ``(latex, display)`` math pieces that ``markdown_html`` would typeset, for the build-time KaTeX check."""
    out = []
    for tok in _markdown().parse(str(text)):
        children = tok.children or []
        for t_ in [tok, *children]:
            if t_.type in ("math_inline", "math_inline_double", "math_block"):
                out.append((t_.content, t_.type != "math_inline"))
    return out


def https_url(url: Any) -> str | None:
    """The URL if it is a plain https:// URL (as the schema requires), else None: never emit anything else."""
    return url if isinstance(url, str) and _HTTPS.match(url) else None


# --------------------------------------------------------------------------------------------------------------------
# Slots


def slot(name: str) -> str:
    """Placeholder for sanitized HTML, on its own Markdown block."""
    return f'\n<div data-snnkb-slot="{name}"></div>\n'


_SLOT = re.compile(r'<div data-snnkb-slot="([a-z0-9-]+)"></div>')


def fill_slots(page_html: str, slots: Mapping[str, str]) -> str:
    """Replace each placeholder by its HTML; every slot must be used exactly once."""
    seen: list[str] = []

    def sub(m: re.Match[str]) -> str:
        seen.append(m.group(1))
        if m.group(1) not in slots:
            raise KeyError(f"no content for slot {m.group(1)!r}")
        return slots[m.group(1)]

    out = _SLOT.sub(sub, page_html)
    missing = sorted(set(slots) - set(seen))
    if missing or len(seen) != len(set(seen)):
        raise KeyError(f"slots not placed exactly once: {missing or seen}")
    return out


# --------------------------------------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True)
class Page:
    """A generated page: ``path`` relative to the docs folder, its Markdown, and the HTML of its slots."""

    path: str
    markdown: str
    slots: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """The exact source of a paper's ``impl`` object, as extracted by ``extract_source``."""

    path: str
    start: int
    end: int
    code: str


@dataclass
class SiteData:
    """Everything the pages are made from (read by the hook; kept here as plain data)."""

    papers: list[dict[str, Any]]
    verification: dict[str, dict[str, Any]] = field(default_factory=dict)
    reading_notes: dict[str, str] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    notebook_html: dict[str, str] = field(default_factory=dict)  # also "labs/<name>" for the executed labs
    mutation: dict[str, dict[str, Any]] = field(default_factory=dict)  # build/mutation.json's "papers"
    bench: dict[str, Any] | None = None  # build/bench.json, when `make bench` has been run
    labs: list[str] = field(default_factory=list)  # labs whose notebooks/labs/<name>.py exists

    def __post_init__(self) -> None:
        self.papers = sorted(self.papers, key=lambda p: p["id"])

    def built_on_by(self, pid: str) -> list[dict[str, Any]]:
        """The papers whose ``builds_on`` names ``pid`` (sorted by id; computed once for the catalog)."""
        index = self.__dict__.get("_built_on_by")
        if index is None:
            index = {}
            for p in self.papers:
                for dep in p.get("builds_on") or []:
                    index.setdefault(dep, []).append(p)
            self.__dict__["_built_on_by"] = index
        return index.get(pid, [])

    def paper(self, pid: str) -> dict[str, Any] | None:
        index = self.__dict__.get("_by_id")
        if index is None:
            index = self.__dict__["_by_id"] = {p["id"]: p for p in self.papers}
        return index.get(pid)


def _front_matter(title: str, *, search: bool = True, wide: bool = False) -> str:
    # JSON is YAML; the title is already entity-encoded, so the theme's raw {{ page.meta.title }} is inert.
    extra = ("" if search else "search:\n  exclude: true\n") + ("hide:\n  - toc\n" if wide else "")
    return f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\n{extra}---\n\n"


def _rel(from_page: str, to_page: str) -> str:
    """Relative URL between two generated .md paths under use_directory_urls (``papers/x.md`` -> ``papers/x/``)."""
    def url(p: str) -> list[str]:
        stem = p[:-3]
        if stem == "index" or stem.endswith("/index"):
            stem = stem[: -len("index")].rstrip("/")
        return [s for s in stem.split("/") if s]
    src, dst = url(from_page), url(to_page)
    return "../" * len(src) + "".join(f"{s}/" for s in dst) or "./"


def status_of(data: SiteData, pid: str) -> dict[str, Any]:
    entry = data.verification.get(pid) or {}
    status = entry.get("status")
    return {**entry, "status": status if status in STATUSES else "missing"}


def _fmt_date(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    try:
        d = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value[:32]
    if d.tzinfo is not None:
        d = d.astimezone(datetime.timezone.utc)
        return d.strftime("%Y-%m-%d %H:%M UTC")
    return d.strftime("%Y-%m-%d %H:%M")


def _fmt_seconds(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "?"


def badge_html(lang: str, st: Mapping[str, Any], *, detail: bool = True) -> str:
    """The verification badge: verified / failed / not yet verified (+ date and run time when known)."""
    status = st.get("status", "missing")
    text = html.escape(t(lang, f"status_{status}"))
    out = f'<span class="snnkb-badge snnkb-badge--{status}" data-status="{status}">{text}</span>'
    if detail and status != "missing" and st.get("date"):
        info = t(lang, "status_detail", date=_fmt_date(st.get("date")), seconds=_fmt_seconds(st.get("seconds")))
        out += f' <span class="snnkb-badge-detail">{html.escape(info)}</span>'
    return out


def _facet_values(paper: Mapping[str, Any], facet: str) -> list[str]:
    value = paper.get(facet)
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


def _labels(paper: Mapping[str, Any], facet: str, lang: str) -> list[str]:
    return [label(FACET_SECTION[facet], v, lang) for v in _facet_values(paper, facet)]


def _authors_html(paper: Mapping[str, Any]) -> str:
    return ", ".join(inline_html(a) for a in paper.get("authors") or [])


def _fence(code: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in ``code``."""
    run = max((len(m) for m in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, run + 1)
    return f"{fence}{lang}\n{code.rstrip()}\n{fence}\n"


def _meta_html(paper: Mapping[str, Any], lang: str, page: str) -> str:
    rows = [(t(lang, "authors"), _authors_html(paper)),
            (t(lang, "published"), f"{inline_html(paper.get('venue', ''))}, {int(paper['year'])}")]
    cats = [f'<a href="{_rel(page, f"categories/{c}.md")}">{html.escape(label("categories", c, lang))}</a>'
            for c in _facet_values(paper, "categories")]
    rows.append((t(lang, "col_categories"), ", ".join(cats)))
    for facet in ("paradigm", "neuron_models", "datasets"):
        rows.append((t(lang, f"col_{facet}"), html.escape(", ".join(_labels(paper, facet, lang)))))
    links = []
    for kind in LINK_KINDS:
        url = https_url((paper.get("links") or {}).get(kind))
        if url:
            links.append(f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">'
                         f'{html.escape(t(lang, f"link_{kind}"))}</a>')
    rows.append((t(lang, "links"), " · ".join(links)))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="snnkb-meta"><tbody>{body}</tbody></table>'


def notes_html(paper: Mapping[str, Any], lang: str) -> str:
    """The notes in ``lang``, or the English ones under a visible "not yet translated" notice."""
    notes = paper.get("notes") or {}
    text = notes.get(lang)
    if isinstance(text, str) and text.strip():
        stale = ""
        if lang != "en" and translations.status(dict(paper), lang) == "stale":
            stale = (f'<div class="admonition warning snnkb-stale"><p class="admonition-title">'
                     f'{html.escape(t(lang, "stale_translation"))}</p></div>')
        return f'{stale}<div class="snnkb-notes" lang="{lang}">{markdown_html(text)}</div>'
    notice = (f'<div class="admonition warning snnkb-untranslated"><p class="admonition-title">'
              f'{html.escape(t(lang, "untranslated"))}</p></div>')
    return f'{notice}<div class="snnkb-notes" lang="en">{markdown_html(notes.get("en", ""))}</div>'


def equation_html(latex: str) -> str:
    return f'<div class="arithmatex">\\[{html.escape(str(latex), quote=False)}\\]</div>'


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mutation_text(lang: str, record: Mapping[str, Any] | None) -> str | None:
    """"mutation score 95% (38/40 killed by assertion)" from a build/mutation.json record; None when unknown."""
    if not isinstance(record, Mapping):
        return None
    score, mutants, killed = record.get("score"), _int(record.get("mutants")), _int(record.get("killed_assert"))
    if not isinstance(score, (int, float)) or isinstance(score, bool) or mutants is None or killed is None:
        return t(lang, "mutation_unscored")
    return t(lang, "mutation_score", score=f"{100 * score:.0f}", killed=killed, mutants=mutants)


def _badge_slot(lang: str, data: SiteData, pid: str) -> str:
    out = badge_html(lang, status_of(data, pid))
    mut = mutation_text(lang, data.mutation.get(pid))
    if mut is not None:
        out += f' <span class="snnkb-mutation">{html.escape(mut)}</span>'
    return f"<p>{out}</p>"


def _conflicts_md(paper: Mapping[str, Any], lang: str) -> str:
    conflicts = [c for c in paper.get("source_conflicts") or [] if isinstance(c, Mapping)]
    if not conflicts:
        return ""
    rows = "".join(f"| {md_text(c.get('source', ''))} | {md_text(c.get('field', ''))} | {md_text(c.get('says', ''))} "
                   f"| {md_text(c.get('fact', ''))} |\n" for c in conflicts)
    return (f"\n## {t(lang, 'conflicts')}\n\n{t(lang, 'conflicts_intro')}\n\n"
            f"| {t(lang, 'col_source')} | {t(lang, 'col_field')} | {t(lang, 'col_says')} | {t(lang, 'col_fact')} |\n"
            f"|---|---|---|---|\n{rows}")


def _relations_md(paper: Mapping[str, Any], lang: str, data: SiteData, page: str) -> str:
    def item(pid: str) -> str:
        other = data.paper(pid)
        if other is None:  # the validator rejects unknown ids; never link to a page that does not exist
            return f"- {md_text(pid)}"
        return f"- [{md_text(other['title'])}]({_rel_md(page, 'papers/' + pid + '.md')}) ({int(other['year'])})"
    out = []
    deps = [d for d in paper.get("builds_on") or [] if isinstance(d, str)]
    if deps:
        out.append(f"\n### {t(lang, 'builds_on')}\n\n" + "\n".join(item(d) for d in sorted(deps)) + "\n")
    users = data.built_on_by(paper["id"])
    if users:
        out.append(f"\n### {t(lang, 'built_on_by')}\n\n" + "\n".join(item(u["id"]) for u in users) + "\n")
    if not out:
        return ""
    return f"\n## {t(lang, 'relations')}\n" + "".join(out)


def _equivalents_md(paper: Mapping[str, Any], lang: str) -> str:
    items = [e for e in paper.get("equivalent_mutants") or [] if isinstance(e, Mapping)]
    if not items:
        return ""
    lines = "".join(f"- {md_text(e.get('id', ''))}: {md_text(e.get('reason', ''))}\n" for e in items)
    return f"\n{t(lang, 'equivalent_mutants')}\n\n{lines}"


def paper_page(paper: Mapping[str, Any], lang: str, data: SiteData) -> Page:
    pid = paper["id"]
    path = f"papers/{pid}.md"
    title = md_text(paper["title"])
    slots = {"meta": _meta_html(paper, lang, path), "notes": notes_html(paper, lang),
             "equation": equation_html(paper.get("equation", "")), "badge": _badge_slot(lang, data, pid)}
    md = [_front_matter(title), f"# {title}\n", slot("meta"),
          f"\n## {t(lang, 'notes')}\n", slot("notes"),
          f"\n## {t(lang, 'equation')}\n", slot("equation"),
          f"\n## {t(lang, 'verification')}\n", slot("badge"),
          f"\n[{t(lang, 'open_notebook')}](../notebooks/{pid}.md)\n", _equivalents_md(paper, lang)]
    labs = sorted({LAB_FOR_CATEGORY[c] for c in _facet_values(paper, "categories") if c in LAB_FOR_CATEGORY})
    for lab in labs:
        md.append(f"\n{t(lang, 'see_lab', link=f'../labs/{lab}.md', lab=t(lang, f'lab_{lab}_title'))}\n")
    src = data.sources.get(pid)
    md.append(f"\n## {t(lang, 'implementation')}\n")
    if src is not None:
        impl = str(paper.get("impl", ""))
        impl = impl if _IMPL.match(impl) else "?"  # the schema's pattern: safe inside a code span
        md.append("\n" + t(lang, "impl_source", impl=impl, path=src.path,
                           start=src.start, end=src.end) + "\n\n")
        md.append(_fence(src.code, "python"))
    md.append(f"\n## {t(lang, 'reading_note')}\n")
    note = data.reading_notes.get(pid)
    slots["reading"] = (f'<div class="snnkb-reading" lang="en">{markdown_html(note, heading_offset=1)}</div>'
                        if note and note.strip() else f"<p>{html.escape(t(lang, 'no_reading_note'))}</p>")
    md.append(slot("reading"))
    md.append(_relations_md(paper, lang, data, path))
    md.append(_conflicts_md(paper, lang))
    md.append(f"\n## {t(lang, 'bibtex')}\n\n{t(lang, 'bibtex_same')}\n\n")
    # The exact entry of the site's catalog.bib export (snnkb.export), so copying either gives the same text.
    md.append(_fence(bibtex_entry(dict(paper)), "bibtex"))
    return Page(path, "".join(md), slots)


def notebook_page(paper: Mapping[str, Any], lang: str, data: SiteData) -> Page:
    pid = paper["id"]
    title = t(lang, "notebook_title", id=pid)
    # Not indexed: the paper page is where a search should land, and notebook outputs would swamp the index.
    md = [_front_matter(md_text(title), search=False), f"# {md_text(title)}\n\n",
          t(lang, "notebook_of", id=pid, paper_link=f"../papers/{pid}.md") + "\n\n"]
    downloads = [f"[{pid}.py](../downloads/{pid}.py)"]
    nb = data.notebook_html.get(pid)
    if nb is not None:
        downloads.insert(0, f"[{pid}.ipynb](../downloads/{pid}.ipynb)")
    md.append(f"{t(lang, 'downloads')} " + " · ".join(downloads) + "\n")
    slots = {"badge": f"<p>{badge_html(lang, status_of(data, pid))}</p>"}
    md.append(slot("badge"))
    if nb is not None:
        slots["notebook"] = f'<div class="snnkb-notebook">{nb}</div>'
        md.append(slot("notebook"))
    else:
        md.append(f"\n{t(lang, 'not_executed')}\n")
    return Page(f"notebooks/{pid}.md", "".join(md), slots)


def _row_attrs(paper: Mapping[str, Any], st: str) -> str:
    attrs = {"data-venue": str(paper.get("venue", "")), "data-year": str(paper.get("year", "")), "data-status": st}
    for facet in FACETS:
        attrs[f"data-{facet.replace('_', '-')}"] = " ".join(_facet_values(paper, facet))
    return " ".join(f'{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())


def _row_values(paper: Mapping[str, Any], key: str, status: str) -> list[str]:
    """The values a Browse row holds for filter ``key`` (the same as its data-* attribute, split)."""
    if key == "status":
        return [status]
    if key in ("venue", "year"):
        return [str(paper.get(key, ""))]
    return _facet_values(paper, key.replace("-", "_"))


def browse_page(lang: str, data: SiteData) -> Page:
    """Every paper in one table, with a filter box and one filter per facet (browse.js sorts and filters)."""
    papers = data.papers
    selects = []

    def select(key: str, name: str, options: Iterable[tuple[str, str]]) -> None:
        # Each option shows how many papers it keeps; browse.js updates the counts as other filters change.
        counts: dict[str, int] = {}
        for p in papers:
            for v in _row_values(p, key, status_of(data, p["id"])["status"]):
                counts[v] = counts.get(v, 0) + 1
        opts = "".join(f'<option value="{html.escape(v, quote=True)}" data-label="{html.escape(text, quote=True)}">'
                       f'{html.escape(text)} ({counts.get(v, 0)})</option>' for v, text in options)
        selects.append(f'<label>{html.escape(name)} <select data-filter="{key}">'
                       f'<option value="">{html.escape(t(lang, "filter_all"))}</option>{opts}</select></label>')

    venues = sorted({str(p.get("venue", "")) for p in papers}, key=str.casefold)
    select("venue", t(lang, "col_venue"), [(v, v) for v in venues])
    years = sorted({str(p.get("year", "")) for p in papers}, reverse=True)
    select("year", t(lang, "col_year"), [(y, y) for y in years])
    for facet in FACETS:
        used = sorted({v for p in papers for v in _facet_values(p, facet)},
                      key=lambda v: label(FACET_SECTION[facet], v, lang).casefold())
        select(facet.replace("_", "-"), t(lang, f"col_{facet}"),
               [(v, label(FACET_SECTION[facet], v, lang)) for v in used])
    select("status", t(lang, "col_status"), [(s, t(lang, f"status_{s}")) for s in STATUSES])

    cols = [("title", "text"), ("year", "number"), ("venue", "text"), ("categories", "text"),
            ("paradigm", "text"), ("neuron_models", "text"), ("status", "text")]
    head = "".join(f'<th data-sort="{kind}" tabindex="0" aria-sort="none">{html.escape(t(lang, f"col_{c}"))}</th>'
                   for c, kind in cols)
    rows = []
    for p in papers:
        st = status_of(data, p["id"])
        cats = ", ".join(html.escape(x) for x in _labels(p, "categories", lang))
        rows.append(
            f'<tr {_row_attrs(p, st["status"])}>'
            f'<td><a href="{_rel("browse.md", "papers/" + p["id"] + ".md")}">{inline_html(p["title"])}</a>'
            f'<br><span class="snnkb-authors">{_authors_html(p)}</span></td>'
            f'<td>{int(p["year"])}</td><td>{inline_html(p.get("venue", ""))}</td><td>{cats}</td>'
            f'<td>{html.escape(", ".join(_labels(p, "paradigm", lang)))}</td>'
            f'<td>{html.escape(", ".join(_labels(p, "neuron_models", lang)))}</td>'
            f'<td>{badge_html(lang, st, detail=False)}</td></tr>')
    shown = html.escape(t(lang, "filter_shown", shown="{shown}", total="{total}"), quote=True)
    table = (f'<div class="snnkb-browse" data-shown-template="{shown}">'
             f'<div class="snnkb-filters"><label>{html.escape(t(lang, "filter_text"))} '
             f'<input type="search" data-filter="text" autocomplete="off"></label>{"".join(selects)}</div>'
             f'<p class="snnkb-count" aria-live="polite">'
             f'{html.escape(t(lang, "filter_shown", shown=len(papers), total=len(papers)))}</p>'
             f'<div class="snnkb-scroll"><table class="snnkb-table"><thead><tr>{head}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table></div></div>')
    title = t(lang, "browse_title")
    md = f"{_front_matter(md_text(title), wide=True)}# {md_text(title)}\n\n{t(lang, 'browse_intro')}\n{slot('browse')}"
    return Page("browse.md", md, {"browse": table})


def _paper_list(papers: Iterable[Mapping[str, Any]], page: str) -> str:
    lines = [f"- [{md_text(p['title'])}]({_rel_md(page, 'papers/' + p['id'] + '.md')}) "
             f"— {md_text(p.get('venue', ''))} {int(p['year'])}" for p in papers]
    return "\n".join(lines) + "\n"


def _rel_md(from_page: str, to_page: str) -> str:
    """Relative path between two .md sources (what MkDocs validates and rewrites)."""
    depth = from_page.count("/")
    return "../" * depth + to_page


def used_categories(papers: Iterable[Mapping[str, Any]]) -> list[str]:
    from snnkb.vocabulary import vocabulary
    used = {c for p in papers for c in _facet_values(p, "categories")}
    return [c for c in vocabulary()["categories"] if c in used]  # vocabulary order: the source lists' grouping


def categories_index_page(lang: str, data: SiteData) -> Page:
    from snnkb.vocabulary import vocabulary
    title = t(lang, "categories_title")
    lines = [_front_matter(md_text(title)), f"# {md_text(title)}\n\n{t(lang, 'categories_intro')}\n\n",
             f"| {t(lang, 'col_categories')} | {t(lang, 'col_paper')} |\n|---|---:|\n"]
    for cat in vocabulary()["categories"]:
        n = sum(cat in _facet_values(p, "categories") for p in data.papers)
        name = md_text(label("categories", cat, lang))
        lines.append(f"| [{name}]({cat}.md) | {n} |\n" if n else f"| {name} | 0 |\n")
    return Page("categories/index.md", "".join(lines))


def category_page(cat: str, lang: str, data: SiteData) -> Page:
    path = f"categories/{cat}.md"
    papers = [p for p in data.papers if cat in _facet_values(p, "categories")]
    title = md_text(label("categories", cat, lang))
    md = (f"{_front_matter(title)}# {title}\n\n{t(lang, 'category_intro', count=len(papers))}\n\n"
          + _paper_list(sorted(papers, key=lambda p: (-int(p["year"]), p["id"])), path))
    return Page(path, md)


def verification_page(lang: str, data: SiteData) -> Page:
    title = t(lang, "verification_title")
    lines = [_front_matter(md_text(title)), f"# {md_text(title)}\n\n{t(lang, 'verification_intro')}\n\n"]
    counts = {s: sum(status_of(data, p["id"])["status"] == s for p in data.papers) for s in STATUSES}
    lines.append(" · ".join(f"{t(lang, f'status_{s}')}: **{counts[s]}**" for s in STATUSES) + "\n\n")
    lines.append(f"| {t(lang, 'col_paper')} | {t(lang, 'col_status')} | {t(lang, 'col_date')} | "
                 f"{t(lang, 'col_seconds')} | {t(lang, 'col_mutation_score')} | {t(lang, 'col_mutants')} | "
                 f"{t(lang, 'col_error')} |\n|---|---|---|---:|---:|---:|---|\n")
    slots = {}
    for p in data.papers:
        st = status_of(data, p["id"])
        name = f"badge-{p['id']}"
        slots[name] = badge_html(lang, st, detail=False)
        error = st.get("error") if st["status"] == "failed" else None
        err = md_text(str(error).strip().splitlines()[-1][:300]) if error and str(error).strip() else ""
        date = md_text(_fmt_date(st.get("date"))) if st["status"] != "missing" else ""
        secs = _fmt_seconds(st.get("seconds")) + " s" if st["status"] != "missing" else ""
        # A slot inside a table cell: the hook swaps the placeholder after Markdown conversion.
        score, mutants = _mutation_cells(data.mutation.get(p["id"]))
        lines.append(f"| [{p['id']}](papers/{p['id']}.md) | <div data-snnkb-slot=\"{name}\"></div> | {date} | "
                     f"{secs} | {score} | {mutants} | {err} |\n")
    return Page("verification.md", "".join(lines), slots)


def _mutation_cells(record: Any) -> tuple[str, str]:
    """(score, mutants) cells of the Verification table; "—" when the paper has no mutation record."""
    if not isinstance(record, Mapping):
        return "—", "—"
    score, mutants = record.get("score"), _int(record.get("mutants"))
    ok = isinstance(score, (int, float)) and not isinstance(score, bool)
    return (f"{100 * score:.0f}%" if ok else "—"), (str(mutants) if mutants is not None else "—")


def counts_markdown(lang: str, data: SiteData) -> str:
    verified = sum(status_of(data, p["id"])["status"] == "verified" for p in data.papers)
    return t(lang, "counts", papers=len(data.papers), verified=verified)


def all_pages(lang: str, data: SiteData) -> list[Page]:
    """Every generated page of one language, in a fixed order."""
    from snnkb import render_extra

    pages = [browse_page(lang, data), categories_index_page(lang, data), verification_page(lang, data)]
    pages += render_extra.extra_pages(lang, data)
    pages += [category_page(c, lang, data) for c in used_categories(data.papers)]
    for p in data.papers:
        pages.append(paper_page(p, lang, data))
        pages.append(notebook_page(p, lang, data))
    return pages


# --------------------------------------------------------------------------------------------------------------------
# snnref source, by ast


def extract_source(text: str, obj: str | None, path: str) -> Source:
    """The exact lines of top-level ``obj`` (decorators included) in ``text``; the whole module when ``obj`` is None."""
    lines = text.splitlines()
    if not obj:
        return Source(path, 1, len(lines), text.rstrip() + "\n")
    tree = ast.parse(text)
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t_.id for t_ in node.targets if isinstance(t_, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        if obj in names:
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            end = node.end_lineno or node.lineno
            return Source(path, start, end, "\n".join(lines[start - 1:end]) + "\n")
    raise LookupError(f"{path} defines no top-level {obj!r}")


def module_path(module: str, root: Path) -> Path:
    """``snnref.a.b`` -> path of its source file under ``root`` (package __init__ or module .py)."""
    rel = Path(*module.split("."))
    return rel / "__init__.py" if (root / rel).is_dir() else rel.with_suffix(".py")


# --------------------------------------------------------------------------------------------------------------------
# Language switcher


def alternate_href(current: str, target: str, page_url: str | None) -> str:
    """Relative link from a page of the ``current`` language build to the same page in ``target``.

    English sits at the site root, the others under ``zh/`` and ``ja/``; every build has the same pages.
    """
    url = page_url or ""
    if url.endswith(".html") and "/" not in url:  # 404.html and friends: go to the language's home
        url = ""
    depth = url.count("/")
    up = "../" * depth + ("../" if current != "en" else "")
    return (up + ("" if target == "en" else f"{target}/") + url) or "./"
