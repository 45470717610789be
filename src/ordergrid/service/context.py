"""What handlers depend on, wired once by the composition root."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ordergrid.service.ports import Clock, Geocoder, IdSource, Observer, UnitOfWork


class UnitOfWorkFactory(Protocol):
    """A new unit of work; read-only ones never block writers (and may not commit)."""

    def __call__(self, readonly: bool = False) -> UnitOfWork: ...


class NullObserver:
    def decision_made(self, outcome: str, elapsed_ms: float) -> None:
        del outcome, elapsed_ms


@dataclass(frozen=True, slots=True)
class Context:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdSource
    geocoder: Geocoder
    observer: Observer = field(default_factory=NullObserver)

    def id_stream(self) -> Iterator[str]:
        while True:
            yield self.ids.new_id()
