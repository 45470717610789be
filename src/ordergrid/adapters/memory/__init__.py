"""In-memory adapters: every port of `ordergrid.service.ports`, with real transactions.

First-class code, not a mock: service tests, the simulator and embedded demos run on it,
and the contract it follows is the SQL adapter's (conditional reservations, optimistic
order versions, an append-only ledger and outbox).

Transactions are serialisable by construction. A unit of work takes the store's lock on
entry, works on its own copy of the tables and publishes that copy on `commit()`;
leaving the block without committing drops the copy. A read-only unit of work takes no
lock: it reads the last committed tables, which are never changed once published. Every
stored value is immutable or copied on the way in and out, so copying a table is copying
a dict, not its contents. That copy is still linear in the store's size per transaction
(about 0.2 ms per thousand orders): right for tests and demos, not for replaying a season.
"""

from ordergrid.adapters.memory.support import FixedClock, SequentialIds, StaticGeocoder
from ordergrid.adapters.memory.uow import InMemoryStore, InMemoryUnitOfWork, unit_of_work_factory

__all__ = [
    "FixedClock",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "SequentialIds",
    "StaticGeocoder",
    "unit_of_work_factory",
]
