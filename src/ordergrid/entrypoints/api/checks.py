"""Checks between items of a request body, reported with the offending field's path."""

from __future__ import annotations

from collections.abc import Iterable

from ordergrid.domain.errors import InvalidInput


def require_unique(values: Iterable[str], path: str, what: str, code: str) -> None:
    """Refuse the second occurrence of a value: `path` is like "lines.{}.line_id"."""
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise InvalidInput(
                f"{what} {value!r} appears twice", code=code, field=path.format(index)
            )
        seen.add(value)
