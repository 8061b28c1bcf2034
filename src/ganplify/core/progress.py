"""Progress bars for the long steps of the command line: tqdm's where it is installed, else a
plain one on standard error (a line per tenth, so that a log file stays readable).

:func:`progress` wraps an iterable; it writes nothing when ``enabled`` is false. Importing this
module imports nothing heavy and changes no global state.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def _plain(items: Iterable[T], total: int | None, desc: str, stream) -> Iterator[T]:
    start, shown = time.monotonic(), -1
    done = 0
    for done, item in enumerate(items, 1):
        yield item
        if total:
            tenth = 10 * done // total
            if tenth > shown:
                shown = tenth
                elapsed = time.monotonic() - start
                print(f"{desc}: {done}/{total} ({elapsed:.0f} s)", file=stream, flush=True)
    if not total:
        print(f"{desc}: {done} done ({time.monotonic() - start:.0f} s)", file=stream, flush=True)


def progress(
    items: Iterable[T],
    *,
    total: int | None = None,
    desc: str = "",
    enabled: bool = True,
    stream=None,
) -> Iterator[T]:
    """``items``, reporting how far the loop has come (``total``: its length, when known)."""
    if not enabled:
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    stream = sys.stderr if stream is None else stream
    try:
        from tqdm import tqdm
    except ImportError:
        yield from _plain(items, total, desc, stream)
        return
    yield from tqdm(items, total=total, desc=desc, file=stream, leave=True)
