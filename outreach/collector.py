"""CPython's cyclic garbage collector, tuned for outreach's work.

The pipeline and the import allocate many short-lived objects (rows, dicts, tuples) and
almost no cycles. With CPython's default thresholds (700, 10, 10) the collector took about a
sixth of the pipeline's CPU per message and a fifth of an import's, most of it re-scanning
what start-up built (modules, configuration, templates) in full collections.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (10_000, 20, 50)  # CPython's default is (700, 10, 10)


def tune_for_pipeline() -> None:
    """For a process that runs the pipeline (worker, serve, run, demo): what start-up built
    is frozen out of the collector's sight, and collections run less often
    (bench/pipeline.py: 1.21 -> 1.05 ms CPU per message)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


@contextmanager
def rare_collections() -> Iterator[None]:
    """The same thresholds for a block (an import in any process), restored afterwards."""
    saved = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
