"""The warm notebook runner: import the heavy libraries once, run each notebook in a fresh fork of that state.

A fresh Jupyter kernel spends most of a short notebook's time starting up and importing torch. Here the parent
process imports torch, numpy, matplotlib, IPython and the snnref core once; every notebook then runs in its own
forked child (so no notebook can see another's globals or monkeypatches) inside an IPython shell whose display
hooks turn results, prints, figures and errors into the same nbformat outputs a kernel would produce.
A cell that runs past the timeout is interrupted (SIGALRM); a child that dies or hangs in C code is killed and
reported, and the run goes on.
"""

from __future__ import annotations

import base64
import io
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Iterator

#: Imported once in the parent so every forked child starts with them loaded.
PRELOAD = ("torch", "numpy", "matplotlib", "matplotlib.pyplot", "matplotlib_inline.backend_inline",
           "IPython.core.interactiveshell", "jupytext", "nbformat", "snnref.neuron", "snnref.surrogate",
           # torch.testing.assert_close imports this lazily on its first call (sympy and all: seconds per child)
           "torch.distributed.tensor")


def preload() -> None:
    """Import the shared heavy modules (no computation: a torch thread pool must not exist before fork)."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # a notebook that needs it will report the ImportError itself
    _warm_matplotlib()


def _warm_matplotlib() -> None:
    """Draw one throwaway figure, so children inherit a built mathtext parser and loaded fonts (seconds each)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return
    fig = Figure(figsize=(2, 2))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label=r"$\alpha_t$")
    ax.set_xlabel(r"$\tau_m\,\mathrm{(ms)}$")
    ax.set_title("warm-up")
    ax.legend()
    fig.tight_layout()
    fig.savefig(io.BytesIO(), format="png")


class CellTimeout(Exception):
    """Raised inside a cell that ran longer than its allowance."""


def _b64(data: dict[str, Any]) -> dict[str, Any]:
    return {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for k, v in data.items()}


class _Stream(io.TextIOBase):
    """stdout/stderr replacement that appends to the current cell's outputs, merging consecutive writes."""

    def __init__(self, sink: list[dict[str, Any]], name: str):
        self.sink, self.name = sink, name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            outputs = self.sink[-1] if self.sink else None
            if outputs is not None:
                if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1]["name"] == self.name:
                    outputs[-1]["text"] += text
                else:
                    outputs.append({"output_type": "stream", "name": self.name, "text": text})
        return len(text)


def _make_shell(current: list[list[dict[str, Any]]]) -> Any:
    """An IPython shell whose results, displays and errors land in ``current[-1]`` as nbformat outputs."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):  # noqa: ARG002
            current[-1].append({"output_type": "display_data", "data": _b64(data), "metadata": metadata or {}})

        def clear_output(self, wait=False):  # noqa: ARG002
            current[-1].clear()

    class Hook(DisplayHook):
        def start_displayhook(self):
            self._result: dict[str, Any] = {}

        def write_output_prompt(self):
            self._result["execution_count"] = self.prompt_count

        def write_format_data(self, format_dict, md_dict=None):
            self._result.update(data=_b64(format_dict), metadata=md_dict or {})

        def finish_displayhook(self):
            sys.stdout.flush()
            if self._result.get("data"):
                current[-1].append({"output_type": "execute_result", **self._result})

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        def enable_gui(self, gui=None):  # the inline backend needs no GUI event loop
            pass

        def _showtraceback(self, etype, evalue, stb):
            current[-1].append({"output_type": "error", "ename": etype.__name__, "evalue": str(evalue),
                                "traceback": list(stb)})

    shell = Shell.instance(colors="nocolor")
    shell.enable_matplotlib("inline")
    return shell


def _child(nb_path: str, root: str, timeout: int, conn: Any, threads: int, impl: str | None = None) -> None:
    """Run one notebook in this (forked) process and send back (record, notebook JSON)."""
    import jupytext
    import nbformat
    import torch

    torch.set_num_threads(threads)  # notebooks run side by side: one core's share each, no oversubscription

    start = time.perf_counter()
    os.chdir(root)
    sys.path.insert(0, root)
    # The parent preloaded this repository's snnref; a notebook of another root (a contributor's copy, a test
    # fixture) must import that root's snnref instead.
    preloaded = getattr(sys.modules.get("snnref"), "__file__", None) or ""
    if preloaded and not Path(preloaded).resolve().is_relative_to(Path(root).resolve()):
        for name in [m for m in sys.modules if m == "snnref" or m.startswith("snnref.")]:
            del sys.modules[name]
    nb = jupytext.read(nb_path, fmt="py:percent")
    # What a Python kernel reports about itself, so the saved notebook matches a kernel-run one.
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {
        "name": "python", "version": ".".join(map(str, sys.version_info[:3])), "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": 3}, "pygments_lexer": "ipython3",
        "nbconvert_exporter": "python", "file_extension": ".py",
    }
    current: list[list[dict[str, Any]]] = [[]]
    sys.stdout, sys.stderr = _Stream(current, "stdout"), _Stream(current, "stderr")
    error = None
    io: dict[str, Any] = {}
    try:
        shell = _make_shell(current)
        if impl:
            from snnkb.shapes import record_io

            record_io(impl, io)  # the block gallery's shape table, from this notebook's first call

        def on_alarm(signum, frame):  # noqa: ARG001
            raise CellTimeout(f"a cell ran longer than the {timeout} s timeout")

        signal.signal(signal.SIGALRM, on_alarm)
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            count += 1
            current.append([])
            signal.alarm(timeout)
            result = shell.run_cell(cell.source, store_history=True)
            signal.alarm(0)
            cell.outputs = [nbformat.from_dict(o) for o in current[-1]]
            cell.execution_count = count
            exc = result.error_before_exec or result.error_in_exec
            if exc is not None:
                error = str(exc) if isinstance(exc, CellTimeout) else f"{type(exc).__name__}: {exc}".strip()
                break
    except BaseException as exc:  # the notebook must fail, the runner must not
        error = f"{type(exc).__name__}: {exc}"
    record = {"status": "failed" if error else "verified", "seconds": round(time.perf_counter() - start, 2),
              "error": error}
    if io:
        record["io"] = io
    conn.send((record, nbformat.writes(nb)))
    conn.close()
    os._exit(0)  # skip atexit handlers and finalizers inherited from the parent


def run_many(notebooks: list[tuple[str, Path]], root: Path, timeout: int, workers: int,
             impls: dict[str, str] | None = None) -> Iterator[tuple[str, dict, str | None]]:
    """Run each (id, path) in its own forked child, ``workers`` at a time; yield (id, record, notebook JSON or None).

    The parent stays single-threaded (forking a threaded process can deadlock the child) and waits on the
    children's pipes. A cell stuck in C code cannot be interrupted by SIGALRM, so the parent also kills a child
    that outlives a generous hard limit.
    """
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("fork")
    pending = list(notebooks)
    running: dict[Any, tuple[str, Any, float]] = {}  # pipe -> (id, process, start)
    hard_limit = timeout * 20 + 30
    threads = max(1, (os.cpu_count() or 1) // workers)
    while pending or running:
        while pending and len(running) < workers:
            pid, path = pending.pop(0)
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(str(path), str(root), timeout, send, threads,
                                                    (impls or {}).get(pid)), daemon=True)
            proc.start()
            send.close()
            running[recv] = (pid, proc, time.perf_counter())
        ready = wait(list(running), timeout=1.0)
        now = time.perf_counter()
        for conn in list(running):
            pid, proc, start = running[conn]
            overdue = now - start > hard_limit
            if conn not in ready and not overdue:
                continue
            del running[conn]
            result = None
            if conn in ready:
                try:
                    result = conn.recv()
                except EOFError:
                    pass  # the child died before sending
            if proc.is_alive() and result is None:
                proc.kill()
            proc.join()
            conn.close()
            if result is not None:
                yield pid, result[0], result[1]
                continue
            code = proc.exitcode
            if overdue:
                why = f"the notebook process did not finish within {hard_limit} s and was killed"
            elif code is not None and code < 0:
                why = f"the notebook process was killed by signal {signal.Signals(-code).name}"
            else:
                why = f"the notebook process exited with status {code} before reporting"
            yield pid, {"status": "failed", "seconds": round(now - start, 2), "error": why}, None
