"""Tracker throughput: ours (the Procfile's command, state in Redis) against the reference, A B A B.

    .venv/bin/python bench/throughput.py --rounds 3 --duration 10 --workers 1 2

Each round runs the same closed-loop load (bench/loadgen.py, in its own process)
against every target in turn, on a freshly emptied Redis, and records what the
generator measures plus the CPU time every server process used (tracker workers,
redis-server, or node), so a figure can be read per announce as well as per second.
Medians over rounds are printed with ours/reference ratios. The load generator and
the servers share this machine's cores; ``--pin`` gives the generator a core of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.measure import cpu_seconds, pin, tree  # noqa: E402
from tests.support.processes import Server, start_redis, start_reference, start_tracker  # noqa: E402
from tests.test_build import COMPILED_ENV, COMPILED_TREE  # noqa: E402

#: Load-generator peers announce tens of times a second, far beyond real clients: lift the per-socket limit.
TRACKER_ENV = {"LOG_LEVEL": "warning", "TRACKER_MAX_ANNOUNCES": "1000000000"}


@dataclass
class Target:
    name: str
    server: Server
    redis: Server | None = None
    runs: list[dict] = field(default_factory=list)

    def pids(self) -> list[int]:
        return tree(self.server.proc.pid) + ([self.redis.proc.pid] if self.redis else [])


def start_targets(workers: list[int], memory: bool, work: Path) -> list[Target]:
    """Ours on Redis per worker count (``WEB_CONCURRENCY``, as a PaaS sets it), compiled (mypyc) when
    scripts/install built it, and pure Python; maybe in-process; then the reference."""
    builds = [("compiled, ", COMPILED_ENV)] if list(COMPILED_TREE.glob("tracker_app/tracker.*.so")) else []
    targets = []
    for count in workers:
        for label, env in [*builds, ("", {})]:
            store = start_redis(work / f"redis-{label}{count}")
            server = start_tracker(
                redis_url=f"redis://127.0.0.1:{store.port}/0", WEB_CONCURRENCY=str(count), **TRACKER_ENV, **env
            )
            targets.append(Target(f"ours, {label}Redis, {count} worker{'s' * (count > 1)}", server, store))
    if memory:
        targets.append(Target("ours, embedded (no Redis)", start_tracker(**TRACKER_ENV)))
    targets.append(Target("reference", start_reference()))
    return targets


def run_once(target: Target, load: list[str], loadgen_cpus: set[int] | None) -> dict:
    """One load run on an empty swarm state; CPU per announce counts the warm-up's announces too."""
    redis_pids = [target.redis.proc.pid] if target.redis else []
    if target.redis:
        redis.Redis(port=target.redis.port).flushall()
    tracker_pids = tree(target.server.proc.pid)
    before = cpu_seconds(tracker_pids), cpu_seconds(redis_pids)
    generator = subprocess.Popen(
        [sys.executable, str(ROOT / "bench/loadgen.py"), target.server.ws_url, *load],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, loadgen_cpus)) if loadgen_cpus else None,
    )
    out, _ = generator.communicate()
    if generator.returncode:
        raise RuntimeError(f"loadgen failed against {target.name}")
    result = json.loads(out)
    served = max(result["total"], 1)
    result["tracker_cpu_us"] = round((cpu_seconds(tracker_pids) - before[0]) / served * 1e6)
    result["redis_cpu_us"] = round((cpu_seconds(redis_pids) - before[1]) / served * 1e6)
    result["loadgen_cpu_us"] = round(result["cpu_s"] / served * 1e6)
    return result


def median(target: Target, metric: str) -> float:
    return statistics.median(run[metric] for run in target.runs)


def run(
    rounds: int, load: list[str], workers: list[int], memory: bool, pinned: bool, report: Callable[[str], None] = print
) -> list[Target]:
    """Start every target, run ``rounds`` rounds through all of them in turn, stop them."""
    cpus = sorted(os.sched_getaffinity(0))
    loadgen_cpus = {cpus[-1]} if pinned and len(cpus) > 1 else None
    with tempfile.TemporaryDirectory(prefix="videoswarm-bench-") as tmp:
        targets = start_targets(workers, memory, Path(tmp))
        try:
            if loadgen_cpus:
                for target in targets:
                    pin(target.pids(), set(cpus[:-1]))
            for number in range(1, rounds + 1):
                for target in targets:
                    result = run_once(target, load, loadgen_cpus)
                    target.runs.append(result)
                    report(
                        f"  round {number} {target.name:26} {result['announces_per_s']:6} announces/s, "
                        f"p50 {result['p50_ms']:5.1f} ms, p99 {result['p99_ms']:5.1f} ms, "
                        f"errors {result['errors'] + result['timeouts']}, CPU us/announce: tracker "
                        f"{result['tracker_cpu_us']} + redis {result['redis_cpu_us']}, "
                        f"loadgen {result['loadgen_cpu_us']}"
                    )
        finally:
            for target in targets:
                target.server.stop()
                if target.redis:
                    target.redis.stop()
    return targets


def summary(targets: list[Target]) -> list[dict]:
    """Median figures per target, with ratios to the reference (the last target)."""
    reference = targets[-1]
    rows = []
    for target in targets:
        row = {"target": target.name}
        for metric in (
            "announces_per_s",
            "offers_per_s",
            "answers_per_s",
            "p50_ms",
            "p99_ms",
            "tracker_cpu_us",
            "redis_cpu_us",
            "loadgen_cpu_us",
        ):
            row[metric] = median(target, metric)
        row["errors"] = sum(run["errors"] + run["timeouts"] for run in target.runs)
        row["throughput_ratio"] = round(row["announces_per_s"] / median(reference, "announces_per_s"), 2)
        row["p99_ratio"] = round(row["p99_ms"] / median(reference, "p99_ms"), 2)
        rows.append(row)
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    loadgen.add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=3, help="A B rounds (default 3)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="tracker worker counts to run on Redis (default 1 2)"
    )
    parser.add_argument(
        "--embedded",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run ours with in-process state, no Redis (default on)",
    )
    parser.add_argument("--pin", action="store_true", help="give the load generator a core of its own")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args()
    targets = run(args.rounds, loadgen.arguments(args), args.workers, args.embedded, args.pin)
    for row in summary(targets):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
