"""`make bench`: every speed figure of the project, measured in one run on this machine, against its target.

Prints a table (median of several runs, with min and max) and writes build/bench.json, which the site's
Performance page shows. Parts: LIF layer vs peers, notebook verification (warm runner vs fresh kernels, no-op),
the three-language site build, mutation testing, and validation/page generation/site build of synthetic catalogs.
Usage: python -m benchmarks.run [--skip PART ...] [--repeat N]; a part skipped keeps its figures from the last
bench.json of this machine (each row says its part and date), so one part can be measured again alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PARTS = ["lif", "verify", "site", "mutate", "scale"]


def _run_timed(cmd: list[str], *, env: dict | None = None, cwd: Path = ROOT) -> tuple[float, int]:
    """(seconds, exit status) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"  note: {' '.join(cmd[:3])} exited {proc.returncode}: {' | '.join(tail)}", file=sys.stderr)
    return seconds, proc.returncode


def _timed(cmd: list[str], *, env: dict | None = None, cwd: Path = ROOT) -> float:
    return _run_timed(cmd, env=env, cwd=cwd)[0]


def _stats(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3),
            "runs": len(values)}


def bench_verify(repeat: int) -> list[dict]:
    snnkb = str(BIN / "snnkb")
    report = ROOT / "build" / "verification.json"
    saved = report.read_bytes() if report.exists() else None
    try:
        warm = [_timed([snnkb, "verify", "--force", "-q"]) for _ in range(repeat)]
        fresh = [_timed([snnkb, "verify", "--force", "-q", "--fresh-kernels"]) for _ in range(max(1, repeat // 2))]
        noop = [_timed([snnkb, "verify", "-q"]) for _ in range(repeat * 2)]
    finally:
        if saved is not None:
            report.write_bytes(saved)
    n = len(json.loads(report.read_text("utf-8"))["papers"]) if report.exists() else 0
    ratio = statistics.median(warm) / statistics.median(fresh)
    return [
        {"figure": f"verify, cold, warm runner ({n} notebooks)", "unit": "s", **_stats(warm),
         "target": "< 60 s for 126 papers", "met": statistics.median(warm) < 60},
        {"figure": f"verify, cold, --fresh-kernels ({n} notebooks)", "unit": "s", **_stats(fresh), "target": "-"},
        {"figure": "warm runner / fresh kernels", "unit": "ratio", "median": round(ratio, 3),
         "target": "<= 0.2", "met": ratio <= 0.2},
        {"figure": "verify, nothing changed (no-op)", "unit": "s", **_stats(noop), "target": "< 0.5 s",
         "met": statistics.median(noop) < 0.5},
    ]


def bench_site(repeat: int) -> list[dict]:
    times = [_timed([str(BIN / "snnkb"), "site"]) for _ in range(repeat)]
    rows = [{"figure": "site build, strict, three languages", "unit": "s", **_stats(times), "target": "< 15 s",
             "met": statistics.median(times) < 15}]
    for lang, sub in (("en", ""), ("zh", "zh/"), ("ja", "ja/")):
        index = ROOT / "build" / "site" / sub / "search" / "search_index.json"
        if index.exists():
            rows.append({"figure": f"search index size ({lang})", "unit": "KiB",
                         "median": round(index.stat().st_size / 1024, 1), "target": "-"})
    return rows


def bench_mutate() -> list[dict]:
    report = ROOT / "build" / "mutation.json"
    if report.exists():
        report.unlink()
    seconds = _timed([str(BIN / "snnkb"), "mutate", "-q"])
    return [{"figure": "mutate, cold, whole catalog", "unit": "s", "median": round(seconds, 1),
             "target": "< 180 s", "met": seconds < 180}]


def _synthetic_catalog(n: int, dest: Path) -> Path:
    """A catalog of ``n`` papers cloned from the real one (ids renamed), with tiny notebooks and notes."""
    from snnkb.catalog import load
    from snnkb.edit import format_entry

    real = load(ROOT / "catalog.yaml").papers
    shutil.copytree(ROOT / "snnref", dest / "snnref")
    (dest / "notebooks").mkdir()
    (dest / "papers").mkdir()
    blocks = []
    for i in range(n):
        e = dict(real[i % len(real)])
        e["id"] = f"syn{i:05d}{e['id']}"
        e["title"] = f"{e['title']} (synthetic copy {i})"
        e["notebook"] = f"notebooks/{e['id']}.py"
        e["links"] = {k: v for k, v in e["links"].items() if k != "arxiv"}
        e.pop("builds_on", None)
        (dest / e["notebook"]).write_text("# %%\nx = 1\n", "utf-8")
        (dest / "papers" / f"{e['id']}.md").write_text("## Problem\n\nSynthetic.\n", "utf-8")
        blocks.append((e["id"], format_entry(e)))
    path = dest / "catalog.yaml"
    path.write_text("papers:\n" + "".join(b for _, b in sorted(blocks)), "utf-8")
    return path


def bench_scale() -> list[dict]:
    from snnkb.catalog import MAX_BYTES

    rows = []
    for n in (1000, 10000):
        with tempfile.TemporaryDirectory() as tmp:
            catalog = _synthetic_catalog(n, Path(tmp))
            size = catalog.stat().st_size
            # validate refuses a catalog over its size cap: the first limit a growing catalog meets
            rows.append({"figure": f"catalog.yaml size, {n} papers", "unit": "MB", "median": round(size / 1e6, 2),
                         "target": f"<= {MAX_BYTES / 1e6:g} MB (validate's size cap)", "met": size <= MAX_BYTES,
                         "papers": n, "bytes": size, "cap": MAX_BYTES})
            seconds, status = _run_timed([str(BIN / "snnkb"), "validate", str(catalog), "--root", tmp])
            refused = " (refused: over the size cap)" if size > MAX_BYTES and status else ""
            rows.append({"figure": f"validate, {n} papers{refused}", "unit": "s", "median": round(seconds, 2),
                         "target": "-"})
            if n <= 1000:  # a 10,000-page MkDocs build takes long enough to be its own finding: see the notes
                seconds = _timed([str(BIN / "snnkb"), "site", "--catalog", str(catalog), "--root", tmp,
                                  "--out", str(Path(tmp) / "site")])
                rows.append({"figure": f"site build, {n} papers, three languages", "unit": "s",
                             "median": round(seconds, 1), "target": "-"})
                index = Path(tmp) / "site" / "search" / "search_index.json"
                if index.exists():
                    rows.append({"figure": f"search index (en), {n} papers", "unit": "MiB",
                                 "median": round(index.stat().st_size / 2**20, 2), "target": "-"})
    return rows


def lif_rows(results: list[dict]) -> list[dict]:
    """The LIF table, plus one row per target of the issue (snnref vs SpikingJelly and snnTorch)."""
    rows = []
    for r in results:
        rows.append({"figure": f"LIF fwd+bwd {r['size']}: {r['impl']}", "unit": "ms",
                     **{k: r[k] for k in ("median_ms", "min_ms", "max_ms", "peak_mb", "spikes_equal",
                                          "grad_max_diff", "ratio_to_fastest_peer", "error") if k in r}})
    by = {(r["size"], r["impl"]): r for r in results if "median_ms" in r}
    for size in sorted({r["size"] for r in results}):
        ours, sj, st = by.get((size, "snnref-fast")), by.get((size, "spikingjelly")), by.get((size, "snntorch"))
        if ours and sj:
            ratio = ours["median_ms"] / sj["median_ms"]
            rows.append({"figure": f"snnref / SpikingJelly time, {size}", "unit": "ratio", "median": round(ratio, 3),
                         "target": "<= 0.75", "met": ratio <= 0.75})
            rows.append({"figure": f"snnref peak memory vs SpikingJelly, {size}", "unit": "MiB",
                         "median": ours["peak_mb"], "target": f"<= {sj['peak_mb']}",
                         "met": ours["peak_mb"] <= sj["peak_mb"]})
        if ours and st and size.startswith("T=32"):
            speedup = st["median_ms"] / ours["median_ms"]
            rows.append({"figure": f"snnTorch / snnref time, {size}", "unit": "x", "median": round(speedup, 2),
                         "target": ">= 4", "met": speedup >= 4})
    return rows


def _row(rows: list[dict], prefix: str) -> dict | None:
    return next((r for r in rows if str(r.get("figure", "")).startswith(prefix)), None)


def explain(rows: list[dict]) -> None:
    """Attach to each missed target the measured reason it is missed (an i18n key of the Performance page and its
    figures), computed from this run's own numbers, not written by hand."""
    def why(row: dict | None, key: str, **args: object) -> None:
        if row is not None and row.get("met") is False:
            row["why"] = {"key": key, "args": {k: round(v, 2) if isinstance(v, float) else v for k, v in args.items()}}

    for size in ("T=32 B=64 N=2048", "T=16 B=32 N=512"):
        ours, sj = _row(rows, f"LIF fwd+bwd {size}: snnref-fast"), _row(rows, f"LIF fwd+bwd {size}: spikingjelly")
        loop = _row(rows, f"LIF fwd+bwd {size}: snnref-loop")
        if ours and sj and loop:
            why(_row(rows, f"snnref / SpikingJelly time, {size}"), "why_lif_ratio", ours=ours["median_ms"],
                sj=sj["median_ms"], loop=loop["median_ms"])
    ours, st = _row(rows, "LIF fwd+bwd T=32 B=64 N=2048: snnref-fast"), _row(rows, "LIF fwd+bwd T=32 B=64 N=2048: snntorch")
    if ours and st:
        why(_row(rows, "snnTorch / snnref time"), "why_snntorch", snntorch=st["median_ms"], ours=ours["median_ms"],
            need=st["median_ms"] / 4)
    report = ROOT / "build" / "verification.json"
    records = json.loads(report.read_text("utf-8"))["papers"] if report.exists() else {}
    compute = sum(float(r.get("seconds") or 0) for r in records.values())  # labs included: they run too
    papers = [pid for pid in records if not pid.startswith("labs/")]
    cores = os.cpu_count() or 1
    warm, fresh = _row(rows, "verify, cold, warm runner"), _row(rows, "verify, cold, --fresh-kernels")
    if warm:
        why(warm, "why_verify_cold", n=len(records), compute=compute, cores=cores, floor=compute / cores,
            measured=warm["median"])
    if warm and fresh:
        why(_row(rows, "warm runner / fresh kernels"), "why_warm_ratio", compute=compute, cores=cores,
            fresh=fresh["median"], bound=compute / cores / fresh["median"])
    why(_row(rows, "site build, strict"), "why_site", papers=len(papers), cores=cores)
    for cap in [r for r in rows if str(r.get("figure", "")).startswith("catalog.yaml size")]:
        per_paper = cap["bytes"] / cap["papers"]
        why(cap, "why_catalog_cap", n=cap["papers"], size=cap["bytes"] / 1e6, cap=cap["cap"] / 1e6,
            per_paper=per_paper / 1e3, limit=int(cap["cap"] / per_paper))
    mutate = _row(rows, "mutate, cold")
    mreport = ROOT / "build" / "mutation.json"
    if mutate and mreport.exists():
        mpapers = json.loads(mreport.read_text("utf-8"))["papers"].values()
        # equivalent mutants are listed, not run
        runs = sum(int(r.get("mutants") or 0) + len(r.get("stillborn") or []) + int(r.get("invalid") or 0) + 1
                   for r in mpapers)
        why(mutate, "why_mutate", runs=runs, cores=cores, per_run=mutate["median"] * cores / max(1, runs))


def merge_previous(path: Path, skipped: list[str]) -> list[dict]:
    """The rows of the parts this run skips, from the last bench.json of this machine (so `--skip` updates only
    what it measures); their reasons are recomputed with the new rows."""
    try:
        old = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if old.get("machine") != machine:
        return []
    return [{k: v for k, v in r.items() if k != "why"} for r in old.get("rows", []) if r.get("part") in skipped]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip", nargs="*", default=[], choices=PARTS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    def lif_part() -> list[dict]:
        from benchmarks import lif

        return lif_rows(lif.measure(repeat=7))

    parts = {"lif": lif_part, "verify": lambda: bench_verify(args.repeat), "site": lambda: bench_site(args.repeat),
             "mutate": bench_mutate, "scale": bench_scale}
    rows = merge_previous(ROOT / "build" / "bench.json", args.skip)
    for name, measure in parts.items():
        if name not in args.skip:
            rows += [{**r, "part": name, "date": time.strftime("%Y-%m-%d")} for r in measure()]
    rows.sort(key=lambda r: PARTS.index(r["part"]))
    explain(rows)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    out = {"machine": machine, "date": time.strftime("%Y-%m-%d"), "rows": rows}
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "bench.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"machine: {machine}")
    for r in rows:
        fig = r.get("median", r.get("median_ms"))
        extra = f"  (min {r.get('min', r.get('min_ms'))}, max {r.get('max', r.get('max_ms'))})" if "min" in r or "min_ms" in r else ""
        met = "" if "met" not in r else ("  MET" if r["met"] else "  NOT MET")
        print(f"{r['figure']:<60} {fig} {r['unit']}{extra}  target: {r.get('target', '-')}{met}")
        if "why" in r:
            print(f"    why: {r['why']['key']} {r['why']['args']}")


if __name__ == "__main__":
    main()
