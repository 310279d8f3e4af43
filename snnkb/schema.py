"""The JSON Schema of catalog.yaml, generated from vocabulary.yaml and committed as schema/catalog.schema.json."""

from __future__ import annotations

import json
from typing import Any

from snnkb import REPO_ROOT
from snnkb.vocabulary import vocabulary

SCHEMA_PATH = REPO_ROOT / "schema" / "catalog.schema.json"
HTTPS_URL = r"^https://[^\s<>\"'`]+$"
ID_PATTERN = r"^[a-z0-9-]+$"
SEED_FILE = r"^[0-9]{3}_[0-9a-f]{16}\.txt$"
MIN_YEAR = 1940
# The schema's fixed bound; validation also rejects years after next year.
MAX_YEAR = 2100
CONFLICT_FIELDS = ["title", "authors", "venue", "year", "link", "grouping", "other"]


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def build_schema() -> dict[str, Any]:
    vocab = vocabulary()
    url = {"type": "string", "pattern": HTTPS_URL, "maxLength": 500}
    terms = {section: sorted(vocab[section]) for section in vocab}
    paper = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "title", "authors", "venue", "year", "categories", "paradigm", "neuron_models", "datasets",
                     "links", "notes", "equation", "impl", "notebook", "sources"],
        "properties": {
            "id": {"type": "string", "pattern": ID_PATTERN, "maxLength": 60,
                   "description": "first author + year + keyword, e.g. bu2022qcfs"},
            "title": _text(300),
            "authors": {"type": "array", "minItems": 1, "items": _text(100)},
            "venue": _text(120),
            "year": {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
            "categories": {"type": "array", "minItems": 1, "uniqueItems": True,
                           "items": {"enum": terms["categories"]}},
            "paradigm": {"enum": terms["paradigms"]},
            "neuron_models": {"type": "array", "minItems": 1, "uniqueItems": True,
                              "items": {"enum": terms["neuron_models"]}},
            "datasets": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": terms["datasets"]}},
            "links": {
                "type": "object", "additionalProperties": False, "required": ["paper"],
                "properties": {k: url for k in ("paper", "arxiv", "doi", "openreview", "code")},
            },
            "notes": {
                "type": "object", "additionalProperties": False, "required": ["en"],
                "properties": {"en": _text(2000), "zh": _text(2000), "ja": _text(2000)},
            },
            "translated_from": {
                "type": "object", "additionalProperties": False,
                "description": "per language, note_hash() of the English note the translation was made from",
                "properties": {lang: {"type": "string", "pattern": "^[0-9a-f]{8}$"} for lang in ("zh", "ja")},
            },
            "equation": _text(2000),
            "impl": {"type": "string",
                     "pattern": r"^snnref(\.[a-z_][a-z0-9_]*)+(:[A-Za-z_][A-Za-z0-9_]*)?$"},
            "notebook": {"type": "string", "pattern": r"^notebooks/[a-z0-9-]+\.py$"},
            "sources": {"type": "array", "uniqueItems": True,
                        "items": {"type": "string", "pattern": SEED_FILE}},
            "source_conflicts": {
                "type": "array",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["source", "field", "says", "fact"],
                    "properties": {
                        "source": {"type": "string", "pattern": SEED_FILE},
                        "field": {"enum": CONFLICT_FIELDS},
                        "says": _text(500),
                        "fact": _text(500),
                    },
                },
            },
            "equivalent_mutants": {
                "type": "array",
                "description": "mutants `snnkb mutate` reports as surviving that cannot change the paper's result",
                "items": {"type": "object", "additionalProperties": False, "required": ["id", "reason"],
                          "properties": {"id": _text(200), "reason": _text(300)}},
            },
            "builds_on": {"type": "array", "uniqueItems": True,
                          "items": {"type": "string", "pattern": ID_PATTERN}},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "SNN reference knowledge base catalog",
        "description": "Generated from snnkb/vocabulary.yaml by `snnkb schema --write`; do not edit by hand.",
        "type": "object",
        "additionalProperties": False,
        "required": ["papers"],
        "properties": {"papers": {"type": "array", "items": paper}},
    }


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
