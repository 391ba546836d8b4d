"""The benchmarks still run: every part of ``bench/all.py --quick`` prints its rows.

The figures themselves are not judged here (timings drift on shared cores, so targets live
in bench/ as ratios); this catches a benchmark that a change broke, as the first-frame one
was once broken by posters coming into the content entries.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = (
    "| Throughput, ours, Redis, 1 worker |",
    "| Throughput, ours, embedded (no Redis) |",
    "| Throughput, reference |",
    "| Memory per idle peer, ours, replica + Redis |",
    "| Memory per idle peer, reference |",
    "| Redis per announce, swarm of 10, 1 in flight |",
    "| Site build, 100 entries |",
    "| Time to first frame, plain HTTP,",
    "| Time to first frame, web seed,",
    "| Time to first frame, .torrent (peers only),",
    "| Time to first frame, magnet-only (peers only),",
)


def test_every_benchmark_runs_and_reports_its_rows() -> None:
    done = subprocess.run(
        [sys.executable, "bench/all.py", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-4000:]
    missing = [row for row in ROWS if row not in done.stdout]
    assert not missing, f"rows missing from the table: {missing}\n{done.stdout}"
