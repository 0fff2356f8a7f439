"""Start the worker processes' forkserver early, so its warm-up overlaps the parent's start-up."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext

WARMUP_MODULE = "pipelines.worker_warmup"

DEFAULT_TIMEOUT_SECONDS = 30.0
"""Per-page cleaning time limit: Nutch's parser.timeout; trafilatura is quadratic on some
markup (reliability P10)."""


def default_workers() -> int:
    """Cleaning worker processes by default: one per CPU this process may use."""
    return len(os.sched_getaffinity(0)) or 1


def forkserver_context() -> ForkServerContext:
    """The forkserver context whose server preloads (and so warms) the cleaning code.

    forkserver rather than fork: workers start from a clean single-threaded process that
    has already imported and exercised the cleaning code, so starting one (and restarting
    one after a time-out kill) is fast and safe in a parent that runs threads.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARMUP_MODULE])
    return context


def start_early() -> None:
    """Launch the forkserver now; its ~1 s of imports and warm-up run beside ours."""
    forkserver_context()
    forkserver.ensure_running()
