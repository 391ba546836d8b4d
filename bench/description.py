"""Description rendering on hostile Markdown: 20 KB shapes against 20 KB of ordinary text.

    .venv/bin/python bench/description.py [--runs 3]

Python-Markdown scans from every ``[`` to its closing bracket, so brackets alone once
took minutes; sitegen's renderer bounds the nesting (sitegen/description.py). Each
shape's median render time is printed with its ratio to an ordinary description of the
same size (paragraphs with links and emphasis). Target: every ratio under 20.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sitegen.description import DescriptionRenderer  # noqa: E402

SIZE = 20_000
ORDINARY = "A paragraph of *Markdown* with a [link](https://example.org/a) and `code`, like a real description.\n\n"
SHAPES = {
    "ordinary": (ORDINARY * (SIZE // len(ORDINARY) + 1))[:SIZE],
    "[ only": "[" * SIZE,
    "[[[…]]] nested": "[" * (SIZE // 2) + "]" * (SIZE // 2),
    "[]( repeated": "[](" * (SIZE // 3),
    "![ repeated": "![" * (SIZE // 2),
    "[a]( repeated": "[a](" * (SIZE // 4),
}
TARGET_RATIO = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="renders per shape; the median counts (default 3)")
    args = parser.parse_args()
    renderer = DescriptionRenderer()
    medians = {}
    for name, text in SHAPES.items():
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            renderer.html(text)
            times.append(time.perf_counter() - start)
        medians[name] = statistics.median(times)
    print(f"| Description ({SIZE // 1000} KB) | Render time | Ratio to ordinary (target < {TARGET_RATIO}) |")
    print("| --- | --- | --- |")
    for name, seconds in medians.items():
        print(f"| {name} | {seconds * 1000:.0f} ms | {seconds / medians['ordinary']:.1f} |")
    return 0 if all(s / medians["ordinary"] < TARGET_RATIO for s in medians.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
