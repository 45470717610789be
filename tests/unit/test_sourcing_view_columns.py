"""The sourcing view's stock as columns: built once per set of SKUs for the view's own
positions, and never taken over by a copy of the view with other positions."""

from __future__ import annotations

from dataclasses import fields, replace

from tests.unit.factories import location

from ordergrid.domain.inventory import Position
from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.domain.sourcing.view import SourcingView

LOCATIONS = {x: location(x, 40.0, -75.0) for x in ("A", "B")}


def _view(**held: int) -> SourcingView:
    return SourcingView(
        LOCATIONS, {(loc, "S"): Position(loc, "S", on_hand=n) for loc, n in held.items()}
    )


def test_the_same_skus_are_laid_out_once_per_view() -> None:
    view = _view(A=3, B=5)
    index = index_of(LOCATIONS)
    first = view.stock_columns(index, frozenset({"S"}))
    assert view.stock_columns(index, frozenset({"S"})) is first
    assert first.available.tolist() == [[3], [5]]


def test_a_copy_with_other_positions_lays_out_its_own() -> None:
    view = _view(A=3, B=5)
    index = index_of(LOCATIONS)
    view.stock_columns(index, frozenset({"S"}))
    moved = replace(view, positions=_view(A=1).positions)
    assert moved.stock_columns(index, frozenset({"S"})).available.tolist() == [[1]]
    assert view.stock_columns(index, frozenset({"S"})).available.tolist() == [[3], [5]]


def test_a_view_with_its_columns_prepared_keeps_every_other_field() -> None:
    view = SourcingView(
        LOCATIONS,
        _view(A=3, B=5).positions,
        product_tags={"S": frozenset({"fragile"})},
        load={"A": (1, 2)},
        shadow_prices={("A", "S"): 0.5},
        weights={"S": 2.0},
    )
    columns = view.stock_columns(index_of(LOCATIONS), frozenset({"S"}))
    prepared = view.with_columns(columns)
    expected = replace(view, columns=columns)
    for f in fields(SourcingView):
        assert getattr(prepared, f.name) is getattr(expected, f.name), f.name
