"""``python -m seed``: the same as the ``seed`` console script."""

from .cli import main

raise SystemExit(main())
