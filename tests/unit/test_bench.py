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
