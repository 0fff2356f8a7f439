"""A process pool behind concurrent.futures.Executor whose tasks are killed at a time limit."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import ParamSpec, TypeVar

import pebble

from crawler.items import FetchedPage
from pipelines.forkserver import DEFAULT_TIMEOUT_SECONDS, forkserver_context
from pipelines.records import Article, Reason, Rejection
from pipelines.rules import CleaningRules

P = ParamSpec("P")
T = TypeVar("T")
K = TypeVar("K")


class KillingProcessPool(Executor):
    """pebble's ProcessPool as an Executor: a task over ``timeout`` seconds has its worker
    killed and replaced, and its future raises ``TimeoutError``; a worker that dies raises
    ``pebble.ProcessExpired``. Other tasks are unaffected.
    """

    def __init__(self, max_workers: int, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout
        self._pool = pebble.ProcessPool(max_workers=max_workers, context=forkserver_context())

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` with this pool's time limit."""
        future: Future[T] = self._pool.schedule(fn, args, kwargs, timeout=self._timeout)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting work; with ``cancel_futures`` drop queued tasks too."""
        # pebble's stop/close are unannotated
        if cancel_futures:
            self._pool.stop()  # type: ignore[no-untyped-call]
        else:
            self._pool.close()  # type: ignore[no-untyped-call]
        if wait:
            self._pool.join()


def clean_task(page: FetchedPage, rules: CleaningRules) -> Article | Rejection:
    """The unit of work sent to a worker.

    Imported inside so the parent process never loads trafilatura; the forkserver has it.
    """
    from pipelines.clean import clean

    return clean(page, rules)


def clean_in_order(
    pool: Executor, items: Iterable[tuple[K, FetchedPage, CleaningRules]], window: int
) -> Iterator[tuple[K, FetchedPage, CleaningRules, Article | Rejection]]:
    """Clean ``items`` in ``pool`` and yield each with its result, in input order.

    At most ``window`` pages are in flight: the input is read only as fast as results are
    consumed, so memory stays flat however large the input. A task that fails (time-out,
    dead worker) yields its ``failure_rejection``.
    """
    in_flight: deque[tuple[K, FetchedPage, CleaningRules, Future[Article | Rejection]]] = deque()

    def resolve() -> tuple[K, FetchedPage, CleaningRules, Article | Rejection]:
        key, page, rules, future = in_flight.popleft()
        try:
            result = future.result()
        except Exception as exc:  # the task failed: timeout, dead worker, unpicklable result
            result = failure_rejection(exc)
        return key, page, rules, result

    for key, page, rules in items:
        in_flight.append((key, page, rules, pool.submit(clean_task, page, rules)))
        if len(in_flight) >= window:
            yield resolve()
    while in_flight:
        yield resolve()


def failure_rejection(exc: BaseException) -> Rejection:
    """The rejection recorded for a page whose cleaning task failed instead of returning."""
    if isinstance(exc, TimeoutError):
        return Rejection(Reason.TIMEOUT, f"cleaning exceeded the time limit ({exc})")
    if isinstance(exc, pebble.ProcessExpired):
        return Rejection(Reason.WORKER_CRASHED, f"worker process died (exit code {exc.exitcode})")
    return Rejection(Reason.EXTRACT_ERROR, f"{type(exc).__name__}: {exc}")
