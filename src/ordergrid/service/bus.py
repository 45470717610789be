"""The message bus: one handler per command, retried when a race was lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ordergrid.service import (
    backorders,
    exceptions,
    fulfilments,
    inventory,
    network,
    orders,
    pickup_transfers,
    policies,
    reservations,
    scarcity,
    snapshot_import,
    supply,
    supply_receipts,
    timers,
    tokens,
    transfer_cuts,
)
from ordergrid.service.commands import (
    ActivatePolicy,
    ActOnFulfilment,
    AdjustInventory,
    ApplySnapshot,
    CancelChannelOrder,
    CancelException,
    CancelOrder,
    CreateToken,
    PlaceOrder,
    PutLocation,
    PutPolicy,
    PutProducts,
    RefreshScarcity,
    RerouteException,
    RetryException,
    RunDueTimers,
    SetHold,
    SourceBackorders,
    SweepBackorders,
)
from ordergrid.service.context import Context
from ordergrid.service.reservation_commands import (
    ExtendReservation,
    PlaceReservation,
    ReleaseReservation,
)
from ordergrid.service.retry import ATTEMPTS, retrying
from ordergrid.service.supply_commands import (
    CancelSupply,
    DispatchSupply,
    PutSupply,
    ReceiveSupply,
    RejectTransfer,
)

Handler = Callable[[Any, Context], Any]

HANDLERS: dict[type, Handler] = {
    PutLocation: network.put_location,
    PutProducts: network.put_products,
    AdjustInventory: inventory.adjust,
    ApplySnapshot: inventory.snapshot,
    snapshot_import.ImportSnapshot: snapshot_import.import_snapshot,
    PlaceOrder: orders.place_order,
    CancelOrder: orders.cancel_order,
    CancelChannelOrder: orders.cancel_channel_order,
    SetHold: orders.hold_order,
    ActOnFulfilment: fulfilments.act,
    SourceBackorders: backorders.source_backorders,
    SweepBackorders: backorders.sweep_backorders,
    CreateToken: tokens.create_token,
    PutPolicy: policies.put_policy,
    ActivatePolicy: policies.activate_policy,
    RunDueTimers: timers.run_due_timers,
    RefreshScarcity: scarcity.refresh_scarcity,
    RetryException: exceptions.retry,
    RerouteException: exceptions.reroute,
    CancelException: exceptions.cancel_case,
    PlaceReservation: reservations.place_reservation,
    ExtendReservation: reservations.extend_reservation,
    ReleaseReservation: reservations.release_reservation,
    PutSupply: supply.put_supply,
    ReceiveSupply: supply_receipts.receive_supply,
    CancelSupply: supply.cancel_supply,
    DispatchSupply: transfer_cuts.dispatch_supply,
    RejectTransfer: pickup_transfers.reject_transfer,
}


class MessageBus:
    """Runs each command in its own transaction.

    A lost reservation race (`StockConflict`) or a concurrent write to the same order
    (`ConcurrentUpdate`) rolls the transaction back and runs the command again on fresh
    data; after `attempts` the caller gets a retryable `Unavailable`.
    """

    def __init__(self, ctx: Context, attempts: int = ATTEMPTS) -> None:
        self.ctx = ctx
        self.attempts = attempts

    def handle(self, command: object) -> Any:
        handler = HANDLERS[type(command)]

        def attempt() -> Any:
            self.ctx.pending.discard()
            result = handler(command, self.ctx)
            self.ctx.pending.report(self.ctx.observer)
            return result

        return retrying(attempt, self.attempts)
