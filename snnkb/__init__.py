"""snnkb: the catalog and site tooling of the SNN reference knowledge base (no torch needed)."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The repository root: snnkb lives directly under it.
REPO_ROOT = PACKAGE_DIR.parent
LANGUAGES = ("en", "zh", "ja")
