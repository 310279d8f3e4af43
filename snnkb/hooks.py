"""MkDocs hooks: generate the catalog's pages at build time, for the language in ``theme.language``.

Wired in mkdocs.yml (``hooks: [snnkb/hooks.py]``). The page content comes from snnkb.render (pure functions); this
file only gathers inputs, fails the build on any catalog problem, adds the generated pages and assets to MkDocs'
files, and swaps each page's slots for their sanitized HTML after Markdown conversion.

Per language it also sets the search index's separator and segmentation (jieba for Chinese only; TinySegmenter in
the browser for Japanese, plus site/assets/javascripts/snnkb-ja-search.js for queries) and makes the language
switcher link to the same page in the other languages.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

from snnkb import LANGUAGES, REPO_ROOT, render, render_extra
from snnkb import site as snnsite

log = logging.getLogger("mkdocs.hooks.snnkb")

#: Search-index separators per language. Chinese text is cut by jieba at build time and joined with U+200B, so the
#: Chinese separator must contain \u200b; Japanese is cut in the browser by lunr's TinySegmenter.
SEARCH_SEPARATOR = {
    "en": r"[\s\-]+",
    "zh": r"[\s\u200b\u3000\-、。，．？！；：（）“”]+",
    "ja": r"[\s\-　、。，．！？：（）「」]+",
}
COUNTS_MARKER = "<!-- snnkb:counts -->"
EXPORTS_MARKER = "<!-- snnkb:exports -->"
KATEX_FILES = ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js")

_state: dict[str, Any] = {}


@event_priority(100)  # before the search plugin reads its settings
def on_config(config: Any) -> Any:
    lang = config.theme["language"]
    if lang not in LANGUAGES:
        raise PluginError(f"theme.language {lang!r}: the site is built in {', '.join(LANGUAGES)} (set SNNKB_LANG)")
    config.docs_dir = str(REPO_ROOT / "site" / lang)

    search = config.plugins.get("material/search") or config.plugins.get("search")
    if search is not None:
        search.config.separator = SEARCH_SEPARATOR[lang]
    # Material segments Han text with jieba whenever it is importable: right for Chinese only. In Japanese it would
    # cut kanji compounds with a Chinese dictionary (閾値 -> 閾|値) before TinySegmenter sees them.
    import material.plugins.search.plugin as material_search

    if lang == "zh":
        import jieba

        material_search.jieba = jieba
    else:
        material_search.jieba = None

    settings = snnsite.Settings.from_env()
    prepared = os.environ.get("SNNKB_SITE_DATA")
    if prepared:  # `snnkb site` validated, checked and gathered everything once for the three languages
        data = snnsite.load_data(Path(prepared))
    else:
        try:
            data = snnsite.prepare(settings)
        except snnsite.BuildError as exc:
            raise PluginError("catalog problems:\n" + "\n".join(exc.messages)) from exc
    for unknown in sorted(set(data.verification) - {p["id"] for p in data.papers}):
        log.info("verification.json: %r is not in the catalog; ignored", unknown)
    _state.clear()
    _state.update(lang=lang, settings=settings, data=data, slots={})
    # Section titles of the nav are translated here (page titles come from the pages themselves).
    if config.nav:
        config.nav = [{render.t(lang, "nav_labs"): item["Labs"]} if isinstance(item, dict) and "Labs" in item
                      else item for item in config.nav]
    return config


def on_files(files: Files, config: Any) -> Files:
    lang, data, settings = _state["lang"], _state["data"], _state["settings"]
    for page in render.all_pages(lang, data):
        if files.get_file_from_path(page.path) is not None:
            raise PluginError(f"site/{lang}/{page.path} would hide a generated page: remove it")
        files.append(File.generated(config, page.path, content=page.markdown))
        if page.slots:
            _state["slots"][page.path] = page.slots
    for p in data.papers:
        pid = p["id"]
        files.append(File.generated(config, f"downloads/{pid}.py", abs_src_path=str(settings.root / p["notebook"])))
        if pid in data.notebook_html:
            files.append(File.generated(config, f"downloads/{pid}.ipynb",
                                        abs_src_path=str(settings.executed_notebooks / f"{pid}.ipynb")))
    for name in render_extra.LABS:
        src = settings.root / "notebooks" / "labs" / f"{name}.py"
        if src.is_file():
            files.append(File.generated(config, f"downloads/labs/{name}.py", abs_src_path=str(src)))
        if f"labs/{name}" in data.notebook_html:
            files.append(File.generated(config, f"downloads/labs/{name}.ipynb",
                                        abs_src_path=str(settings.executed_notebooks / "labs" / f"{name}.ipynb")))
    # Our own assets and vendored KaTeX, served from the site itself (nothing from a CDN).
    assets = REPO_ROOT / "site" / "assets"
    for path in sorted(assets.rglob("*")):
        if path.is_file():
            files.append(File.generated(config, f"assets/{path.relative_to(assets).as_posix()}",
                                        abs_src_path=str(path)))
    dist = snnsite.KATEX_DIR / "dist"
    if not dist.is_dir():
        raise PluginError(f"KaTeX is missing: run `{snnsite.NPM_INSTALL}` in {REPO_ROOT}")
    katex = [dist / f for f in KATEX_FILES] + sorted((dist / "fonts").glob("*"))
    for path in katex:
        files.append(File.generated(config, f"assets/katex/{path.relative_to(dist).as_posix()}",
                                    abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri == "index.md" and COUNTS_MARKER in markdown:
        markdown = markdown.replace(COUNTS_MARKER, render.counts_markdown(_state["lang"], _state["data"]))
    if page.file.src_uri == "index.md" and EXPORTS_MARKER in markdown:
        markdown = markdown.replace(EXPORTS_MARKER, render_extra.exports_html(_state["lang"]))
    return markdown


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    slots = _state["slots"].get(page.file.src_uri)
    if slots:
        try:
            html = render.fill_slots(html, slots)
        except KeyError as exc:
            raise PluginError(f"{page.file.src_uri}: {exc}") from exc
    return html


def on_post_build(config: Any) -> None:
    if _state.get("lang") != "ja":
        return
    # Material's search worker loads lunr.ja.min.js for Japanese; our query segmentation rides along with it.
    target = Path(config.site_dir) / "assets" / "javascripts" / "lunr" / "min" / "lunr.ja.min.js"
    patch = REPO_ROOT / "site" / "assets" / "javascripts" / "snnkb-ja-search.js"
    if not target.is_file():
        raise PluginError(f"{target} is missing: Material's layout changed; see {patch.name}")
    with open(target, "a", encoding="utf-8") as f:
        f.write("\n" + patch.read_text("utf-8"))


_ALTERNATE_LINK = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')


def on_env(env: Any, config: Any, files: Files) -> Any:
    lang = config.theme["language"]
    # The switcher links to the same page in the other language (see site/overrides/partials/alternate.html).
    env.globals["snnkb_alternate_href"] = lambda target, page=None: render.alternate_href(
        lang, target, getattr(page, "url", None))
    # Drop Material's <link rel="alternate"> tags: its script would fetch each one's sitemap and send readers to
    # the other language's home page instead of the same page.
    env.filters["snnkb_drop_alternate_links"] = lambda html: type(html)(_ALTERNATE_LINK.sub("", str(html)))
    return env
