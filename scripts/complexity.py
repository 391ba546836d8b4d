"""Fail if a function in seed/ has a cyclomatic complexity (radon's) over 15 (issue 24)."""

import sys
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

LIMIT = 15

over = [
    f"{path}:{block.lineno}: {block.fullname} has complexity {block.complexity} (at most {LIMIT})"
    for path in sorted(Path("seed").rglob("*.py"))
    for top in cc_visit(path.read_text())
    for block in ([top] if isinstance(top, Function) else top.methods)
    if block.complexity > LIMIT
]
print(*over, sep="\n", file=sys.stderr)
sys.exit(1 if over else 0)
