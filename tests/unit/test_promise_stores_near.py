"""The stores a cart could be collected at: every usable one with the capability within
the radius, nearest first, at the distance the network index measures."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.factories import location

from ordergrid.domain.network import Capability
from ordergrid.domain.promise.pickup import stores_near
from ordergrid.domain.promise.quote import Cart
from ordergrid.domain.sourcing.network_index import index_of

offsets = st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))


@settings(max_examples=100, deadline=None)
@given(
    places=st.lists(offsets, min_size=1, max_size=12),
    kinds=st.lists(st.sampled_from(["pickup", "curbside", "ship"]), min_size=12, max_size=12),
    radius=st.floats(0.0, 150.0),
)
def test_stores_within_a_radius_are_those_measured_closer_nearest_first(
    places: list[tuple[float, float]], kinds: list[str], radius: float
) -> None:
    home = (40.0, -75.0)
    locations = {
        f"S{i}": location(f"S{i}", home[0] + dy, home[1] + dx, type="store", caps=(kinds[i],))
        for i, (dy, dx) in enumerate(places)
    }
    cart = Cart("web", (("SKU-1", 1),), home)
    found = stores_near(locations, cart).within(Capability.PICKUP, radius)

    index = index_of(locations)
    km = index.distances_km(np.arange(len(index)), home).tolist()
    expected = sorted(
        (d, loc.id)
        for loc, d in zip(index.locations, km, strict=True)
        if Capability.PICKUP in loc.capabilities and d <= radius
    )
    assert [(d, loc.id) for d, loc in found] == expected
