"""Settings of the Python runtime for the long-running processes (`serve`, `worker`)."""

from __future__ import annotations

import gc

from ordergrid.settings import Settings


def tune_garbage_collector(settings: Settings) -> None:
    """Collect cycles less often, and never look again at what start-up made.

    A request allocates thousands of short-lived objects, so with the interpreter's
    defaults the collector ran hundreds of times a minute, and each full collection
    walked every object the process holds (network, caches, compiled statements): under
    order load that paused the API for about 110 ms three times in 35 s. Frozen start-up
    objects are skipped by every collection; reference counting still frees everything
    that is not a cycle at once, so memory does not grow with the higher threshold.
    """
    gc.freeze()
    if settings.gc_young_threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(settings.gc_young_threshold, older, oldest)
