"""The controlled vocabularies (categories and facets), read from vocabulary.yaml."""

from __future__ import annotations

from functools import lru_cache

import yaml

from snnkb import PACKAGE_DIR

#: catalog field -> vocabulary section, for every field whose values come from a vocabulary.
FACET_FIELDS = {"categories": "categories", "paradigm": "paradigms", "neuron_models": "neuron_models", "datasets": "datasets"}


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, dict[str, str]]]:
    """section -> term -> {en, zh, ja} label."""
    with open(PACKAGE_DIR / "vocabulary.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def label(section: str, term: str, lang: str) -> str:
    """The term's label in ``lang``, falling back to English."""
    labels = vocabulary()[section][term]
    return labels.get(lang) or labels["en"]
