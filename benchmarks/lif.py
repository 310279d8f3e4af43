"""LIF forward+backward: snnref's fast layer vs its readable loop vs snnTorch 1.0 vs SpikingJelly 2.0 (torch backend).

Each (implementation, size) runs in its own process, so peak memory is that run's alone. Every implementation gets
the same input; its spikes and input gradients are compared with snnref's readable loop (the oracle).
Usage: python -m benchmarks.lif [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = [(32, 64, 2048), (16, 32, 512)]  # (T, B, N)
IMPLS = ["snnref-fast", "snnref-loop", "snntorch", "spikingjelly"]


def _layer(impl: str):
    """A function x_seq [T, B, N] -> spikes [T, B, N]: LIF, tau=2, V_th=1, hard reset to 0, ATan(alpha=2)."""
    import torch

    if impl == "snnref-fast":
        from snnref.lif_fast import lif_multi_step

        return lambda x: lif_multi_step(x, tau=2.0, v_th=1.0, v_reset=0.0)
    if impl == "snnref-loop":
        from snnref.neuron import lif_step, multi_step

        return lambda x: multi_step(lif_step, x, tau=2.0, v_th=1.0, v_reset=0.0)[0]
    if impl == "spikingjelly":
        from spikingjelly.activation_based import neuron, surrogate

        node = neuron.LIFNode(tau=2.0, v_threshold=1.0, v_reset=0.0, surrogate_function=surrogate.ATan(alpha=2.0),
                              step_mode="m")  # SpikingJelly 2.0: the torch backend is the only one on CPU

        def run(x):
            node.reset()
            return node(x)
        return run
    if impl == "snntorch":
        import snntorch as snn
        from snntorch import surrogate

        # snnTorch's beta = 1 - 1/tau; its input is not divided by tau, so it gets x/tau to match the same neuron.
        lif = snn.Leaky(beta=0.5, threshold=1.0, spike_grad=surrogate.atan(alpha=2.0), reset_mechanism="zero")

        def run(x):
            mem = lif.init_leaky()
            out = []
            for xt in x / 2.0:
                spk, mem = lif(xt, mem)
                out.append(spk)
            return torch.stack(out)
        return run
    raise ValueError(impl)


def _child(impl: str, size: tuple[int, int, int], repeat: int, out: str) -> None:
    import torch

    torch.manual_seed(0)
    T, B, N = size
    x = (torch.rand(T, B, N) * 2.2).requires_grad_()
    layer = _layer(impl)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for i in range(repeat + 2):  # two warm-up runs
        x.grad = None
        t0 = time.perf_counter()
        s = layer(x)
        s.sum().backward()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1e3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.save({"spikes": s.detach(), "grad": x.grad}, out)
    print(json.dumps({"ms": times, "peak_mb": round((peak - base) / 1024, 1)}))


def measure(repeat: int = 7) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            results = {}
            for impl in IMPLS:
                out = str(Path(tmp) / f"{impl}.pt")
                proc = subprocess.run([sys.executable, "-m", "benchmarks.lif", "--child", impl, ",".join(map(str, size)),
                                       "--repeat", str(repeat), "--out", out], capture_output=True, text=True)
                if proc.returncode:
                    results[impl] = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
                    continue
                results[impl] = json.loads(proc.stdout.strip().splitlines()[-1]) | {"out": out}
            rows += _compare(size, results)
    return rows


def _compare(size, results) -> list[dict]:
    import torch

    oracle = torch.load(results["snnref-loop"]["out"]) if "out" in results.get("snnref-loop", {}) else None
    rows = []
    for impl, r in results.items():
        row = {"size": "T={} B={} N={}".format(*size), "impl": impl}
        if "error" in r:
            rows.append(row | {"error": r["error"]})
            continue
        got = torch.load(r["out"])
        row |= {"median_ms": round(statistics.median(r["ms"]), 2), "min_ms": round(min(r["ms"]), 2),
                "max_ms": round(max(r["ms"]), 2), "peak_mb": r["peak_mb"]}
        if oracle is not None:
            row["spikes_equal"] = bool(torch.equal(got["spikes"], oracle["spikes"]))
            row["grad_max_diff"] = float((got["grad"] - oracle["grad"]).abs().max())
        rows.append(row)
    peers = [r["median_ms"] for r in rows if r["impl"] in ("snntorch", "spikingjelly") and "median_ms" in r]
    for r in rows:
        if "median_ms" in r and peers:
            r["ratio_to_fastest_peer"] = round(r["median_ms"] / min(peers), 3)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.child:
        impl, size = args.child
        _child(impl, tuple(int(v) for v in size.split(",")), args.repeat, args.out)
        return
    rows = measure(args.repeat)
    for r in rows:
        print(r)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
