"""Translation freshness: each Chinese and Japanese note records which English note it translates.

``translated_from: {zh: <hash>, ja: <hash>}`` holds the first 8 hex digits of the SHA-256 of the English note the
translation was made from. When the English changes, the hash no longer matches and the translation is *stale*.
"""

from __future__ import annotations

import hashlib
from typing import Any

TRANSLATED = ("zh", "ja")


def note_hash(text: str) -> str:
    """Short content hash of an English note (whitespace at the ends ignored)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:8]


def status(entry: dict[str, Any], lang: str) -> str:
    """'current', 'stale' (English changed since), or 'missing' (no translation) for ``lang`` in zh/ja."""
    notes = entry.get("notes") or {}
    if not notes.get(lang):
        return "missing"
    recorded = (entry.get("translated_from") or {}).get(lang)
    return "current" if recorded == note_hash(notes.get("en", "")) else "stale"


def coverage(entries: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """lang -> {'current': n, 'stale': n, 'missing': n} over the catalog."""
    out = {lang: {"current": 0, "stale": 0, "missing": 0} for lang in TRANSLATED}
    for entry in entries:
        for lang in TRANSLATED:
            out[lang][status(entry, lang)] += 1
    return out
