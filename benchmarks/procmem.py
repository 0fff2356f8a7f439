"""Peak resident memory of a process tree, sampled from /proc (Linux)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TreeRun:
    """A finished command: exit status, wall seconds and peak RSS of its whole process tree."""

    returncode: int
    seconds: float
    peak_tree_mb: float
    peak_main_mb: float


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (FileNotFoundError, ProcessLookupError):  # the process just exited
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def run_measured(command: Sequence[str], *, interval: float = 0.05) -> TreeRun:
    """Run ``command``, sampling the RSS of it and all its descendants until it exits."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak_tree = peak_main = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_main
        while not done.is_set():
            peak_main = max(peak_main, _rss_kb(process.pid))
            peak_tree = max(peak_tree, sum(_rss_kb(p) for p in _tree(process.pid)))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = process.wait()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return TreeRun(returncode, seconds, peak_tree / 1024, peak_main / 1024)
