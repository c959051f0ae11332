"""Release timed items no faster than their timestamps say (or at once, when not real time)."""

import time
from collections.abc import Iterable, Iterator


def paced(items: Iterable, realtime: bool, clock=time.monotonic, sleep=time.sleep) -> Iterator:
    """Yield each item once ``item.host_time_s`` has elapsed since the first, if ``realtime``."""
    start = None
    for item in items:
        if realtime:
            now = clock()
            start = now - item.host_time_s if start is None else start
            delay = start + item.host_time_s - now
            if delay > 0:
                sleep(delay)
        yield item
