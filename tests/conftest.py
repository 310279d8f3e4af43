"""Shared fixtures. The site fixtures build a fixture catalog once per test session (tests/functional, tests/browser)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SITE_FIXTURE = REPO / "tests" / "data" / "site"
XSS_FIXTURE = REPO / "tests" / "data" / "site-xss"


def build_site(fixture: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """`snnkb site` on a fixture root (catalog.yaml, papers/, notebooks/, snnref/, verification/)."""
    cmd = [sys.executable, "-m", "snnkb.cli", "site", "--catalog", str(fixture / "catalog.yaml"),
           "--verification", str(fixture / "verification" / "verification.json"), "--out", str(out), *extra]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    proc = build_site(SITE_FIXTURE, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="session")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xss") / "site"
    proc = build_site(XSS_FIXTURE, out, "--unsafe-skip-text-checks")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out
