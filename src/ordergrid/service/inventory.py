"""Stock feeds: idempotent adjustments and snapshots ordered by `as_of`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.events import Event
from ordergrid.domain.inventory import (
    ADJUSTMENT_REASONS,
    Movement,
    MovementReason,
    Position,
    snapshot_on_hand,
)
from ordergrid.domain.stock_counts import SnapshotMode
from ordergrid.service.availability import watch_availability, with_safety_stock
from ordergrid.service.commands import AdjustInventory, AdjustmentInput, ApplySnapshot
from ordergrid.service.context import Context
from ordergrid.service.disruptions import watch_positions
from ordergrid.service.ports import LedgerEntry, UnitOfWork
from ordergrid.service.stock import position_data


@dataclass(slots=True)
class FeedResult:
    positions: list[Position] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    changed: list[tuple[Position, MovementReason]] = field(default_factory=list)

    def applied(
        self,
        after: Position,
        delta: int,
        reason: MovementReason,
        ref: str | None,
        actor: str,
        at: datetime,
    ) -> None:
        self.positions.append(after)
        self.ledger.append(
            LedgerEntry(
                after.location_id,
                after.sku,
                at,
                delta,
                0,
                after.on_hand,
                after.reserved,
                reason.value,
                ref,
                actor,
            )
        )
        self.changed.append((after, reason))

    def flush(self, uow: UnitOfWork, at: datetime, actor: str) -> None:
        """Record the ledger and tell of the changes (safety stock applied)."""
        uow.inventory.record(self.ledger)
        self.positions = with_safety_stock(uow, self.positions)
        shown = with_safety_stock(uow, [p for p, _ in self.changed])
        self.events = [
            Event("inventory.changed", {**position_data(p), "reason": why.value}, actor=actor)
            for p, (_, why) in zip(shown, self.changed, strict=True)
        ]
        self.events += watch_availability(uow, {p.sku for p in self.positions}, actor)
        uow.outbox.append(self.events, at)


def _check_references(uow: UnitOfWork, adjustments: tuple[AdjustmentInput, ...]) -> None:
    """Every location and SKU must exist and every reason be a feed reason; the first
    offender is reported by its field path."""
    known_skus = uow.products.known({a.sku for a in adjustments})
    reasons = {r.value for r in ADJUSTMENT_REASONS}
    for index, a in enumerate(adjustments):
        if a.reason not in reasons:
            raise InvalidInput(
                f"{a.reason!r} is not an adjustment reason",
                code="invalid_reason",
                field=f"adjustments.{index}.reason",
                allowed=sorted(reasons),
            )
        if uow.locations.get(a.location_id) is None:
            raise InvalidInput(
                f"unknown location {a.location_id!r}",
                code="unknown_location",
                field=f"adjustments.{index}.location_id",
            )
        if a.sku not in known_skus:
            raise InvalidInput(
                f"unknown SKU {a.sku!r}", code="unknown_sku", field=f"adjustments.{index}.sku"
            )


def _refuse_negative(uow: UnitOfWork, a: AdjustmentInput, index: int) -> InvalidInput:
    current = uow.inventory.position(a.location_id, a.sku)
    have = 0 if current is None else current.on_hand
    return InvalidInput(
        f"on-hand of {a.sku!r} at {a.location_id!r} is {have}; delta {a.delta} would make it "
        "negative",
        code="on_hand_negative",
        field=f"adjustments.{index}.delta",
        on_hand=have,
    )


def adjust(cmd: AdjustInventory, ctx: Context) -> FeedResult:
    """Apply each adjustment once (by id); all or nothing for the batch."""
    now = ctx.clock.now()
    result = FeedResult()
    with ctx.uow() as uow:
        _check_references(uow, cmd.adjustments)
        # Rows in (location, SKU) order, as every writer takes them; within one position the
        # request's order is kept (sorting is stable).
        ordered = sorted(enumerate(cmd.adjustments), key=lambda x: (x[1].location_id, x[1].sku))
        for index, a in ordered:
            if not uow.inventory.claim_adjustment(a.id, now):
                # A retry gets the same answer: the position as it is now.
                result.skipped.append({"id": a.id, "reason": "already_applied"})
                current = uow.inventory.position(a.location_id, a.sku)
                if current is not None:
                    result.positions.append(current)
                continue
            reason = MovementReason(a.reason)
            after = uow.inventory.move(Movement(a.location_id, a.sku, a.delta, 0, reason, a.id))
            if after is None:
                raise _refuse_negative(uow, a, index)
            result.applied(after, a.delta, reason, a.id, cmd.actor.name, now)
        result.flush(uow, now, cmd.actor.name)
        watch_positions(uow, result.positions, ctx, now)
        uow.commit()
    return result


def snapshot(cmd: ApplySnapshot, ctx: Context) -> FeedResult:
    """The count at `as_of` plus physical movements recorded since becomes on-hand."""
    now = ctx.clock.now()
    result = FeedResult()
    with ctx.uow() as uow:
        if uow.locations.get(cmd.location_id) is None:
            raise InvalidInput(
                f"unknown location {cmd.location_id!r}",
                code="unknown_location",
                field="location_id",
            )
        _check_skus(uow, cmd)
        _check_not_future(cmd, now)
        items = _counted(uow, cmd)
        uow.inventory.lock(cmd.location_id, [sku for sku, _ in items])
        for sku, counted in sorted(items):
            before = uow.inventory.position(cmd.location_id, sku)
            if (
                before is not None
                and before.snapshot_as_of is not None
                and cmd.as_of <= before.snapshot_as_of
            ):
                result.skipped.append({"sku": sku, "reason": "stale_snapshot"})
                continue
            moved = uow.inventory.physical_since(cmd.location_id, sku, cmd.as_of)
            on_hand = snapshot_on_hand(counted, moved)
            after = uow.inventory.set_on_hand(cmd.location_id, sku, on_hand, cmd.as_of)
            delta = on_hand - (0 if before is None else before.on_hand)
            result.applied(
                after, delta, MovementReason.SNAPSHOT, cmd.as_of.isoformat(), cmd.actor.name, now
            )
        result.flush(uow, now, cmd.actor.name)
        watch_positions(uow, result.positions, ctx, now)
        uow.commit()
    return result


def _counted(uow: UnitOfWork, cmd: ApplySnapshot) -> tuple[tuple[str, int], ...]:
    """The listed counts, and for a full count every other position there at zero."""
    if cmd.mode is SnapshotMode.PARTIAL:
        return cmd.items
    listed = {sku for sku, _ in cmd.items}
    unlisted = [p.sku for p in uow.inventory.positions_at(cmd.location_id) if p.sku not in listed]
    return cmd.items + tuple((sku, 0) for sku in unlisted)


#: How far ahead of this server's clock a count may be stamped (clocks drift).
CLOCK_SKEW = timedelta(minutes=5)


def _check_not_future(cmd: ApplySnapshot, now: datetime) -> None:
    """A count from the future would make every real count after it look stale."""
    if cmd.as_of > now + CLOCK_SKEW:
        raise InvalidInput(
            "as_of is in the future",
            code="as_of_in_future",
            field="as_of",
            server_time=now.isoformat(),
        )


def _check_skus(uow: UnitOfWork, cmd: ApplySnapshot) -> None:
    known = uow.products.known({sku for sku, _ in cmd.items})
    for index, (sku, _) in enumerate(cmd.items):
        if sku not in known:
            raise InvalidInput(
                f"unknown SKU {sku!r}", code="unknown_sku", field=f"items.{index}.sku"
            )
