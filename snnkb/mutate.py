"""`snnkb mutate`: does each notebook fail when its implementation is wrong?

For each paper, mutants are made of the code its notebook exercises: every function of the paper's ``impl`` module,
and the functions it (or the notebook) imports from other snnref modules, followed through their own calls. Each
mutant is one small AST change of a kind that real SNN bugs are made of (see OPERATORS). The notebook's code cells
run against each mutant in a fresh fork of one warm process per paper (torch imported once), with a timeout,
starting at the first cell that runs the mutated function (the cells before it cannot differ).

Outcomes: killed by an assertion, killed by an error (weaker evidence, counted apart), timed out, or survived.
A mutant whose own changed expression raises (it cannot be evaluated at all) is stillborn: listed, not counted.
A survivor is either killed by a stronger claim in the notebook, or listed in the catalog entry's
``equivalent_mutants`` with a reason a reviewer can check.

Why not mutmut or cosmic-ray: both drive a test *command* per mutant (mutmut through a pytest suite and source
trampolines, cosmic-ray through a session database and a new process per mutant); here the "test" is a notebook
that should run inside one warm process per paper, so a ~200-line AST mutator is the smaller fit.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from snnkb import REPO_ROOT

MAX_MUTANTS = 40  # per paper: a deterministic, evenly spread sample when there are more
MIN_MUTANTS = 8
GATE = 0.90
TOOL_VERSION = "7"
_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
_BOUNDARY = {ast.GtE: ast.Gt, ast.Gt: ast.GtE, ast.LtE: ast.Lt, ast.Lt: ast.LtE}
OPERATORS = ("arith-swap", "compare-boundary", "constant", "sign-flip", "drop-term", "swap-args", "detach",
             "time-shift")


@dataclass(frozen=True)
class Mutant:
    id: str          # stable: <file>:<line>:<col>:<operator>[:<variant>][@<n>-th at the same place]
    file: str
    line: int
    operator: str
    before: str
    after: str
    end_line: int = 0  # last line of the mutated expression


# --- which code to mutate ---------------------------------------------------------------------------------

def _module_path(module: str, root: Path) -> Path | None:
    base = root.joinpath(*module.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imports_from_snnref(tree: ast.AST) -> list[tuple[str, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("snnref") and node.level == 0:
            out += [(node.module, a.name) for a in node.names]
    return out


def _top_defs(tree: ast.Module) -> dict[str, ast.AST]:
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def target_functions(impl: str, notebook_text: str, root: Path) -> dict[Path, set[str]]:
    """file -> names of the top-level functions/classes whose bodies are mutated."""
    module = impl.split(":")[0]
    own = _module_path(module, root)
    targets: dict[Path, set[str]] = {}
    if own is None:
        return targets
    own_tree = ast.parse(own.read_text("utf-8"))
    targets[own] = set(_top_defs(own_tree))
    todo = _imports_from_snnref(own_tree) + _imports_from_snnref(ast.parse(notebook_text))
    seen: set[tuple[str, str]] = set()
    while todo:
        mod, name = todo.pop()
        if (mod, name) in seen:
            continue
        seen.add((mod, name))
        path = _module_path(mod, root)
        if path is None:  # `from snnref.pkg import module`: the whole submodule
            sub = _module_path(f"{mod}.{name}", root)
            if sub is not None and sub != own:
                targets.setdefault(sub, set()).update(_top_defs(ast.parse(sub.read_text("utf-8"))))
            continue
        defs = _top_defs(ast.parse(path.read_text("utf-8")))
        if name not in defs:
            continue
        targets.setdefault(path, set()).add(name)
        # Follow calls to other functions of the same file (e.g. lif_step -> lif_charge, fire, reset).
        called = {n.func.id for n in ast.walk(defs[name]) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        todo += [(mod, c) for c in called if c in defs]
    return targets


# --- mutation operators -----------------------------------------------------------------------------------

def _is_validation(node: ast.AST) -> bool:
    """`if <bad argument>: raise ...` checks parameters, not the paper's equation."""
    return isinstance(node, ast.If) and all(isinstance(s, ast.Raise) for s in node.body)


def _candidates(fn: ast.AST) -> Iterator[tuple[ast.AST, str, int]]:
    """(node, operator, variant) for every mutation point inside a function or class body."""
    skip: set[int] = set()
    for node in ast.walk(fn):
        if _is_validation(node) or isinstance(node, (ast.Raise, ast.JoinedStr, ast.Assert)):
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for n in [*node.args.defaults, *node.args.kw_defaults, node.returns, *[a.annotation for a in
                      [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]]]:
                if n is not None:
                    skip.update(id(m) for m in ast.walk(n))
            if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
                skip.add(id(node.body[0].value))
        if isinstance(node, ast.AnnAssign) and node.annotation is not None:
            skip.update(id(m) for m in ast.walk(node.annotation))
    for node in ast.walk(fn):
        if id(node) in skip:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in _SWAP:
            yield node, "arith-swap", 0
            if isinstance(node.op, (ast.Add, ast.Sub)):
                yield node, "drop-term", 0
                yield node, "drop-term", 1
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _BOUNDARY:
            yield node, "compare-boundary", 0
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            yield node, "constant", 0
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            yield node, "sign-flip", 0
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "detach":
                yield node, "detach", 0
            elif (len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2])
                  and _call_name(node) not in _SYMMETRIC):
                yield node, "swap-args", 0
        elif isinstance(node, ast.Subscript) and _time_index(node.slice):
            yield node, "time-shift", 0
        elif isinstance(node, ast.Return) and node.value is not None and not _in_backward(fn, node):
            yield node, "detach", 1


#: Calls whose first two arguments commute: swapping them can never change anything, so it is not a mutant.
_SYMMETRIC = {"transpose", "swapaxes", "swapdims", "maximum", "minimum", "fmax", "fmin", "logaddexp", "hypot"}


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _in_backward(fn: ast.AST, node: ast.AST) -> bool:
    """Gradients returned by an autograd backward carry no graph: detaching them changes nothing."""
    for f in ast.walk(fn):
        if isinstance(f, ast.FunctionDef) and f.name == "backward" and any(n is node for n in ast.walk(f)):
            return True
    return False


def _time_index(index: ast.AST) -> bool:
    return isinstance(index, ast.Name) and index.id in ("t", "step", "k", "i", "n")


def _mutate(node: ast.AST, operator: str, variant: int) -> ast.AST:
    """A mutated copy of ``node``."""
    new = copy.deepcopy(node)
    if operator == "arith-swap":
        new.op = _SWAP[type(node.op)]()
    elif operator == "drop-term":
        return copy.deepcopy(node.left if variant == 0 else node.right)
    elif operator == "compare-boundary":
        new.ops = [_BOUNDARY[type(node.ops[0])]()]
    elif operator == "constant":
        value = node.value
        new.value = (1 if value == 0 else value * 1.5) if isinstance(value, float) or value not in (0, 1) else value + 1
        if isinstance(value, int) and not isinstance(new.value, int):
            new.value = value + 1
    elif operator == "sign-flip":
        return copy.deepcopy(node.operand)
    elif operator == "swap-args":
        new.args[0], new.args[1] = new.args[1], new.args[0]
    elif operator == "detach" and variant == 0:
        return copy.deepcopy(node.func.value)
    elif operator == "detach":
        new.value = ast.Call(ast.Attribute(copy.deepcopy(node.value), "detach", ast.Load()), [], [])
    elif operator == "time-shift":
        new.slice = ast.BinOp(copy.deepcopy(node.slice), ast.Sub(), ast.Constant(1))
    return new


def _enumerate(path: Path, names: set[str], root: Path) -> list[tuple[Mutant, int]]:
    """Every mutant of the named top-level definitions of ``path``, with its index in walk order."""
    tree = ast.parse(path.read_text("utf-8"))
    rel = path.relative_to(root).as_posix()
    out = []
    seen: dict[str, int] = {}
    for k, (node, op, variant) in enumerate(_points(tree, names)):
        before = ast.unparse(node)
        after = ast.unparse(_mutate(node, op, variant))
        if before == after:
            continue
        mid = f"{rel}:{node.lineno}:{node.col_offset}:{op}" + (f":{variant}" if variant else "")
        # Nested operators can start at the same column (`a * b + c`): the outer one, met first, keeps the plain id.
        seen[mid] = seen.get(mid, 0) + 1
        mid += f"@{seen[mid]}" if seen[mid] > 1 else ""
        out.append((Mutant(mid, rel, node.lineno, op, before, after, node.end_lineno or node.lineno), k))
    return out


def _points(tree: ast.Module, names: set[str]) -> list[tuple[ast.AST, str, int]]:
    return [c for d in tree.body if isinstance(d, (ast.FunctionDef, ast.ClassDef)) and d.name in names
            for c in _candidates(d)]


def mutated_module(path: Path, names: set[str], index: int) -> ast.Module:
    """The module's syntax tree with mutation point ``index`` applied, every node at its original line (so
    tracebacks and coverage name the file's real lines)."""
    tree = ast.parse(path.read_text("utf-8"))
    node, op, variant = _points(tree, names)[index]
    replacement = ast.copy_location(_mutate(node, op, variant), node)

    class Swap(ast.NodeTransformer):
        def generic_visit(self, n):
            return replacement if n is node else super().generic_visit(n)

    return ast.fix_missing_locations(Swap().visit(tree))


def sample(items: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` items, spread evenly over the list (deterministic)."""
    if len(items) <= limit:
        return items
    return [items[(i * len(items)) // limit] for i in range(limit)]


# --- running a paper's mutants ----------------------------------------------------------------------------

_EXIT = {0: "survived", 10: "killed_assert", 11: "killed_error", 12: "timed_out", 13: "invalid", 14: "stillborn",
         15: "not-swappable"}


def _raised_at(exc: BaseException, site: tuple[str, int, int, bool]) -> bool:
    """Did the exception come out of the mutated expression itself?

    Such a mutant is stillborn: the changed expression cannot be evaluated at all (e.g. swapped arguments of
    ``torch.where``), as a statically typed program would fail to compile. No assertion can ever see it, so it is
    reported apart and not counted; a crash anywhere else still counts as a kill by error. For swapped arguments
    (``deep``), a call that fails anywhere beneath the mutated line counts too: arguments of the wrong kind are a
    type error wherever the callee trips on them.
    """
    path, first, last, deep = site
    innermost, through = None, False
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            innermost = tb.tb_lineno
            through = through or first <= tb.tb_lineno <= last
        tb = tb.tb_next
    if deep:
        return through and isinstance(exc, (TypeError, AttributeError, IndexError, RuntimeError, ValueError))
    return innermost is not None and first <= innermost <= last


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


_CELL = [0]  # the cell being executed (read by the coverage tracer)


def _run_cells(cells: list[str], timeout: float, site: tuple[str, int, int, bool] | None = None, start: int = 0,
               namespace: dict[str, Any] | None = None, stop: int | None = None) -> int:
    """Execute code cells ``start`` to ``stop`` (in a fresh namespace unless given); the exit code says how it ended."""
    from IPython.core.inputtransformer2 import TransformerManager

    class Timeout(BaseException):
        pass

    def on_alarm(signum, frame):  # noqa: ARG001
        raise Timeout

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    transform = TransformerManager().transform_cell
    try:
        for i in range(start, len(cells) if stop is None else stop):
            _CELL[0] = i
            exec(compile(transform(cells[i]), f"<cell {i}>", "exec"), namespace)  # noqa: S102
    except Timeout:
        return 12
    except AssertionError:
        return 10
    except AttributeError as exc:
        # An added .detach() on something that is not a tensor is a stillborn mutant, not a kill.
        if "attribute 'detach'" in str(exc):
            return 13
        return 14 if site and _raised_at(exc, site) else 11
    except BaseException as exc:  # noqa: BLE001 - any other failure is a kill by error
        return 14 if site and _raised_at(exc, site) else 11
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return 0


def _trace_lines(files: set[str], out: str) -> None:
    """Record which lines of ``files`` run, and the first cell that runs each (the baseline's coverage), and write
    them to ``out`` at exit."""
    import atexit

    seen: dict[str, dict[int, int]] = {f: {} for f in files}

    def tracer(frame, event, arg):  # noqa: ARG001
        if frame.f_code.co_filename not in seen:
            return None  # do not trace inside other files
        def local(frame, event, arg):  # noqa: ARG001
            if event == "line":
                seen[frame.f_code.co_filename].setdefault(frame.f_lineno, _CELL[0])
            return local
        seen[frame.f_code.co_filename].setdefault(frame.f_lineno, _CELL[0])
        return local

    def dump() -> None:
        Path(out).write_text(json.dumps({f: sorted(v.items()) for f, v in seen.items()}))

    sys.settrace(tracer)
    atexit.register(dump)
    _DUMP.append(dump)


_DUMP: list = []  # the child's coverage writer: called before os._exit, which skips atexit


def _child_setup(root: Path) -> None:
    """A forked child's start: quiet, in the root under test, one thread, snnref to be imported fresh from root."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.chdir(root)
    import matplotlib

    matplotlib.use("Agg", force=True)  # figures are not looked at here; set in the child, not the caller's env
    import torch

    torch.set_num_threads(1)  # papers run side by side, one per core: an idle OpenMP pool only spins
    sys.path.insert(0, str(root))
    for name in [m for m in sys.modules if m == "snnref" or m.startswith("snnref.")]:
        del sys.modules[name]


def _in_child(cells: list[str], timeout: float, root: Path, patch: tuple[Path, ast.Module] | None,
              coverage: tuple[set[str], str] | None = None, site: tuple[str, int, int, bool] | None = None) -> int:
    """Forked child: install the mutated module (if any) under its real name, then run the cells."""
    _child_setup(root)
    if patch is not None:
        import types

        path, tree = patch
        name = _module_name(path, root)
        module = types.ModuleType(name)
        module.__file__ = str(path)
        module.__package__ = name.rpartition(".")[0]
        sys.modules[name] = module
        try:
            exec(compile(tree, str(path), "exec"), module.__dict__)  # noqa: S102
            parent, _, child = name.rpartition(".")
            if parent:  # `import snnref.pkg.mod as m` looks the module up as an attribute of its package
                import importlib

                setattr(importlib.import_module(parent), child, module)
        except BaseException:  # noqa: BLE001 - a mutant that breaks the import is killed by error
            return 11
    if coverage is not None:
        _trace_lines(*coverage)
    return _run_cells(cells, timeout, site)


def _fork_run(cells: list[str], timeout: float, root: Path, patch: tuple[Path, ast.Module] | None,
              coverage: tuple[set[str], str] | None = None, site: tuple[str, int, int, bool] | None = None) -> str:
    pid = os.fork()
    if pid == 0:
        code = 11
        try:
            code = _in_child(cells, timeout, root, patch, coverage, site)
        finally:
            sys.settrace(None)
            for dump in _DUMP:
                dump()
            os._exit(code)
    return _wait(pid, timeout)


def _wait(pid: int, timeout: float) -> str:
    """The outcome of child ``pid``, killed if it overruns ``timeout`` (plus a grace period)."""
    deadline = time.monotonic() + timeout + 15  # C code can ignore SIGALRM: the parent kills it
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return _EXIT.get(code, "killed_error")
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timed_out"
        time.sleep(0.01)


# --- starting a mutant at the first cell that runs its function ---------------------------------------------
#
# Cells before the first call of the mutated function run the same with or without the mutant, so one driver
# process runs the notebook once and, at each cell boundary, forks the mutants whose function first runs in that
# cell. The fork gives the already imported function the mutated code in place (every reference to it, such as
# `from snnref.x import f` or a dict of functions, then sees it). Mutants used from the first cell, or whose
# function cannot be patched in place, run the whole notebook with the mutated module imported fresh.

def first_use(path: Path, line: int, first_cell: dict[int, int]) -> int:
    """The first cell that runs the body of the top-level function or method holding ``line`` (0 if none)."""
    for d in ast.parse(path.read_text("utf-8")).body:
        if not (isinstance(d, (ast.FunctionDef, ast.ClassDef)) and d.lineno <= line <= (d.end_lineno or 0)):
            continue
        # A nested function or lambda is made anew each time its top-level function runs: that run is what counts.
        scope = d if isinstance(d, ast.FunctionDef) else next(
            (f for f in d.body if isinstance(f, ast.FunctionDef) and f.lineno <= line <= (f.end_lineno or 0)), None)
        if scope is None or line < scope.body[0].lineno:  # class body or decorator: runs at import
            return 0
        body = range(scope.body[0].lineno, (scope.end_lineno or 0) + 1)
        return min((c for ln, c in first_cell.items() if ln in body), default=0)
    return 0


def _owner(tree: ast.Module, names: set[str], index: int) -> str:
    """The top-level definition that holds mutation point ``index``."""
    k = 0
    for d in tree.body:
        if isinstance(d, (ast.FunctionDef, ast.ClassDef)) and d.name in names:
            k += sum(1 for _ in _candidates(d))
            if index < k:
                return d.name
    raise IndexError(index)


def _plain_functions(obj: Any) -> dict[str, Any]:
    """The Python functions behind ``obj`` (itself, or a class's methods), decorators unwrapped, by name."""
    import inspect
    import types

    if not isinstance(obj, type):
        f = inspect.unwrap(obj) if callable(obj) else None
        return {"": f} if isinstance(f, types.FunctionType) else {}
    out = {}
    for name, v in vars(obj).items():
        parts = {"get": v.fget, "set": v.fset, "del": v.fdel} if isinstance(v, property) else \
            {"": v.__func__} if isinstance(v, (staticmethod, classmethod)) else {"": v}
        for part, f in parts.items():
            f = inspect.unwrap(f) if f is not None else None
            if isinstance(f, types.FunctionType):
                out[f"{name}.{part}"] = f
    return out


def _swap_in(path: Path, names: set[str], index: int, root: Path) -> bool:
    """Give the imported definition holding mutation point ``index`` its mutated code, in place. False if the
    module is not imported or the definitions do not match one to one."""
    import inspect

    module = sys.modules.get(_module_name(path, root))
    owner = _owner(ast.parse(path.read_text("utf-8")), names, index)
    if module is None or owner not in vars(module):
        return False
    node = next(d for d in mutated_module(path, names, index).body
                if isinstance(d, (ast.FunctionDef, ast.ClassDef)) and d.name == owner)
    scope = dict(vars(module))
    exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), scope)  # noqa: S102
    old, new = _plain_functions(vars(module)[owner]), _plain_functions(scope[owner])
    # A generator made before the fork keeps the old code, though its body has not run yet: not patchable.
    lazy = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
    if not old or old.keys() != new.keys() or any(
            old[k].__code__.co_freevars != new[k].__code__.co_freevars or old[k].__code__.co_flags & lazy for k in old):
        return False
    for k in old:
        old[k].__code__ = new[k].__code__
    return True


def _drive(cells: list[str], timeout: float, root: Path, late: dict[int, list[tuple[int, Path, set[str], int, tuple]]],
           out: str) -> None:
    """Forked driver: run the cells once; before cell k, fork each mutant of ``late[k]`` from this state."""
    _child_setup(root)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    outcomes: dict[int, str] = {}
    try:
        for k in range(max(late) + 1):  # the cells after the last fork point are not needed here
            for key, path, names, index, site in late.get(k, []):
                pid = os.fork()
                if pid == 0:
                    code = 11
                    try:
                        code = _run_cells(cells, timeout, site, start=k, namespace=namespace) \
                            if _swap_in(path, names, index, root) else 15
                    finally:
                        os._exit(code)
                outcomes[key] = _wait(pid, timeout)
            if k < max(late) and _run_cells(cells, 300, start=k, stop=k + 1, namespace=namespace) != 0:
                break  # the unmutated cell failed here: the mutants not run yet go the whole way in the caller
    finally:
        Path(out).write_text(json.dumps(outcomes))


def _run_late(cells: list[str], timeout: float, root: Path,
              late: dict[int, list[tuple[int, Path, set[str], int, tuple]]]) -> dict[int, str]:
    """Outcomes of the mutants that start after the first cell (key -> outcome), from one driver process."""
    if not late:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "outcomes.json")
        pid = os.fork()
        if pid == 0:
            try:
                _drive(cells, timeout, root, late, out)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)  # every mutant has its own deadline inside, and every cell of the driver one
        try:
            return {int(k): v for k, v in json.loads(Path(out).read_text()).items()}
        except (OSError, ValueError):
            return {}


def mutate_paper(entry: dict[str, Any], root: Path, limit: int = MAX_MUTANTS) -> dict[str, Any]:
    """Run every (sampled; ``limit`` 0: every) mutant of one paper; returns its report record."""
    root = Path(root).resolve()  # coverage is recorded by absolute file name
    from snnkb.warm import preload

    preload()  # the runner's warm state: heavy imports, lazy torch.testing imports, a drawn figure
    __import__("IPython.core.inputtransformer2")
    import jupytext
    import warnings

    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    nb_text = (root / entry["notebook"]).read_text("utf-8")
    cells = [c.source for c in jupytext.reads(nb_text, fmt="py:percent").cells if c.cell_type == "code"]
    targets = target_functions(entry["impl"], nb_text, root)
    record: dict[str, Any] = {"mutants": 0, "killed_assert": 0, "killed_error": 0, "timed_out": 0,
                              "survivors": [], "equivalent": [], "errors": [], "invalid": 0, "stillborn": []}
    # The unmutated run must pass; it also records which lines the notebook executes (only those are mutated:
    # a branch the notebook never reaches, e.g. the soft reset in a hard-reset paper, is not its to check).
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cov_file = str(Path(tmp) / "coverage.json")
        baseline = _fork_run(cells, 300, root, None, ({str(p) for p in targets}, cov_file))
        first_cell = {Path(f): dict(map(tuple, lines)) for f, lines in json.loads(Path(cov_file).read_text()).items()} \
            if Path(cov_file).exists() else {}
    covered = {f: set(lines) for f, lines in first_cell.items()}
    base_seconds = time.perf_counter() - t0
    if baseline != "survived":
        record.update(status="baseline-failed", seconds=round(time.perf_counter() - start, 2), score=None)
        return record
    # The paper's own module first, so sampling keeps all of it when the core adds many points.
    own = _module_path(entry["impl"].split(":")[0], root)
    files = sorted(targets, key=lambda p: (p != own, str(p)))
    candidates = [(path, names, m, k) for path in files for names in [targets[path]] for m, k in
                  _enumerate(path, names, root) if m.line in covered.get(path, set())]
    own_count = sum(1 for c in candidates if c[0] == own)
    chosen = (candidates if limit <= 0 or len(candidates) <= limit else
              sample(candidates[:own_count], min(own_count, limit)) +
              sample(candidates[own_count:], max(0, limit - own_count)))
    equivalent = {e["id"]: e["reason"] for e in entry.get("equivalent_mutants", [])}
    timeout = max(10.0, 5 * base_seconds)
    late: dict[int, list[tuple[int, Path, set[str], int, tuple]]] = {}
    for key, (path, names, mutant, index) in enumerate(chosen):
        k = first_use(path, mutant.line, first_cell.get(path, {}))
        if k > 0 and mutant.id not in equivalent:
            site = (str(path), mutant.line, mutant.end_line, mutant.operator == "swap-args")
            late.setdefault(k, []).append((key, path, names, index, site))
    outcomes = _run_late(cells, timeout, root, late)
    for key, (path, names, mutant, index) in enumerate(chosen):
        if mutant.id in equivalent:
            record["equivalent"].append({**asdict(mutant), "reason": equivalent[mutant.id]})
            continue
        site = (str(path), mutant.line, mutant.end_line, mutant.operator == "swap-args")
        outcome = outcomes.get(key, "not-swappable")
        if outcome == "not-swappable":  # the whole notebook, the mutated module imported fresh
            outcome = _fork_run(cells, timeout, root, (path, mutated_module(path, names, index)), site=site)
        if outcome == "invalid":  # not a program a person could write (e.g. .detach() on a tuple): not counted
            record["invalid"] += 1
            continue
        if outcome == "stillborn":  # the mutated expression itself cannot run: listed, not counted
            record["stillborn"].append(mutant.id)
            continue
        record["mutants"] += 1
        if outcome == "survived":
            record["survivors"].append(asdict(mutant))
        else:
            record[outcome] += 1
            if outcome == "killed_error":
                record["errors"].append(mutant.id)
    n = record["mutants"]
    record["score"] = round(record["killed_assert"] / n, 4) if n else None
    record["status"] = gate_status(record)
    record["seconds"] = round(time.perf_counter() - start, 2)
    return record


# --- the whole catalog ------------------------------------------------------------------------------------

def gate_status(record: dict[str, Any]) -> str:
    """'ok' when the paper has enough counted mutants and enough of them are killed by an assertion."""
    n, score = record.get("mutants") or 0, record.get("score")
    return "ok" if n >= MIN_MUTANTS and score is not None and score >= GATE else "below-gate"


def report_path(root: Path) -> Path:
    return root / "build" / "mutation.json"


def _cache_key(entry: dict[str, Any], root: Path, limit: int = MAX_MUTANTS) -> str:
    from snnkb.verify import inputs_hash

    h = hashlib.sha256(inputs_hash(root / entry["notebook"], root).encode())
    h.update(json.dumps([TOOL_VERSION, limit, entry["impl"], entry.get("equivalent_mutants", [])]).encode())
    return h.hexdigest()[:16]


def _paper_task(args: tuple[dict[str, Any], str, int]) -> tuple[str, dict[str, Any]]:
    entry, root, limit = args
    return entry["id"], mutate_paper(entry, Path(root), limit)


def run(root: Path = REPO_ROOT, only: list[str] | None = None, jobs: int | None = None,
        progress: bool = True, limit: int = MAX_MUTANTS) -> dict[str, Any]:
    """Mutate every paper whose inputs changed since its last run (one worker process per paper at a time)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    from snnkb.catalog import load

    cat = load(root / "catalog.yaml")
    if cat.problems:
        raise SystemExit("\n".join(map(str, cat.problems)))
    try:
        previous = json.loads(report_path(root).read_text("utf-8"))["papers"]
    except (OSError, ValueError, KeyError):
        previous = {}
    papers, todo = {}, []
    for entry in cat.papers:
        if only and entry["id"] not in only:
            if entry["id"] in previous:
                papers[entry["id"]] = previous[entry["id"]]
            continue
        key = _cache_key(entry, root, limit)
        if previous.get(entry["id"], {}).get("cache_key") == key:
            papers[entry["id"]] = previous[entry["id"]]
        else:
            todo.append((entry, key))
    start = time.perf_counter()
    if todo:
        # Longest first (by the notebook's last verify time), so a slow paper does not start last and run alone.
        from snnkb.verify import load_report

        timing = load_report(root)["papers"]
        todo.sort(key=lambda item: -float((timing.get(item[0]["id"]) or {}).get("seconds") or 0))
        ctx = multiprocessing.get_context("fork")
        keys = {e["id"]: k for e, k in todo}
        with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1, mp_context=ctx) as pool:
            futures = [pool.submit(_paper_task, (e, str(root), limit)) for e, _ in todo]
            bar = tqdm(total=len(futures), desc="mutate", unit="paper", disable=not progress, file=sys.stderr)
            for fut in as_completed(futures):
                pid, record = fut.result()
                record["cache_key"] = keys[pid]
                papers[pid] = record
                bar.set_postfix_str(f"{pid}: {record.get('score')}", refresh=False)
                bar.update(1)
            bar.close()
    executed = {e["id"] for e, _ in todo}
    path = report_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        # Runs for different papers may overlap (`snnkb mutate A` beside `snnkb mutate B`): under the lock, start
        # from the file as it is now and replace only the records this run produced.
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            latest = json.loads(path.read_text("utf-8"))["papers"]
        except (OSError, ValueError, KeyError):
            latest = {}
        ids = {e["id"] for e in cat.papers}
        merged = {pid: r for pid, r in latest.items() if pid in ids}
        merged.update({pid: r for pid, r in papers.items() if pid in executed or pid not in merged})
        report = {"papers": dict(sorted(merged.items())), "seconds": round(time.perf_counter() - start, 1),
                  "gate": {"min_mutants": MIN_MUTANTS, "killed_by_assertion": GATE}}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, path)
    report["executed"] = sorted(executed)
    return report


def _main(args: argparse.Namespace) -> int:
    only = list(args.only)
    if args.changed_since:
        from snnkb.verify import _jobs, affected, changed_files

        jobs, _ = _jobs(args.root, args.root / "catalog.yaml")
        papers = [j for j in jobs if not j.id.startswith("labs/")]
        only = affected(args.root, papers, changed_files(args.root, args.changed_since))
        print(f"mutate: {len(only)} affected paper(s): {', '.join(only) or 'none'}")
        if not only:
            return 0
    report = run(args.root, only or None, args.jobs, progress=not args.quiet, limit=args.limit)
    failing = 0
    for pid, r in report["papers"].items():
        if only and pid not in only:
            continue
        status = "baseline-failed" if r.get("status") == "baseline-failed" else gate_status(r)  # cached ones too
        if status != "ok":
            failing += 1
            few = f"; fewer than {MIN_MUTANTS}" if (r.get("mutants") or 0) < MIN_MUTANTS else ""
            print(f"  {pid}: {status} (score {r.get('score')}, {r.get('mutants')} mutants{few})", file=sys.stderr)
            for s in r.get("survivors", [])[:10]:
                print(f"    survived {s['id']}: {s['before']}  ->  {s['after']}", file=sys.stderr)
            for mid in r.get("errors", [])[:10]:
                print(f"    killed only by an error (no assertion saw it) {mid}", file=sys.stderr)
    considered = len([pid for pid in report["papers"] if not only or pid in only])
    print(f"mutate: {considered - failing}/{considered} papers meet the gate "
          f"(>= {MIN_MUTANTS} mutants, >= {GATE:.0%} killed by an assertion); "
          f"ran {len(report['executed'])} in {report['seconds']} s")
    if failing and args.gate:
        print("mutate: below the gate. Add a claim to the notebook that fails on each mutant above, or, if a mutant "
              "cannot change anything the paper is about, list it under the entry's equivalent_mutants with a "
              "one-line reason a reviewer can check. If you moved lines of a shared snnref file, run "
              "`snnkb remap-equivalents` first: listed equivalents keep their line numbers.", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `mutate` subcommand."""
    p = sub.add_parser("mutate", help="mutation-test the implementations against their notebooks")
    p.add_argument("only", nargs="*", metavar="ID")
    p.add_argument("--root", type=Path, default=REPO_ROOT)
    p.add_argument("-j", "--jobs", type=int, default=None)
    p.add_argument("--gate", action="store_true", help="exit 1 if any paper is below the gate")
    p.add_argument("--changed-since", metavar="REF", help="only papers whose notebook or snnref inputs changed")
    p.add_argument("--limit", type=int, default=MAX_MUTANTS, metavar="N",
                   help=f"mutants per paper, an even sample when there are more (default {MAX_MUTANTS}, the gate's); "
                        "0: every mutant of every line the notebook runs")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_main)
