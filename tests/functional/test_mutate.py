"""The mutation tool itself: a weak check leaves a surviving mutant, a strong one kills them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from snnkb.mutate import mutate_paper

TOY = '''
import torch


def leaky(v: torch.Tensor, x: torch.Tensor, *, beta: float, mode: str = "leak") -> torch.Tensor:
    """V_t = beta * V_{t-1} + X_t."""
    if mode == "other":
        return 3 * v - x
    return beta * v + x
'''
HEADER = "# %%\nimport math\nimport torch\nfrom snnref.toy import leaky\n\n# %%\n"
WEAK = "out = leaky(torch.tensor(0.0), torch.tensor(1.0), beta=0.5)\nassert out > 0\n"
STRONG = (
    "v = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)\n"
    "out = leaky(v, torch.tensor(1.0, dtype=torch.float64), beta=0.3)\n"
    "assert math.isclose(out.item(), 0.3 * 2.0 + 1.0, rel_tol=1e-12)  # catches: wrong operator, dropped term\n"
    "assert out.requires_grad  # catches: a detach() cutting the gradient\n"
    "(g,) = torch.autograd.grad(out, v)\n"
    "assert math.isclose(g.item(), 0.3, rel_tol=1e-12)\n"
)


def _root(tmp_path: Path, cells: str) -> tuple[Path, dict]:
    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "toy.py").write_text(TOY)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "toy2020leak.py").write_text(HEADER + cells)
    return tmp_path, {"id": "toy2020leak", "impl": "snnref.toy:leaky", "notebook": "notebooks/toy2020leak.py"}


def test_weak_check_reports_its_survivor(tmp_path: Path):
    root, entry = _root(tmp_path, WEAK)
    record = mutate_paper(entry, root)
    survivors = {s["operator"]: s for s in record["survivors"]}
    assert "drop-term" in survivors
    assert survivors["drop-term"]["before"] == "beta * v + x" and survivors["drop-term"]["after"] == "x"
    # Only lines the notebook runs are mutated: nothing from the `mode == "other"` branch.
    assert all(m["line"] != 8 for m in record["survivors"])
    assert record["status"] == "below-gate" and record["score"] < 0.9


def test_strong_check_kills_every_mutant(tmp_path: Path):
    root, entry = _root(tmp_path, STRONG)
    record = mutate_paper(entry, root)
    assert record["survivors"] == [], record["survivors"]
    assert record["mutants"] == record["killed_assert"] >= 4
    assert record["score"] == 1.0


def test_limit_samples_and_zero_means_every_mutant(tmp_path: Path):
    root, entry = _root(tmp_path, STRONG)
    every = mutate_paper(entry, root, limit=0)
    two = mutate_paper(entry, root, limit=2)
    assert every["mutants"] >= 4 and two["mutants"] == 2
    assert every["mutants"] == mutate_paper(entry, root)["mutants"]  # the toy has fewer than the default 40


def test_equivalent_mutants_are_listed_not_counted(tmp_path: Path):
    root, entry = _root(tmp_path, WEAK)
    mid = "snnref/toy.py:9:11:drop-term:1"
    entry["equivalent_mutants"] = [{"id": mid, "reason": "toy: only for the test"}]
    record = mutate_paper(entry, root)
    assert [e["id"] for e in record["equivalent"]] == [mid]
    assert all(s["id"] != mid for s in record["survivors"])


GATE_TOY = '''
import torch


def gate(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Pass v where it is positive, else x."""
    return torch.where(v > 0, v, x)
'''


def test_a_mutant_that_cannot_run_is_stillborn_not_counted(tmp_path: Path):
    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "toy.py").write_text(GATE_TOY)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "toy2020gate.py").write_text(
        "# %%\nimport torch\nfrom snnref.toy import gate\n\n# %%\n"
        "v = torch.tensor([1.0, -1.0, 0.0], requires_grad=True)\n"
        "out = gate(v, torch.tensor([5.0, 6.0, 7.0]))\n"
        "assert out.tolist() == [1.0, 6.0, 7.0] and out.requires_grad\n"
        "out.sum().backward()\n"
        "assert v.grad.tolist() == [1.0, 0.0, 0.0]\n")
    entry = {"id": "toy2020gate", "impl": "snnref.toy:gate", "notebook": "notebooks/toy2020gate.py"}
    record = mutate_paper(entry, tmp_path)
    # torch.where(v, v > 0, x) raises in the mutated expression itself: no assertion could ever see it.
    assert record["stillborn"] == ["snnref/toy.py:7:11:swap-args"]
    assert record["killed_error"] == 0 and record["survivors"] == []
    assert record["mutants"] == record["killed_assert"] >= 2  # the boundary and the detach mutants still count


CALL_TOY = '''
import torch


def scale(x: torch.Tensor, k: float) -> torch.Tensor:
    """k * x for a number k."""
    if not isinstance(k, float):
        raise TypeError(f"k must be a float, got {type(k).__name__}")
    return x * k


def block(x: torch.Tensor) -> torch.Tensor:
    """Twice the input, through scale."""
    return scale(x, 2.0)
'''


def test_swapped_arguments_that_fail_inside_the_callee_are_stillborn(tmp_path: Path):
    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "toy.py").write_text(CALL_TOY)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "toy2020call.py").write_text(
        "# %%\nimport torch\nfrom snnref.toy import block\n\n# %%\n"
        "x = torch.tensor([1.0, -3.0], requires_grad=True)\nout = block(x)\n"
        "assert out.tolist() == [2.0, -6.0] and out.requires_grad\n")
    entry = {"id": "toy2020call", "impl": "snnref.toy:block", "notebook": "notebooks/toy2020call.py"}
    record = mutate_paper(entry, tmp_path)
    # scale(2.0, x) trips scale's own type check one call down: arguments of the wrong kind, not a wrong value.
    assert "snnref/toy.py:14:11:swap-args" in record["stillborn"]
    assert record["killed_error"] == 0 and record["survivors"] == [], record


def test_nested_operators_at_one_place_get_distinct_ids(tmp_path: Path):
    from snnkb.mutate import _enumerate

    path = tmp_path / "m.py"
    path.write_text("def f(h, s, r):\n    return h * (1 - s) + r * s + torch.maximum(h, s).transpose(0, 1).sum()\n")
    ids = [m.id for m, _ in _enumerate(path, {"f"}, tmp_path)]
    assert not any(i.endswith("swap-args") for i in ids)  # maximum and transpose commute: no mutant
    assert len(ids) == len(set(ids))
    assert "m.py:2:11:arith-swap" in ids and "m.py:2:11:arith-swap@2" in ids  # the outer +, then the inner *


def test_a_mutated_module_in_a_subpackage_imports_in_every_form(tmp_path: Path):
    (tmp_path / "snnref" / "family").mkdir(parents=True)
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "family" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "family" / "toy.py").write_text(TOY)
    (tmp_path / "notebooks").mkdir()
    strong = STRONG.replace("leaky(", "toy_module.leaky(")
    (tmp_path / "notebooks" / "toy2020leak.py").write_text(
        "# %%\nimport math\nimport torch\nimport snnref.family.toy as toy_module\n\n# %%\n" + strong)
    entry = {"id": "toy2020leak", "impl": "snnref.family.toy:leaky", "notebook": "notebooks/toy2020leak.py"}
    record = mutate_paper(entry, tmp_path)
    assert record["killed_error"] == 0 and record["mutants"] == record["killed_assert"] >= 4, record


def test_the_gate_fails_naming_the_paper_and_its_survivor(tmp_path: Path):
    """`snnkb mutate --gate` (as run by `make test`) exits 1 on a weak check and names what survived."""
    import subprocess
    import sys

    root, entry = _root(tmp_path, WEAK)
    (root / "catalog.yaml").write_text(
        f"papers:\n  - id: {entry['id']}\n    impl: {entry['impl']}\n    notebook: {entry['notebook']}\n")
    probe = "import sys; from snnkb.cli import main; sys.exit(main(['mutate', '--gate', '-q', '-j', '1', '--root', sys.argv[1]]))"
    proc = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "toy2020leak: below-gate" in proc.stderr
    assert "survived snnref/toy.py:" in proc.stderr and "beta * v + x  ->  x" in proc.stderr
    assert (root / "build" / "mutation.json").exists()
    # The same paper with a strong check: every mutant killed, but the toy has fewer than the 8 mutants the gate asks.
    (root / entry["notebook"]).write_text(HEADER + STRONG)
    proc = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True)
    assert proc.returncode == 1 and "below-gate (score 1.0, 5 mutants; fewer than 8)" in proc.stderr, proc.stderr
    # With the minimum lowered to what the toy has, it passes.
    probe = probe.replace("import sys;", "import sys; import snnkb.mutate as m; m.MIN_MUTANTS = 5;")
    proc = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1/1 papers meet the gate" in proc.stdout


LATE_TOY = '''
import torch


def leaky(v: torch.Tensor, x: torch.Tensor, *, beta: float) -> torch.Tensor:
    """V_t = beta * V_{t-1} + X_t."""
    return beta * v + x


def make_leaky(beta: float):
    """A leaky update with beta fixed."""
    def step(v, x):
        return beta * v + x
    return step


class Layer:
    def __init__(self, beta: float):
        self.beta = beta

    def __call__(self, v, x):
        return self.beta * v + x


STEPS = {"leaky": leaky}
'''


def test_mutants_start_at_the_first_cell_that_runs_their_function(tmp_path: Path, monkeypatch):
    """A mutant forked at a later cell is patched into every reference made before (a dict of functions, a
    closure factory, a class) and is killed exactly as in a whole run; one used from the first cell runs whole."""
    import snnkb.mutate as mutate

    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "toy.py").write_text(LATE_TOY)
    (tmp_path / "notebooks").mkdir()
    check = "assert abs(out.item() - (0.3 * 2.0 + 1.0)) < 1e-12 and out.requires_grad\n"
    (tmp_path / "notebooks" / "toy2020late.py").write_text(
        "# %%\nimport torch\nfrom snnref.toy import STEPS, Layer, leaky, make_leaky\n"
        "v = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)\n"
        "x = torch.tensor(1.0, dtype=torch.float64)\n"
        "layer = Layer(0.3)\nstep = make_leaky(0.3)\n"
        "# %%\nfirst = 1\n"
        "# %%\nout = STEPS['leaky'](v, x, beta=0.3)\n" + check +
        "# %%\nout = layer(v, x)\n" + check +
        "# %%\nout = step(v, x)\n" + check)
    entry = {"id": "toy2020late", "impl": "snnref.toy:Layer", "notebook": "notebooks/toy2020late.py"}
    starts = []
    real_run_late = mutate._run_late
    monkeypatch.setattr(mutate, "_run_late", lambda cells, timeout, root, late: (
        starts.extend((k, len(v)) for k, v in late.items()), real_run_late(cells, timeout, root, late))[1])
    record = mutate_paper(entry, tmp_path)
    assert record["survivors"] == [] and record["killed_error"] == 0, record
    assert record["mutants"] == record["killed_assert"] == 15
    # leaky first runs in cell 2 (through the dict), Layer.__call__ in cell 3, five mutants each; make_leaky's body
    # runs in cell 0 (the closure is made there), so its mutants run the whole notebook.
    assert dict(starts) == {2: 5, 3: 5}, starts


def test_a_generator_made_before_its_first_step_still_gets_the_mutant(tmp_path: Path):
    """The generator is made in one cell and first stepped in a later one: its body first runs there, but the
    generator object already holds the old code, so the mutant must run the whole notebook instead."""
    (tmp_path / "snnref").mkdir()
    (tmp_path / "snnref" / "__init__.py").write_text("")
    (tmp_path / "snnref" / "toy.py").write_text(
        "def ramp(n: int, step: float):\n    for i in range(n):\n        yield step * i + 1.0\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "toy2020ramp.py").write_text(
        "# %%\nfrom snnref.toy import ramp\n\n# %%\ngen = ramp(3, 0.5)\n\n# %%\n"
        "assert list(gen) == [1.0, 1.5, 2.0]\n")
    entry = {"id": "toy2020ramp", "impl": "snnref.toy:ramp", "notebook": "notebooks/toy2020ramp.py"}
    record = mutate_paper(entry, tmp_path)
    assert record["survivors"] == [], record["survivors"]
    assert record["mutants"] == record["killed_assert"] >= 4
