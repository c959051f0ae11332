"""Timing helper shared by the benchmark scripts."""

import time


def best_of(repeat, work):
    """(best wall time in seconds, last result) of ``repeat`` calls of ``work()``."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result
