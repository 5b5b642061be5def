"""Speed-up of ``bespoke sweep`` on two local Dask workers against one.

    .venv/bin/python benchmarks/sweep_speedup.py

Eight real compiles (iris 4-3-3 and wine 13-3-3, trained on the workers, input bits 3 and
4, weight bits 6 and 8, exact, verified in Icarus and synthesized with Yosys) run as one
sweep on a LocalCluster of one worker, then of two, each into a fresh folder.  The wall
time includes starting and closing the cluster.  Writes
``benchmarks/results/sweep_speedup.json`` (never edit by hand).
"""
from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

from bespoke.sweep import load_spec, run_sweep

HERE = Path(__file__).resolve().parent

SPEC = """
name = "speed-up"

[options]
approximate = false
input_bits = [3, 4]
weight_bits = [6, 8]
random_vectors = 200

[[train]]
sklearn = "iris"
hidden = [3]

[[train]]
sklearn = "wine"
hidden = [3]
"""


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "speedup.toml"
        spec_path.write_text(SPEC)
        spec = load_spec(spec_path)
        for workers in (1, 2):
            start = time.perf_counter()
            summary = run_sweep(spec, Path(tmp) / f"out{workers}", workers=workers)
            seconds = time.perf_counter() - start
            assert not summary.failed and len(summary.ok) == 8, summary.text()
            runs[workers] = {"seconds": round(seconds, 2),
                             "job_seconds": round(sum(r.seconds for r in summary.ok), 2)}
            print(f"{workers} worker(s): {seconds:.1f} s")
    result = {
        "jobs": 8,
        "flow": "train + exact compile + Icarus RTL + Yosys synthesis + gate-level checks",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "workers_1": runs[1], "workers_2": runs[2],
        "speedup": round(runs[1]["seconds"] / runs[2]["seconds"], 2),
    }
    (HERE / "results" / "sweep_speedup.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
