"""The network index's distances: the great circle, exact at and near a location; and
where a location is among a sorted array of positions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.factories import location

from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.network import Location
from ordergrid.domain.sourcing.network_index import (
    NetworkIndex,
    half_chord_within,
    km_of_half_chords,
    row_in,
    take_rows,
)

latitudes = st.floats(-80.0, 80.0)
longitudes = st.floats(-179.0, 179.0)


@settings(max_examples=200, deadline=None)
@given(lat=latitudes, lon=longitudes, dest_lat=latitudes, dest_lon=longitudes)
def test_distance_is_the_great_circle_between_location_and_destination(
    lat: float, lon: float, dest_lat: float, dest_lon: float
) -> None:
    index = NetworkIndex.build({"X": location("X", lat, lon)})
    [km] = index.distances_km(np.array([0]), (dest_lat, dest_lon)).tolist()
    assert km == pytest.approx(great_circle_km(lat, lon, dest_lat, dest_lon), rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(lat=latitudes, lon=longitudes, metres=st.floats(0.0, 50.0))
def test_distance_to_a_point_beside_the_location_is_exact_to_the_millimetre(
    lat: float, lon: float, metres: float
) -> None:
    index = NetworkIndex.build({"X": location("X", lat, lon)})
    north = lat + metres / 1000 / 111.195  # ~111.195 km per degree of latitude
    [km] = index.distances_km(np.array([0]), (north, lon)).tolist()
    assert km == pytest.approx(great_circle_km(lat, lon, north, lon), abs=1e-6)


def test_ids_where_a_test_holds_are_worked_out_once_per_key() -> None:
    index = NetworkIndex.build(
        {"B": location("B", 1.0, 1.0, type="store"), "A": location("A", 2.0, 2.0)}
    )
    asked: list[str] = []

    def is_store(loc: Location) -> bool:
        asked.append(loc.id)
        return loc.type.value == "store"

    assert index.ids_where("stores", is_store) == frozenset({"B"})
    assert index.ids_where("stores", is_store) == frozenset({"B"})
    assert asked == ["A", "B"]
    assert index.ids_where("dcs", lambda loc: loc.type.value == "dc") == frozenset({"A"})


@settings(max_examples=50, deadline=None)
@given(
    places=st.lists(st.tuples(latitudes, longitudes), min_size=1, max_size=6),
    dest_lat=latitudes,
    dest_lon=longitudes,
)
def test_distances_to_a_point_kept_are_the_distances_worked_out_each_time(
    places: list[tuple[float, float]], dest_lat: float, dest_lon: float
) -> None:
    index = NetworkIndex.build(
        {f"L{i}": location(f"L{i}", lat, lon) for i, (lat, lon) in enumerate(places)}
    )
    rows = np.arange(len(places))[::-1]
    kept = index.distances_to((dest_lat, dest_lon))
    assert kept.take(rows).tolist() == pytest.approx(
        index.distances_km(rows, (dest_lat, dest_lon)).tolist(), rel=1e-12, abs=1e-9
    )
    assert index.distances_to((dest_lat, dest_lon)) is kept  # worked out once


def test_distances_kept_cannot_be_changed_by_a_reader() -> None:
    index = NetworkIndex.build({"A": location("A", 40.0, -75.0)})
    kept = index.distances_to((41.0, -75.0))
    with pytest.raises(ValueError, match="read-only"):
        kept[0] = 0.0


def test_only_the_last_points_asked_for_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ordergrid.domain.sourcing.network_index._DISTANCES_KEPT", 2)
    index = NetworkIndex.build({"A": location("A", 40.0, -75.0)})
    first = index.distances_to((41.0, -75.0))
    index.distances_to((42.0, -75.0))
    index.distances_to((43.0, -75.0))  # the first point goes
    assert index.distances_to((41.0, -75.0)) is not first
    assert index.distances_to((41.0, -75.0)).tolist() == first.tolist()


@settings(max_examples=200, deadline=None)
@given(
    positions=st.sets(st.integers(0, 60), max_size=25).map(sorted),
    position=st.integers(0, 60),
)
def test_row_in_finds_a_position_among_sorted_positions_or_says_it_is_absent(
    positions: list[int], position: int
) -> None:
    found = row_in(np.array(positions, dtype=np.int64), position)
    assert found == (positions.index(position) if position in positions else None)


@settings(max_examples=200, deadline=None)
@given(
    places=st.lists(st.tuples(latitudes, longitudes), min_size=1, max_size=8),
    dest_lat=latitudes,
    dest_lon=longitudes,
    radius=st.floats(0.0, 25_000.0),
)
def test_half_chords_within_a_radius_pick_every_location_that_close_and_none_far_beyond(
    places: list[tuple[float, float]], dest_lat: float, dest_lon: float, radius: float
) -> None:
    index = NetworkIndex.build(
        {f"L{i}": location(f"L{i}", lat, lon) for i, (lat, lon) in enumerate(places)}
    )
    rows = np.arange(len(places))
    km = index.distances_km(rows, (dest_lat, dest_lon))
    half = index.half_chords(rows, (dest_lat, dest_lon))
    picked = half <= half_chord_within(radius)
    assert picked[km <= radius].all()
    assert not picked[km > radius * 1.001 + 0.01].any()
    # Measured from the half-chords, the distances are those worked out at once.
    assert km_of_half_chords(half.copy()).tolist() == km.tolist()


def test_an_answer_remembered_under_a_key_is_worked_out_once() -> None:
    index = NetworkIndex.build({"A": location("A", 40.0, -75.0)})
    asked: list[str] = []

    def answer(value: bool) -> bool:
        asked.append("x")
        return value

    assert index.remembered(("k", 1), lambda: answer(False)) is False
    assert index.remembered(("k", 1), lambda: answer(True)) is False
    assert index.remembered(("k", 2), lambda: answer(True)) is True
    assert asked == ["x", "x"]


@given(
    shape=st.tuples(st.integers(1, 12), st.integers(1, 4)),
    order=st.sampled_from(["C", "F"]),
    data=st.data(),
)
def test_rows_taken_are_numpys_rows_in_the_matrixs_own_layout(
    shape: tuple[int, int], order: str, data: st.DataObject
) -> None:
    matrix = np.asarray(np.arange(shape[0] * shape[1]).reshape(shape), order=order)
    rows = np.array(data.draw(st.lists(st.integers(0, shape[0] - 1), max_size=8)), dtype=np.int64)
    taken = take_rows(matrix, rows)
    assert taken.tolist() == matrix.take(rows, axis=0).tolist()
    assert taken.shape == (len(rows), shape[1])
    if not matrix.flags.c_contiguous:  # column-major only: stays so
        assert taken.flags.f_contiguous
