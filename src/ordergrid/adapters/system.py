"""The real clock and time-ordered ids."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class TimeOrderedIds:
    """UUID-shaped ids whose first 48 bits are milliseconds since the epoch (as UUIDv7),
    so sorting by id follows creation time and index pages stay append-mostly."""

    def new_id(self) -> str:
        ms = time.time_ns() // 1_000_000
        raw = ms.to_bytes(6, "big") + os.urandom(10)
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-{h[16:20]}-{h[20:]}"
