"""The notebook runner: per-paper outcomes, assertion messages, timeouts, the content-hash cache."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from snnkb import REPO_ROOT
from snnkb.verify import dependency_files, inputs_hash, run

HEADER = "# %% [markdown]\n# fixture notebook\n\n# %%\n"
NOTEBOOKS = {
    "good2020pass": "x = 3\nassert x * 2 == 6, 'arithmetic'\nprint('fine')\n",
    "bad2020assert": "assert 1 + 1 == 3, 'leak factor is wrong: expected 0.6, got 0.4'\n",
    "slow2020hang": "import time\ntime.sleep(30)\n",
}


def _entry(pid: str) -> str:
    return textwrap.dedent(f"""\
      - id: {pid}
        notebook: notebooks/{pid}.py
    """)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    for pid, code in NOTEBOOKS.items():
        (tmp_path / "notebooks" / f"{pid}.py").write_text(HEADER + code, "utf-8")
    ids = sorted([*NOTEBOOKS, "gone2020missing"])
    (tmp_path / "catalog.yaml").write_text("papers:\n" + "".join(_entry(i) for i in ids), "utf-8")
    shutil.copy(REPO_ROOT / "requirements.lock", tmp_path / "requirements.lock")
    return tmp_path


@pytest.mark.parametrize("fresh", [False, True], ids=["warm", "fresh-kernels"])
def test_outcomes_errors_and_cache(root: Path, fresh: bool):
    report = run(root, jobs=2, timeout=5, progress=False, fresh_kernels=fresh)
    papers = report["papers"]
    assert papers["good2020pass"]["status"] == "verified"
    assert papers["bad2020assert"]["status"] == "failed"
    assert "AssertionError: leak factor is wrong" in papers["bad2020assert"]["error"]
    assert papers["slow2020hang"]["status"] == "failed"
    assert "timeout" in papers["slow2020hang"]["error"]
    assert papers["gone2020missing"]["status"] == "missing"
    executed = json.loads((root / "build" / "notebooks" / "good2020pass.ipynb").read_text("utf-8"))
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    assert any("fine" in "".join(o.get("text", "")) for o in outputs)
    on_disk = json.loads((root / "build" / "verification.json").read_text("utf-8"))
    assert on_disk["papers"] == papers

    # Nothing changed: the verified paper is not executed again; failed ones are retried.
    again = run(root, jobs=2, timeout=5, progress=False)
    assert "good2020pass" not in again["executed"]
    assert again["papers"]["good2020pass"] == papers["good2020pass"]

    # Editing the notebook re-runs it.
    nb = root / "notebooks" / "good2020pass.py"
    nb.write_text(nb.read_text("utf-8") + "y = 1\n", "utf-8")
    third = run(root, jobs=1, timeout=5, only=["good2020pass"], progress=False)
    assert third["executed"] == ["good2020pass"]


def test_hash_follows_imported_snnref_modules(tmp_path: Path):
    pkg = tmp_path / "snnref" / "family"
    pkg.mkdir(parents=True)
    (tmp_path / "snnref" / "__init__.py").write_text("", "utf-8")
    (pkg / "__init__.py").write_text("", "utf-8")
    (tmp_path / "snnref" / "core.py").write_text("A = 1\n", "utf-8")
    (pkg / "method.py").write_text("from snnref.core import A\n", "utf-8")
    (tmp_path / "snnref" / "unrelated.py").write_text("B = 2\n", "utf-8")
    nb = tmp_path / "nb.py"
    nb.write_text("from snnref.family import method\n", "utf-8")
    deps = {p.relative_to(tmp_path).as_posix() for p in dependency_files(nb.read_text("utf-8"), tmp_path)}
    assert deps == {"snnref/__init__.py", "snnref/family/__init__.py", "snnref/family/method.py", "snnref/core.py"}
    before = inputs_hash(nb, tmp_path)
    (tmp_path / "snnref" / "unrelated.py").write_text("B = 3\n", "utf-8")
    assert inputs_hash(nb, tmp_path) == before  # an unrelated module does not invalidate the cache
    (tmp_path / "snnref" / "core.py").write_text("A = 2\n", "utf-8")
    assert inputs_hash(nb, tmp_path) != before  # a transitively imported core module does


def _catalog(root: Path, notebooks: dict[str, str]) -> None:
    (root / "notebooks").mkdir(exist_ok=True)
    for pid, code in notebooks.items():
        (root / "notebooks" / f"{pid}.py").write_text(HEADER + code, "utf-8")
    (root / "catalog.yaml").write_text("papers:\n" + "".join(_entry(i) for i in sorted(notebooks)), "utf-8")


def test_warm_runner_isolates_notebooks_and_survives_crashes(tmp_path: Path):
    _catalog(tmp_path, {
        "a2020pollute": "import builtins, torch\nbuiltins.POLLUTED = True\ntorch.add = None\nLEAK = 1\n",
        "b2020clean": ("import builtins, torch\nassert not hasattr(builtins, 'POLLUTED')\n"
                       "assert torch.add is not None and 'LEAK' not in globals()\n"),
        "c2020crash": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
        "d2020exit": "import os\nos._exit(3)\n",
        "e2020newimport": "import sklearn.datasets\nassert sklearn.datasets.load_digits().data.shape == (1797, 64)\n",
    })
    papers = run(tmp_path, jobs=1, timeout=20, progress=False)["papers"]
    assert papers["a2020pollute"]["status"] == "verified"
    assert papers["b2020clean"]["status"] == "verified", papers["b2020clean"]["error"]
    assert papers["c2020crash"]["status"] == "failed"
    assert "SIGKILL" in papers["c2020crash"]["error"]
    assert papers["d2020exit"]["status"] == "failed"
    assert "status 3" in papers["d2020exit"]["error"]
    assert papers["e2020newimport"]["status"] == "verified", papers["e2020newimport"]["error"]


def test_warm_outputs_match_a_fresh_kernel(tmp_path: Path):
    code = ("import torch\nimport matplotlib.pyplot as plt\nprint('hello')\nprint('world')\n"
            "x = torch.arange(3, dtype=torch.float64)\n"
            "fig, ax = plt.subplots(figsize=(3, 2))\nax.plot(x.numpy(), x.numpy() ** 2)\nplt.show()\n"
            "x.sum().item()\n")
    _catalog(tmp_path, {"f2020same": code})
    outputs = {}
    for fresh in (False, True):
        run(tmp_path, jobs=1, timeout=60, progress=False, force=True, fresh_kernels=fresh)
        nb = json.loads((tmp_path / "build" / "notebooks" / "f2020same.ipynb").read_text("utf-8"))
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        outputs[fresh] = [(o["output_type"], o.get("name"), "".join(o.get("text", "")),
                           {k: "".join(v) if isinstance(v, list) else v for k, v in o.get("data", {}).items()})
                          for c in cells for o in c["outputs"]]
        assert nb["metadata"]["language_info"]["name"] == "python"
    assert outputs[False] == outputs[True]
    kinds = [o[0] for o in outputs[False]]
    assert kinds == ["stream", "display_data", "execute_result"]


def test_shards_partition_and_merge(tmp_path: Path):
    from snnkb.verify import merge_reports, shard

    ids = [f"p{i:02d}" for i in range(10)]
    slices = [shard(ids, f"{k}/3") for k in (1, 2, 3)]
    assert sorted(sum(slices, [])) == ids and all(slices)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"papers": {"x": {"status": "failed", "date": "2026-01-01T00:00:00+00:00"}}}))
    b.write_text(json.dumps({"papers": {"x": {"status": "verified", "date": "2026-01-02T00:00:00+00:00"},
                                        "y": {"status": "verified", "date": "2026-01-02T00:00:00+00:00"}}}))
    merged = merge_reports([a, b], tmp_path / "out" / "verification.json")
    assert merged["papers"]["x"]["status"] == "verified" and set(merged["papers"]) == {"x", "y"}


def test_affected_follows_dependencies(tmp_path: Path):
    from snnkb.verify import Job, affected

    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "core.py").write_text("A = 1\n")
    (tmp_path / "notebooks").mkdir()
    uses = tmp_path / "notebooks" / "uses.py"
    uses.write_text("from snnref.core import A\n")
    plain = tmp_path / "notebooks" / "plain.py"
    plain.write_text("x = 1\n")
    jobs = [Job("uses", uses), Job("plain", plain)]
    assert affected(tmp_path, jobs, {"snnref/core.py"}) == ["uses"]
    assert affected(tmp_path, jobs, {"notebooks/plain.py"}) == ["plain"]
    assert affected(tmp_path, jobs, {"requirements.lock"}) == ["uses", "plain"]


def test_noop_decides_without_heavy_imports(tmp_path: Path):
    """Nothing changed since an all-green run: `snnkb verify` answers without parsing the catalog or importing
    torch/jupytext/nbclient; touching a notebook brings the content-hash path back."""
    import subprocess
    import sys

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "good2020pass.py").write_text(HEADER + NOTEBOOKS["good2020pass"], "utf-8")
    (tmp_path / "catalog.yaml").write_text("papers:\n" + _entry("good2020pass"), "utf-8")
    shutil.copy(REPO_ROOT / "requirements.lock", tmp_path / "requirements.lock")
    assert run(tmp_path, jobs=1, timeout=10, progress=False)["executed"] == ["good2020pass"]
    probe = ("import sys; from snnkb.cli import main; code = main(['verify', '-q', '--root', sys.argv[1]]); "
             "heavy = sorted(m for m in ('torch', 'jupytext', 'nbclient', 'ruamel', 'yaml') if m in sys.modules); "
             "print('HEAVY', heavy); sys.exit(code)")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout and "executed 0" in out.stdout, out.stdout + out.stderr
    nb = tmp_path / "notebooks" / "good2020pass.py"
    nb.write_text(nb.read_text("utf-8") + "z = 2\n", "utf-8")
    assert run(tmp_path, jobs=1, timeout=10, progress=False)["executed"] == ["good2020pass"]


def test_warm_runner_records_the_blocks_first_call(tmp_path: Path):
    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "toy.py").write_text(
        "import torch\n\ndef double(x: torch.Tensor, *, k: int = 2) -> torch.Tensor:\n    return k * x\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "toy2020double.py").write_text(
        HEADER + "import torch\nfrom snnref.toy import double\n"
        "assert double(torch.zeros(3, 4, dtype=torch.float64), k=3).shape == (3, 4)\ndouble(torch.ones(1))\n")
    (tmp_path / "catalog.yaml").write_text(
        "papers:\n  - id: toy2020double\n    impl: snnref.toy:double\n    notebook: notebooks/toy2020double.py\n")
    shutil.copy(REPO_ROOT / "requirements.lock", tmp_path / "requirements.lock")
    record = run(tmp_path, jobs=1, timeout=20, progress=False)["papers"]["toy2020double"]
    assert record["status"] == "verified", record
    assert record["io"] == {"inputs": [["x", "[3, 4] float64"], ["k", "3"]], "output": "[3, 4] float64"}
