"""`make bench` explains each missed target from the same run's figures."""

from benchmarks.run import explain


def test_missed_targets_get_their_measured_reason():
    rows = [
        {"figure": "LIF fwd+bwd T=32 B=64 N=2048: snnref-fast", "unit": "ms", "median_ms": 30.0},
        {"figure": "LIF fwd+bwd T=32 B=64 N=2048: snnref-loop", "unit": "ms", "median_ms": 40.0},
        {"figure": "LIF fwd+bwd T=32 B=64 N=2048: snntorch", "unit": "ms", "median_ms": 42.0},
        {"figure": "LIF fwd+bwd T=32 B=64 N=2048: spikingjelly", "unit": "ms", "median_ms": 36.0},
        {"figure": "snnref / SpikingJelly time, T=32 B=64 N=2048", "unit": "ratio", "median": 0.83, "met": False},
        {"figure": "snnTorch / snnref time, T=32 B=64 N=2048", "unit": "x", "median": 1.4, "met": False},
        {"figure": "site build, strict, three languages", "unit": "s", "median": 9.0, "met": True},
    ]
    explain(rows)
    assert rows[4]["why"] == {"key": "why_lif_ratio", "args": {"ours": 30.0, "sj": 36.0, "loop": 40.0}}
    assert rows[5]["why"] == {"key": "why_snntorch", "args": {"snntorch": 42.0, "ours": 30.0, "need": 10.5}}
    assert "why" not in rows[6]  # a met target needs no reason


def test_a_catalog_over_the_size_cap_gets_its_measured_reason():
    rows = [{"figure": "catalog.yaml size, 10000 papers", "unit": "MB", "median": 33.0, "met": False,
             "papers": 10000, "bytes": 33_000_000, "cap": 5_000_000},
            {"figure": "catalog.yaml size, 1000 papers", "unit": "MB", "median": 3.3, "met": True,
             "papers": 1000, "bytes": 3_300_000, "cap": 5_000_000}]
    explain(rows)
    assert rows[0]["why"] == {"key": "why_catalog_cap",
                              "args": {"n": 10000, "size": 33.0, "cap": 5.0, "per_paper": 3.3, "limit": 1515}}
    assert "why" not in rows[1]


def test_a_partial_run_keeps_the_skipped_parts_of_this_machine(tmp_path):
    import json
    import os
    import platform

    from benchmarks.run import merge_previous

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    rows = [{"figure": "mutate, cold, whole catalog", "part": "mutate", "median": 300.0, "why": {"key": "x"}},
            {"figure": "site build, strict, three languages", "part": "site", "median": 14.0}]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"machine": machine, "rows": rows}))
    kept = merge_previous(path, ["mutate"])
    assert kept == [{"figure": "mutate, cold, whole catalog", "part": "mutate", "median": 300.0}]  # reason redone
    path.write_text(json.dumps({"machine": "another machine", "rows": rows}))
    assert merge_previous(path, ["mutate"]) == []  # figures from another machine are not mixed in
