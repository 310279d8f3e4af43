"""A new contributor's pull request, played end to end in a temporary copy of the repository.

`snnkb new` scaffolds a paper from BibTeX; validation names every unfinished part; once they are filled,
validation, verification and the strict three-language build pass, and catalog.yaml differs from the original by
exactly the new entry.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from snnkb import REPO_ROOT
from snnkb.catalog import load
from snnkb.edit import format_entry
from snnkb.translations import note_hash

FIXTURE = REPO_ROOT / "tests" / "data" / "site"
BIB = REPO_ROOT / "tests" / "data" / "bibtex" / "good.bib"
PID = "fang2021incorporating"

MODULE = '''r"""LIF with a learnable membrane time constant (PLIF), the charge written as in the paper.

$H_t = V_{t-1} + k(w)\\,(X_t - V_{t-1})$ with $k(w) = \\mathrm{sigmoid}(w) = 1/\\tau$.

Paper: fang2021incorporating, Eq. (6)
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step


def incorporating_step(x: torch.Tensor, v: torch.Tensor, *, w: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One PLIF step with hard reset to 0: the core LIF step at tau = 1 / sigmoid(w)."""
    tau = 1.0 / torch.sigmoid(torch.as_tensor(w, dtype=x.dtype))
    return lif_step(x, v, tau=tau, v_th=1.0, v_reset=0.0)
'''

NOTEBOOK = '''# %% [markdown]
# # PLIF (contributor test)

# %%
import math
import torch
from snnref.training.incorporating import incorporating_step

# %% [markdown]
# **Claim 1.** Below threshold, constant input $c$ from $V_0 = 0$ gives $V_t = c(1 - (1 - k)^t)$, $k = \\mathrm{sigmoid}(w)$.

# %%  catches: a wrong leak factor
w, c = 0.3, 0.6
k = 1 / (1 + math.exp(-w))
v = torch.zeros((), dtype=torch.float64)
for t in range(1, 6):
    s, v = incorporating_step(torch.tensor(c, dtype=torch.float64), v, w=w)
    assert s.item() == 0 and math.isclose(v.item(), c * (1 - (1 - k) ** t), rel_tol=1e-12)

# %% [markdown]
# **Claim 2.** A neuron that crosses threshold resets to zero.

# %%  catches: a missing reset
s, v = incorporating_step(torch.tensor(3.0, dtype=torch.float64), torch.zeros((), dtype=torch.float64), w=w)
assert s.item() == 1 and v.item() == 0.0
'''

NOTE = "## Problem\\n\\nLearn the membrane time constant.\\n\\n## Core equation\\n\\n$$H_t = V_{t-1} + k(w)(X_t - V_{t-1})$$\\n"


def _run(*args: str, root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "snnkb.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    # The real shared core, with the fixture's own paper modules kept beside it.
    shutil.copytree(REPO_ROOT / "snnref", root / "snnref", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("snnref/training/surr.py", "snnref/conversion/clip.py"):
        shutil.copy(FIXTURE / rel, root / rel)
    shutil.copy(REPO_ROOT / "requirements.lock", root / "requirements.lock")
    return root


def test_new_paper_from_bibtex_to_a_verified_page(repo: Path):
    catalog = repo / "catalog.yaml"
    original = catalog.read_text("utf-8")

    proc = _run("new", "--bibtex", str(BIB), "--family", "training", "--root", str(repo), root=repo)
    assert proc.returncode == 0, proc.stderr

    proc = _run("validate", str(catalog), "--root", str(repo), root=repo)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("catalog.yaml:")]
    assert lines and all("unfinished" in ln for ln in lines if "warning" not in ln)
    assert any(f"{PID}.equation" in ln for ln in lines) and any("notebooks/" in ln for ln in lines)

    # Fill every unfinished part, as the contributor would.
    entry = next(p for p in load(catalog).papers if p["id"] == PID)
    scaffold_block = format_entry(entry)
    en = "Makes the membrane time constant of every LIF layer a trained parameter."
    entry.update(categories=["surrogate-gradient", "neuron-model"], paradigm="surrogate-gradient",
                 neuron_models=["PLIF"], datasets=["CIFAR-10"], equation=r"H_t = V_{t-1} + k(w)(X_t - V_{t-1})",
                 notes={"en": en, "zh": "把每层 LIF 的膜时间常数变成可训练参数。", "ja": "各層の膜時定数を学習するパラメータにする。"},
                 translated_from={"zh": note_hash(en), "ja": note_hash(en)})
    text = catalog.read_text("utf-8")
    assert scaffold_block in text
    catalog.write_text(text.replace(scaffold_block, format_entry(entry)), "utf-8")
    (repo / "snnref" / "training" / "incorporating.py").write_text(MODULE, "utf-8")
    (repo / "notebooks" / f"{PID}.py").write_text(NOTEBOOK, "utf-8")
    (repo / "papers" / f"{PID}.md").write_text(NOTE, "utf-8")

    proc = _run("validate", str(catalog), "--root", str(repo), root=repo)
    assert proc.returncode == 0, proc.stderr
    proc = _run("verify", PID, "--root", str(repo), "-q", root=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((repo / "build" / "verification.json").read_text("utf-8"))
    assert report["papers"][PID]["status"] == "verified"
    proc = _run("site", "--catalog", str(catalog), "--root", str(repo), "--out", str(repo / "build" / "site"),
                root=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo / "build" / "site" / "ja" / "papers" / PID / "index.html").exists()

    ops = difflib.SequenceMatcher(a=original.splitlines(True), b=catalog.read_text("utf-8").splitlines(True),
                                  autojunk=False).get_opcodes()
    assert [op[0] for op in ops if op[0] != "equal"] == ["insert"]  # exactly the new entry was added
