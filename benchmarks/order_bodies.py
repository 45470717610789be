"""`POST /v1/orders` bodies from a generated network's order stream (`networks.py`),
cut to 1-3 lines, shared by the closed-loop and the open-loop load generators."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from networks import Network, generate_orders

MAX_LINES = 3


def network_bodies(net: Network, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` order bodies (1-3 lines, shipped to the order's destination); their
    external ids are made unique per send by `CycledBodies`."""
    bodies = []
    for order in generate_orders(net, count, seed):
        n = min(order.lines, MAX_LINES)
        lines = [
            {"line_id": str(i + 1), "sku": net.skus[s], "quantity": q}
            for i, (s, q) in enumerate(zip(order.skus[:n], order.quantities[:n], strict=True))
        ]
        address = {"country": "US", "postal_code": order.postal_code}
        bodies.append(
            {
                "external_id": order.id,
                "channel": "web",
                "delivery": {
                    "method": "ship",
                    "address": address | {"lat": order.lat, "lon": order.lon},
                },
                "lines": lines,
            }
        )
    return bodies


def used_skus(bodies: list[dict[str, Any]]) -> set[str]:
    return {line["sku"] for body in bodies for line in body["lines"]}


class CycledBodies:
    """The bodies in turn, again and again, each send with an external id of its own
    (`<id>-P<process>-<round>`), so no two sends collide across load processes."""

    def __init__(self, bodies: list[dict[str, Any]], index: int) -> None:
        self._bodies = bodies
        self._turn = itertools.count()
        self._index = index
        self._lock = threading.Lock()

    def next(self) -> dict[str, Any]:
        with self._lock:
            k = next(self._turn)
        body = self._bodies[k % len(self._bodies)]
        external_id = f"{body['external_id']}-P{self._index}-{k // len(self._bodies)}"
        return body | {"external_id": external_id}
