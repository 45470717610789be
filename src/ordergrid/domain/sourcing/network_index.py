"""The network as columns: locations in id order, with what screening needs as arrays.

Built once per version of the network (the view's `locations` mapping) and shared by
every decision that sees the same mapping; whatever depends only on a location and a
policy's rules (type, status, capability, channel, tags, product rules) is worked out
once per set of rules and kept here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ordergrid.domain.network import Location

EARTH_RADIUS_KM = 6371.0088

T = TypeVar("T")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_CACHE_SIZE = 4
#: Distances an index keeps for `distances_to` (16 MB): rows of the stores transfers go
#: to, about 1,900 stores on a network of a thousand locations, 190 on one of ten thousand.
_DISTANCES_KEPT = 2_000_000
#: Sums a squared chord's three parts and halves the chord (squared: a quarter).
_QUARTERS = np.full(3, 0.25)


def where(mask: BoolArray) -> IntArray:
    """Positions where a 1-D mask is true: `np.flatnonzero` without its wrappers, which
    cost more than the work on the engine's small arrays."""
    found: IntArray = mask.nonzero()[0]
    return found


def take_rows(matrix: npt.NDArray[Any], rows: IntArray) -> npt.NDArray[Any]:
    """The rows of a matrix, in its own layout. numpy's `take` along the first axis
    copies a column-major matrix whole into row order first (eight times the cost for
    two rows of an 850 x 5 matrix), so those are read as the columns of its
    transpose."""
    if matrix.flags.f_contiguous and not matrix.flags.c_contiguous:
        taken: npt.NDArray[Any] = matrix.T.take(rows, axis=1).T
        return taken
    return matrix.take(rows, axis=0)


def row_in(positions: IntArray, position: int) -> int | None:
    """Where a network position is in an ascending array of positions (None: absent).
    The array's own `searchsorted`: `np.searchsorted` costs four times as much."""
    i = int(positions.searchsorted(position))
    return i if i < len(positions) and positions[i] == position else None


@dataclass(eq=False)
class NetworkIndex:
    ids: tuple[str, ...]
    locations: tuple[Location, ...]
    position: dict[str, int]
    #: Unit vectors of the locations, as three rows x, y and z (a location per column,
    #: so picking locations copies eight bytes at a time): a great-circle distance is
    #: then one product and one arcsin per location, not the haversine's five
    #: transcendentals.
    xyz: FloatArray
    _memo: dict[Any, Any] = field(default_factory=dict)
    _to_point: dict[tuple[float, float], FloatArray] = field(default_factory=dict)

    @classmethod
    def build(cls, locations: Mapping[str, Location]) -> NetworkIndex:
        ordered = tuple(locations[k] for k in sorted(locations))
        lat = np.radians(np.array([loc.lat for loc in ordered], dtype=np.float64))
        lon = np.radians(np.array([loc.lon for loc in ordered], dtype=np.float64))
        xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        return cls(
            ids=tuple(loc.id for loc in ordered),
            locations=ordered,
            position={loc.id: i for i, loc in enumerate(ordered)},
            xyz=xyz.reshape(3, len(ordered)),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def distances_km(self, idx: IntArray, destination: tuple[float, float]) -> FloatArray:
        """Great-circle km from the locations at `idx` to a point: 2R·asin(c/2) for the
        chord c between their unit vectors (the haversine's value to within 1e-9 km, and exact
        near 0: the chord is measured, not derived from a cosine). Few numpy calls: on
        the engine's short columns each costs more than its arithmetic."""
        return km_of_half_chords(self.half_chords(idx, destination))

    def half_chords(self, idx: IntArray, destination: tuple[float, float]) -> FloatArray:
        """(c/2)² for the chord c from each location at `idx` to the point: what
        `distances_km` turns into km. It grows with the distance, so comparing it with
        `half_chord_within` picks the locations near a point without an arcsin each."""
        lat, lon = math.radians(destination[0]), math.radians(destination[1])
        cos_lat = math.cos(lat)
        apart = self.xyz.take(idx, axis=1)
        point = np.array([[cos_lat * math.cos(lon)], [cos_lat * math.sin(lon)], [math.sin(lat)]])
        apart -= point
        apart *= apart
        quarter: FloatArray = _QUARTERS @ apart
        return quarter

    def distances_to(self, point: tuple[float, float]) -> FloatArray:
        """`distances_km` from every location to the point, remembered for the last
        points asked for: each quote sends transfers to the same few stores near the
        customer, and a store's row is then one `take`, not a trigonometric pass."""
        found = self._to_point.get(point)
        if found is None:
            if len(self._to_point) >= max(1, _DISTANCES_KEPT // max(1, len(self.ids))):
                # The oldest goes; another thread may have dropped it already.
                self._to_point.pop(next(iter(self._to_point)), None)
            found = self.distances_km(np.arange(len(self.ids)), point)
            found.flags.writeable = False
            self._to_point[point] = found
        return found

    def remembered(self, key: Any, compute: Callable[[], T]) -> T:
        """`compute()`, remembered under `key`: for what depends only on the network
        and the (immutable) rules named in the key."""
        memo_key = ("remembered", key)
        if memo_key in self._memo:
            found: T = self._memo[memo_key]
            return found
        made = self._memo[memo_key] = compute()
        return made

    def per_location(self, key: Any, compute: Callable[[Location], Any]) -> list[Any]:
        """`compute` for every location, remembered under `key` (rules are immutable)."""
        found: list[Any] | None = self._memo.get(key)
        if found is None:
            found = [compute(loc) for loc in self.locations]
            self._memo[key] = found
        return found

    def column(self, key: Any, value: Callable[[Location], float]) -> FloatArray:
        """A numeric column of `value` over the locations, remembered under `key`."""
        found: FloatArray | None = self._memo.get(("column", key))
        if found is None:
            found = np.fromiter((value(loc) for loc in self.locations), np.float64, len(self.ids))
            self._memo[("column", key)] = found
        return found

    def mask(self, key: Any, test: Callable[[Location], bool]) -> BoolArray:
        """A boolean column of `test` over the locations, remembered under `key`."""
        found: BoolArray | None = self._memo.get(("mask", key))
        if found is None:
            found = np.fromiter((test(loc) for loc in self.locations), bool, len(self.ids))
            self._memo[("mask", key)] = found
        return found

    def ids_where(self, key: Any, test: Callable[[Location], bool]) -> frozenset[str]:
        """The ids of the locations that pass `test`, remembered under `key`."""
        found: frozenset[str] | None = self._memo.get(("ids", key))
        if found is None:
            found = frozenset(loc.id for loc in self.locations if test(loc))
            self._memo[("ids", key)] = found
        return found


def km_of_half_chords(quarter: FloatArray) -> FloatArray:
    """The great-circle km of `half_chords` (worked in place: the array becomes km)."""
    np.minimum(quarter, 1.0, out=quarter)
    np.sqrt(quarter, out=quarter)
    np.arcsin(quarter, out=quarter)
    quarter *= 2 * EARTH_RADIUS_KM
    return quarter


def half_chord_within(km: float) -> float:
    """The `half_chords` value of a point `km` away, a hair more: every location within
    `km` has at most this (rounding aside), so it picks them out, and a few at the edge
    are then measured."""
    angle = min(km * (1 + 1e-9) + 1e-6, math.pi * EARTH_RADIUS_KM) / (2 * EARTH_RADIUS_KM)
    return math.sin(angle) ** 2


_recent: list[tuple[Mapping[str, Location], NetworkIndex]] = []


def index_of(locations: Mapping[str, Location]) -> NetworkIndex:
    """The index of this mapping; the last few are kept, so a service that hands the
    same mapping to every decision (until the network changes) builds it once."""
    for i, (mapping, index) in enumerate(_recent):
        if mapping is locations:
            return index
        if _same(mapping, locations):
            # A new mapping of the same locations: the next calls with it match at once.
            _recent[i] = (locations, index)
            return index
    index = NetworkIndex.build(locations)
    _recent.insert(0, (locations, index))
    del _recent[_CACHE_SIZE:]
    return index


def _same(a: Mapping[str, Location], b: Mapping[str, Location]) -> bool:
    """The same locations (identical objects: they are immutable and replaced whole)."""
    return len(a) == len(b) and all(
        x is y and k == m for (k, x), (m, y) in zip(a.items(), b.items(), strict=True)
    )
