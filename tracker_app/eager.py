"""Running a coroutine's first step at once, so that work which never waits needs no task."""

from __future__ import annotations

import asyncio
import collections.abc
from collections.abc import Coroutine, Generator
from typing import Any


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` now, up to its first wait; a task carries on only if it has to wait.

    What ``asyncio.eager_task_factory`` does from Python 3.12, with one difference:
    there is no current task during the first step, so that step must not use
    ``asyncio.timeout`` (as redis-py's connection pool does). Only code that
    promises so may be started here: the relay's ``send``.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_Resumed(coro, waiting_on))


class _Resumed(collections.abc.Coroutine[Any, Any, None]):
    """A coroutine that already ran its first step: the task's first step gets what that step waits on."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coro = coro
        self._first: Any = waiting_on

    def send(self, value: Any) -> Any:
        if self._first is not None:
            waiting_on, self._first = self._first, None
            return waiting_on
        return self._coro.send(value)

    def throw(self, *args: Any) -> Any:
        self._first = None
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, None]:
        raise TypeError("run by a task, not awaited")
