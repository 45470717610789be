"""The screen spells out every candidate's verdict the same way, one by one, all at once
(the engine explains all of an order's candidates in one pass) or as the constraint alone
(what an explanation stores)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.factories import location, order, view

from ordergrid.domain.sourcing import DEFAULT_POLICY, SourcingRequest
from ordergrid.domain.sourcing.product_rules import ProductRule
from ordergrid.domain.sourcing.screening import screen

SKUS = ("A", "B", "C")
HAZMAT = ProductRule("no-hazmat-in-stores", frozenset({"hazmat"}), frozenset({"store"}))

sites = st.lists(
    st.tuples(
        st.floats(44.0, 50.0),
        st.floats(-1.0, 6.0),
        st.sampled_from(["dc", "store"]),
        st.sampled_from(["active", "paused", "closed"]),
        st.sampled_from([("ship",), ("pickup",), ("ship", "pickup")]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    sites=sites,
    stock=st.lists(st.integers(0, 3), min_size=36, max_size=36),
    lines=st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True),
    excluded=st.sets(st.integers(0, 11), max_size=3),
    max_km=st.none() | st.floats(50.0, 600.0),
    pickup=st.booleans(),
)
def test_explaining_all_candidates_matches_explaining_each(
    sites: list[tuple[float, float, str, str, tuple[str, ...]]],
    stock: list[int],
    lines: list[str],
    excluded: set[int],
    max_km: float | None,
    pickup: bool,
) -> None:
    locs = [
        location(f"L{i}", lat, lon, type=kind, status=status, caps=caps)
        for i, (lat, lon, kind, status, caps) in enumerate(sites)
    ]
    on_hand = {
        (loc.id, sku): stock[i * len(SKUS) + k]
        for i, loc in enumerate(locs)
        for k, sku in enumerate(SKUS)
    }
    v = replace(view(locs, on_hand), product_tags={"B": frozenset({"hazmat"})})
    o = order(
        [(str(n), sku, 1) for n, sku in enumerate(lines)],
        method="pickup" if pickup else "ship",
        pickup=locs[0].id if pickup else None,
    )
    o.excluded_locations = {f"L{i}" for i in excluded}
    policy = replace(
        DEFAULT_POLICY,
        constraints=replace(
            DEFAULT_POLICY.constraints, max_distance_km=max_km, product_rules=(HAZMAT,)
        ),
    )
    req = SourcingRequest.for_order(o)
    s = screen(req, v, policy)

    one_by_one = [s.explain(i, req, v, policy) for i in range(len(s.candidates))]
    together = s.explain_all(req, v, policy)

    assert together == one_by_one
    # What an explanation stores of each candidate: the same constraint, found leaner.
    every = list(range(len(s.candidates)))
    assert s.exclusions(req, v, policy, every) == [x.exclusion for x in together]
    assert [x.location.id for x in together] == [
        s.index.locations[j].id for j in s.candidates.tolist()
    ]
    for x in together:
        reason = None if x.exclusion is None else x.exclusion.reason
        if x.location.status.value != "active":
            assert reason == f"location_{x.location.status.value}"
        elif x.location.id in o.excluded_locations:
            assert reason == "excluded_for_order"
        if x.location.type.value == "store" and "B" in x.available:
            assert x.available["B"] == 0
            assert x.blocked.get("B") == HAZMAT.name or on_hand[(x.location.id, "B")] == 0
