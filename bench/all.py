"""Run the benchmarks and print one results table (Markdown), as bench/README.md shows it.

    bench/run                          # everything, full length
    bench/run --quick                  # shorter runs, fewer peers
    bench/run --only throughput memory # a subset: throughput memory redis site ttff

Run it through ``bench/run``, which installs what is missing and enters a
loopback-only network namespace as the tests do.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import loadgen, memory, redis_cost, throughput  # noqa: E402

PARTS = ("throughput", "memory", "redis", "site", "ttff")

#: Rows of the targets table, filled in by the parts that measure them.
TARGETS: list[str] = []


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def tracker_rows(args: argparse.Namespace) -> list[str]:
    log(f"== throughput: {args.peers} peers, {args.offers} offers, A B A B x {args.rounds}")
    targets = throughput.run(args.rounds, loadgen.arguments(args), args.workers, args.embedded, args.pin, log)
    rows = []
    for row in throughput.summary(targets):
        if row["target"] == "ours, Redis, 1 worker":
            met = row["throughput_ratio"] >= 1.5 and row["p99_ratio"] <= 1.0
            TARGETS.append(
                f"| Throughput >= 1.5x reference, p99 no higher (Redis, 1 worker) | "
                f"x{row['throughput_ratio']} throughput, x{row['p99_ratio']} p99 | "
                f"{'met' if met else '**not met**'} |"
            )
        rows.append(
            f"| Throughput, {row['target']} | {row['announces_per_s']:.0f} announces/s, "
            f"{row['offers_per_s']:.0f} offers/s, {row['answers_per_s']:.0f} answers/s; p50 {row['p50_ms']:.1f} ms, "
            f"p99 {row['p99_ms']:.1f} ms; {row['errors']} errors | CPU per announce: tracker "
            f"{row['tracker_cpu_us']:.0f} us + Redis {row['redis_cpu_us']:.0f} us (load generator "
            f"{row['loadgen_cpu_us']:.0f} us) | x{row['throughput_ratio']} throughput, x{row['p99_ratio']} p99 |"
        )
    return rows


def memory_rows(args: argparse.Namespace) -> list[str]:
    log(f"== memory: {args.idle_peers} idle peers")
    figures = memory.run(args.idle_peers)
    reference = figures["reference"]
    ratio = figures[memory.OURS] / reference
    TARGETS.append(
        f"| Idle memory per peer <= 0.8x reference (replica + Redis, {args.idle_peers} peers) | "
        f"x{ratio:.2f} | {'met' if ratio <= 0.8 else '**not met**'} |"
    )
    parts = ", ".join(f"{name} {size:.0f} B" for name, size in memory.breakdown().items())
    return [
        f"| Memory per idle peer, {name} | {value / 1024:.1f} KiB ({args.idle_peers} peers) | "
        f"{parts if name == memory.EMBEDDED else ''} | x{value / reference:.2f} |"
        for name, value in figures.items()
    ]


def redis_rows(args: argparse.Namespace) -> list[str]:
    log(f"== Redis cost: {args.redis_peers} peers")
    rows = []
    for swarm in (100, 10_000):
        sizes = ((10, 1), (10_000, 1), (10, 32), (10_000, 32)) if swarm == 100 else ()
        result = redis_cost.run(args.redis_peers, swarm, args.announces, sizes)
        rows.append(
            f"| Redis memory, {args.redis_peers} peers in swarms of {swarm} | "
            f"{result['bytes_per_peer']} bytes per peer | | target <= 150 |"
        )
        for row in result["announces"]:
            rows.append(
                f"| Redis per announce, swarm of {row['swarm']}, {row['parallel']} in flight | "
                f"{row['round_trips']} round trips, "
                f"{row['commands_total']} commands ({row['commands']['evalsha']} EVALSHA) | "
                f"{row['cpu_us']} us Redis CPU | |"
            )
        if "one_redis_announces_per_s" in result:
            rows.append(
                f"| One Redis core, on paper | about {result['one_redis_announces_per_s']:.0f} announces/s "
                f"at {redis_cost.HEADROOM:.0%} CPU | | |"
            )
    return rows


def site_rows(args: argparse.Namespace) -> list[str]:
    log(f"== site build: {args.entries} entries (bench/site_build.py)")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/site_build.py"),
            "--entries",
            str(args.entries),
            "--runs",
            str(args.site_runs),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    log(out.rstrip())
    best = dict(re.findall(r"^(sitegen build|plain mkdocs build)\s+\d+ entries:.*?best ([\d.]+) s", out, re.M))
    cpu = re.search(r"CPU time: ([\d.]+)x", out)
    ratio = float(best["sitegen build"]) / float(best["plain mkdocs build"])
    return [
        f"| Site build, {args.entries} entries | sitegen {best['sitegen build']} s, plain mkdocs "
        f"{best['plain mkdocs build']} s (best wall time of {args.site_runs}) | "
        f"{f'CPU time x{cpu.group(1)}' if cpu else ''} | x{ratio:.2f} wall time (target <= 1.2) |"
    ]


def ttff_rows(args: argparse.Namespace) -> list[str]:
    from bench import first_frame

    log(f"== time to first frame: {args.ttff_runs} runs per start")
    targets = {first_frame.PLAIN: "reference", "web seed": "target <= 1.5x plain HTTP"}
    return [
        f"| Time to first frame, {start}, {args.video_mb} MB video | median {r['median']:.0f} ms "
        f"(min {r['min']:.0f}, max {r['max']:.0f}; {args.ttff_runs} runs) | {r['ratio']}x plain HTTP | "
        f"{targets.get(start, 'target <= 500 ms')} |"
        for start, r in first_frame.run(args.ttff_runs, args.video_mb).items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run (default all)")
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test of the benchmarks")
    throughput.add_arguments(parser)
    parser.add_argument("--idle-peers", type=int, default=10_000, help="peers for the memory figure (default 10000)")
    parser.add_argument("--redis-peers", type=int, default=100_000, help="peers for Redis memory (default 100000)")
    parser.add_argument("--announces", type=int, default=20_000, help="announces per Redis measurement")
    parser.add_argument("--entries", type=int, default=1000, help="site entries (default 1000)")
    parser.add_argument("--site-runs", type=int, default=3, help="builds of each kind (default 3)")
    parser.add_argument("--ttff-runs", type=int, default=5, help="page loads per start kind (default 5)")
    parser.add_argument("--video-mb", type=int, default=50, help="size of the first-frame video (default 50)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 3, 1
        args.idle_peers, args.redis_peers, args.announces = 1000, 10_000, 2000
        args.entries, args.site_runs, args.ttff_runs, args.video_mb = 100, 1, 1, 5
    parts = {
        "throughput": tracker_rows,
        "memory": memory_rows,
        "redis": redis_rows,
        "site": site_rows,
        "ttff": ttff_rows,
    }
    rows = []
    for name in args.only:
        rows += parts[name](args)
    print("| Figure | Result | Cost | Ours / reference, or target |")
    print("| --- | --- | --- | --- |")
    print("\n".join(rows))
    if TARGETS:
        print("\n| Target | Measured | Status |\n| --- | --- | --- |")
        print("\n".join(TARGETS))


if __name__ == "__main__":
    main()
