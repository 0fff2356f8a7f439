"""The killing process pool: time limits, dead workers, and the rejection each becomes."""

from __future__ import annotations

import os
import time

from pipelines.pool import KillingProcessPool, failure_rejection
from pipelines.records import Reason


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def _die() -> None:
    os._exit(3)


def test_slow_task_is_killed_others_finish() -> None:
    pool = KillingProcessPool(max_workers=2, timeout=0.5)
    try:
        slow, fast = pool.submit(_sleep, 30), pool.submit(_sleep, 0)
        started = time.monotonic()
        exc = slow.exception()
        assert isinstance(exc, TimeoutError)
        assert time.monotonic() - started < 10
        assert fast.result() == "done"
        assert pool.submit(_sleep, 0).result() == "done"  # the pool replaced the killed worker
    finally:
        pool.shutdown(cancel_futures=True)
    assert failure_rejection(exc).reason == Reason.TIMEOUT


def test_dead_worker_becomes_worker_crashed() -> None:
    pool = KillingProcessPool(max_workers=1, timeout=10)
    try:
        exc = pool.submit(_die).exception()
        assert exc is not None
        assert failure_rejection(exc).reason == Reason.WORKER_CRASHED
        assert pool.submit(_sleep, 0).result() == "done"
    finally:
        pool.shutdown()
