"""The database's JSON columns read back exactly what the standard library would give."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ordergrid.adapters.db.json_codec import dumps, loads

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
keys = st.text() | st.integers(-(2**40), 2**40)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


@given(documents)
def test_a_document_reads_back_as_the_standard_library_would_read_it(value: Any) -> None:
    assert loads(dumps(value)) == json.loads(json.dumps(value))


def test_rows_written_with_nan_by_the_standard_library_still_read() -> None:
    assert loads('{"x": NaN, "y": Infinity}')["y"] == float("inf")


def test_numpy_floats_are_written_as_numbers() -> None:
    assert loads(dumps({"cost": np.float64(1.25)})) == {"cost": 1.25}
