"""Service tests run the real handlers through the message bus on the in-memory adapters.

The `world` fixture is a small US network and a set of factories:

| id     | type  | where     | capabilities  | status | handling |
|--------|-------|-----------|---------------|--------|----------|
| DC-ATL | dc    | Atlanta   | ship          | active | 0        |
| DC-RNO | dc    | Reno      | ship          | active | 0        |
| ST-NY1 | store | New York  | ship, pickup  | active | 3.0      |
| ST-NY2 | store | New York  | ship, pickup  | paused | 3.0      |
| ST-CHI | store | Chicago   | ship, pickup  | active | 3.5      |

Products A, B and C exist; no location holds stock until a test adds it.
"""

from __future__ import annotations

import pytest
from tests.service.factories import World


@pytest.fixture
def world() -> World:
    return World()
