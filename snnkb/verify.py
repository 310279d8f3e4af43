"""`snnkb verify`: execute every paper's notebook and record what passed.

By default each notebook runs in a fresh fork of a warm process (see snnkb.warm); ``--fresh-kernels`` runs each in
a new Jupyter kernel through nbclient instead, for comparison and as a fallback.

A notebook is re-run only when its inputs change: the notebook text, the snnref modules it imports (followed
transitively through their own imports, read with ast) and requirements.lock. The record is
build/verification.json; executed notebooks are written as build/notebooks/<id>.ipynb.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snnkb import REPO_ROOT

BUILD = "build"
REPORT = "verification.json"
DEFAULT_TIMEOUT = 120  # seconds per cell: a hung cell fails its paper instead of hanging the run


@dataclass(frozen=True)
class Job:
    id: str
    notebook: Path
    impl: str | None = None  # module:object, whose first call the warm runner describes


def report_path(root: Path) -> Path:
    return root / BUILD / REPORT


def load_report(root: Path) -> dict[str, Any]:
    try:
        data = json.loads(report_path(root).read_text("utf-8"))
        return data if isinstance(data.get("papers"), dict) else {"papers": {}}
    except (OSError, ValueError):
        return {"papers": {}}


# --- input hashing ----------------------------------------------------------------------------------------

def _imported_snnref_modules(source: str) -> set[str]:
    """Names of snnref modules a piece of Python source imports (``import snnref.x`` / ``from snnref.x import y``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "snnref")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "snnref":
                found.add(node.module)
                # `from snnref.pkg import module` imports a submodule, too.
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _module_files(module: str, root: Path) -> list[Path]:
    """The files that importing ``module`` executes: each package __init__ on the way, then the module."""
    parts = module.split(".")
    files = []
    for i in range(1, len(parts) + 1):
        base = root.joinpath(*parts[:i])
        if (base / "__init__.py").is_file():
            files.append(base / "__init__.py")
        elif base.with_suffix(".py").is_file():
            files.append(base.with_suffix(".py"))
    return files


def dependency_files(notebook_text: str, root: Path) -> list[Path]:
    """Every snnref source file the notebook can execute, followed transitively."""
    seen: set[Path] = set()
    todo = list(_imported_snnref_modules(notebook_text))
    while todo:
        for path in _module_files(todo.pop(), root):
            if path not in seen:
                seen.add(path)
                todo.extend(_imported_snnref_modules(path.read_text("utf-8")))
    return sorted(seen)


def inputs_hash(notebook: Path, root: Path) -> str:
    """Content hash of everything that decides a notebook's outcome."""
    text = notebook.read_text("utf-8")
    h = hashlib.sha256()
    files = [notebook, *dependency_files(text, root), root / "requirements.lock"]
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()[:16]


def fingerprint(root: Path, catalog: Path) -> str:
    """Size and mtime of every file a verify run reads: equal fingerprints mean nothing can have changed.

    Cheap (no parsing, no hashing of contents), so a no-op run decides in milliseconds; any difference falls back
    to the content hashes above, which are what decide whether a notebook runs again.
    """
    h = hashlib.sha256()
    files = [catalog, root / "requirements.lock"]
    for folder, pattern in (("notebooks", "*.py"), ("snnref", "*.py"), (f"{BUILD}/notebooks", "*.ipynb")):
        files += sorted((root / folder).rglob(pattern))
    for path in files:
        try:
            st = path.stat()
            h.update(f"{path}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
        except OSError:
            h.update(f"{path}\0missing\n".encode())
    return h.hexdigest()[:16]


# --- execution --------------------------------------------------------------------------------------------

def execute(job: Job, root: Path, timeout: int) -> dict[str, Any]:
    """Run one notebook in a fresh kernel; never raises: failures are returned as a record."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    start = time.perf_counter()
    out = root / BUILD / "notebooks" / f"{job.id}.ipynb"
    error = None
    nb = None
    try:
        nb = jupytext.reads(job.notebook.read_text("utf-8"), fmt="py:percent")
        client = NotebookClient(
            nb, timeout=timeout, allow_errors=False, kernel_name="python3",
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
    except CellTimeoutError:
        error = f"a cell ran longer than the {timeout} s timeout"
    except DeadKernelError as exc:
        error = f"the kernel died: {exc}"
    except CellExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}".strip() or str(exc)
    except Exception as exc:  # a broken notebook file or kernel start must fail this paper, not the run
        error = f"{type(exc).__name__}: {exc}"
    seconds = round(time.perf_counter() - start, 2)
    if nb is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    return {"status": "failed" if error else "verified", "seconds": seconds, "error": error}


def _execute_all(jobs: list[Job], root: Path, timeout: int, workers: int, fresh_kernels: bool):
    """Yield (id, record) as notebooks finish; executed notebooks are written under build/notebooks/."""
    if fresh_kernels:
        # Kernels inherit the environment: give each one core's share of the threads, as the warm runner does.
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(execute, job, root, timeout): job for job in jobs}
            for fut in as_completed(futures):
                yield futures[fut].id, fut.result()
        return
    from snnkb import warm

    warm.preload()
    out_dir = root / BUILD / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    impls = {j.id: j.impl for j in jobs if j.impl}
    for pid, record, nb_json in warm.run_many([(j.id, j.notebook) for j in jobs], root, timeout, workers, impls):
        if nb_json is not None:
            out = out_dir / f"{pid}.ipynb"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(nb_json, "utf-8")
        yield pid, record


def _jobs(root: Path, catalog: Path) -> tuple[list[Job], list[str]]:
    """Notebook jobs from the catalog and the labs, and the ids whose notebook file is missing."""
    from snnkb.catalog import load

    cat = load(catalog)
    if cat.problems:
        raise SystemExit("\n".join(map(str, cat.problems)))
    jobs, missing = [], []
    for p in cat.papers:
        nb = root / str(p.get("notebook", ""))
        if p.get("notebook") and nb.is_file():
            jobs.append(Job(str(p["id"]), nb, str(p["impl"]) if isinstance(p.get("impl"), str) else None))
        else:
            missing.append(str(p["id"]))
    # Labs compare several papers' methods; they are verified like papers, under the id "labs/<name>".
    jobs += [Job(f"labs/{nb.stem}", nb) for nb in sorted((root / "notebooks" / "labs").glob("*.py"))]
    return jobs, missing


def run(
    root: Path = REPO_ROOT,
    catalog: Path | None = None,
    *,
    jobs: int | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    only: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
    fresh_kernels: bool = False,
) -> dict[str, Any]:
    """Verify the catalog's notebooks (cached by inputs hash); returns and writes the report."""
    catalog = catalog or root / "catalog.yaml"
    stamp = fingerprint(root, catalog)
    previous_report = load_report(root)
    if (not only and not force and previous_report.get("fingerprint") == stamp
            and all(r.get("status") == "verified" for r in previous_report["papers"].values())):
        return {**previous_report, "executed": []}  # nothing changed since a run in which everything passed
    all_jobs, missing = _jobs(root, catalog)
    if only:
        unknown = sorted(set(only) - {j.id for j in all_jobs} - set(missing))
        if unknown:
            raise SystemExit(f"unknown paper id(s): {', '.join(unknown)}")
    previous = previous_report["papers"]
    papers: dict[str, Any] = {}
    todo: list[tuple[Job, str]] = []
    for job in all_jobs:
        digest = inputs_hash(job.notebook, root)
        old = previous.get(job.id, {})
        selected = not only or job.id in only
        fresh = (old.get("inputs_hash") == digest and old.get("status") == "verified"
                 and (root / BUILD / "notebooks" / f"{job.id}.ipynb").is_file())
        if selected and (force or not fresh):
            todo.append((job, digest))
        elif old:
            papers[job.id] = old
    for pid in missing:
        papers[pid] = {"status": "missing", "seconds": 0.0, "error": "notebook file not found", "inputs_hash": None,
                       "date": None}
    if todo:
        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        bar = _progress(len(todo), progress)
        digests = {job.id: digest for job, digest in todo}
        for pid, record in _execute_all([job for job, _ in todo], root, timeout, workers, fresh_kernels):
            record["inputs_hash"] = digests[pid]
            record["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            papers[pid] = record
            bar.set_postfix_str(f"{pid}: {record['status']}", refresh=False)
            bar.update(1)
        bar.close()
    report: dict[str, Any] = {"papers": dict(sorted(papers.items()))}
    if not only:
        report["fingerprint"] = fingerprint(root, catalog)  # after the run: it wrote build/notebooks/
    path = report_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, path)
    report["executed"] = [job.id for job, _ in todo]
    return report


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="verify", unit="nb", disable=not enabled, file=sys.stderr)


def changed_files(root: Path, ref: str) -> set[str]:
    """Repository paths changed since ``ref``: committed, uncommitted and untracked."""
    import subprocess

    def git(*cmd: str) -> list[str]:
        proc = subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"git {' '.join(cmd)} failed: {proc.stderr.strip()}")
        return proc.stdout.splitlines()

    return set(git("diff", "--name-only", ref)) | set(git("ls-files", "--others", "--exclude-standard"))


def affected(root: Path, jobs: list[Job], changed: set[str]) -> list[str]:
    """Ids whose notebook or any snnref file it imports is among ``changed`` (all of them if the lock changed)."""
    if "requirements.lock" in changed:
        return [j.id for j in jobs]
    out = []
    for job in jobs:
        files = [job.notebook, *dependency_files(job.notebook.read_text("utf-8"), root)]
        if any(f.relative_to(root).as_posix() in changed for f in files):
            out.append(job.id)
    return out


def shard(ids: list[str], spec: str) -> list[str]:
    """The k-th of N round-robin slices of the sorted ids, for ``spec`` = "k/N" (1-based)."""
    try:
        k, n = (int(x) for x in spec.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        raise SystemExit(f"--shard must be k/N with 1 <= k <= N, got {spec!r}") from None
    return [pid for i, pid in enumerate(sorted(ids)) if i % n == k - 1]


def merge_reports(paths: list[Path], out: Path) -> dict[str, Any]:
    """Combine shard reports: for each paper, the most recent record."""
    papers: dict[str, Any] = {}
    for path in paths:
        for pid, record in json.loads(path.read_text("utf-8"))["papers"].items():
            if pid not in papers or (record.get("date") or "") > (papers[pid].get("date") or ""):
                papers[pid] = record
    report = {"papers": dict(sorted(papers.items()))}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return report


def _main(args: argparse.Namespace) -> int:
    if args.merge:
        report = merge_reports(args.merge, report_path(args.root))
        print(f"merged {len(args.merge)} report(s): {len(report['papers'])} papers")
        return 0
    only = list(args.only)
    if args.changed_since or args.shard:
        catalog_jobs, _ = _jobs(args.root, args.catalog or args.root / "catalog.yaml")
        ids = [j.id for j in catalog_jobs]
        if args.changed_since:
            ids = affected(args.root, catalog_jobs, changed_files(args.root, args.changed_since))
        if args.shard:
            ids = shard(ids, args.shard)
        only = [pid for pid in ids if not only or pid in only]
        print(f"verify: {len(only)} selected paper(s)" + (f": {', '.join(only)}" if len(only) <= 12 else ""))
        if not only:
            return 0
    report = run(args.root, args.catalog, jobs=args.jobs, timeout=args.timeout, only=only or None,
                 force=args.force, progress=not args.quiet, fresh_kernels=args.fresh_kernels)
    papers = report["papers"]
    executed = report["executed"]
    bad = {pid: r for pid, r in papers.items() if r["status"] != "verified"}
    verified = len(papers) - len(bad)
    missing = sum(r["status"] == "missing" for r in papers.values())
    cached = len(papers) - len(executed) - missing
    print(f"verify: {verified}/{len(papers)} verified; executed {len(executed)}, unchanged (cached) {cached}")
    for pid, r in bad.items():
        print(f"  {r['status'].upper()} {pid}: {r['error']}", file=sys.stderr)
    return 1 if bad else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `verify` subcommand."""
    p = sub.add_parser("verify", help="execute the notebooks (cached by content hash); write build/verification.json")
    p.add_argument("only", nargs="*", metavar="ID", help="verify only these papers")
    p.add_argument("--root", type=Path, default=REPO_ROOT)
    p.add_argument("--catalog", type=Path, default=None)
    p.add_argument("-j", "--jobs", type=int, default=None, help="notebooks run at once (default: CPU cores)")
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds allowed per cell")
    p.add_argument("--force", action="store_true", help="ignore the cache and run again")
    p.add_argument("--changed-since", metavar="REF", help="only papers whose notebook or snnref inputs changed since REF")
    p.add_argument("--shard", metavar="K/N", help="only the K-th of N slices of the papers (for a CI matrix)")
    p.add_argument("--merge", nargs="+", type=Path, metavar="REPORT",
                   help="combine shard reports into build/verification.json instead of running")
    p.add_argument("--fresh-kernels", action="store_true",
                   help="run each notebook in a new Jupyter kernel (nbclient) instead of a fork of a warm process")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_main)
