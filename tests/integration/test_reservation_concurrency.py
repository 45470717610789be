"""Carts and orders racing for a hot SKU on a real database: never more held than stock,
every unit held by exactly one cart or order, one conversion per cart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.integration.conftest import table_positions
from tests.integration.test_concurrency import THREADS, place, seed_hot_network
from tests.service.invariants import check_invariants

from ordergrid.bootstrap import Application
from ordergrid.domain.errors import DomainError
from ordergrid.domain.network import Address
from ordergrid.domain.reservations import InsufficientStock, Reservation
from ordergrid.service.commands import LineInput, PlaceOrder
from ordergrid.service.reservation_commands import PlaceReservation

NEAR_EAST = Address(lat=40.0, lon=-75.0, country="US")


def reserve_hot(app: Application, quantity: int) -> Reservation | None:
    try:
        cart, _ = app.bus.handle(
            PlaceReservation("web", (("HOT", quantity),), destination=NEAR_EAST)
        )
    except InsufficientStock:
        return None
    assert isinstance(cart, Reservation)
    return cart


def hot_positions(app: Application) -> list[tuple[int, int]]:
    return [(p.on_hand, p.reserved) for p in table_positions(app, ["HOT"])]


def test_concurrent_carts_never_hold_more_than_the_stock(application: Application) -> None:
    seed_hot_network(application, units_per_location=5)  # 15 hot units in all

    def reserve_some(_: int) -> int:
        return sum(reserve_hot(application, 1) is not None for _ in range(3))

    with ThreadPoolExecutor(THREADS) as pool:
        held = sum(pool.map(reserve_some, range(THREADS)))
    assert held == 15  # 48 attempts for 15 units: every unit held once, none twice
    assert all(reserved == on_hand for on_hand, reserved in hot_positions(application))
    check_invariants(application.ctx.uow)


def test_carts_and_orders_racing_share_the_stock_exactly(application: Application) -> None:
    seed_hot_network(application, units_per_location=5)

    def mixed(worker: int) -> None:
        for k in range(3):
            if (worker + k) % 2:
                reserve_hot(application, 1 + k % 2)
            else:
                place(application, worker * 10 + k, (LineInput("1", "HOT", 1),))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(mixed, range(THREADS)))
    assert sum(reserved for _, reserved in hot_positions(application)) == 15
    check_invariants(application.ctx.uow)  # reserved = allocations + cart holds


def test_racing_orders_convert_a_cart_once(application: Application) -> None:
    seed_hot_network(application, units_per_location=5)
    cart = reserve_hot(application, 2)
    assert cart is not None

    def convert(n: int) -> str:
        try:
            application.bus.handle(
                PlaceOrder(
                    external_id=f"CONVERT-{n}",
                    channel="web",
                    method="ship",
                    lines=(LineInput("1", "HOT", 2),),
                    address=NEAR_EAST,
                    reservation_id=cart.id,
                )
            )
        except DomainError as err:
            return err.code
        return "converted"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(convert, range(8)))
    assert outcomes == ["converted"] + ["reservation_already_converted"] * 7
    assert sum(reserved for _, reserved in hot_positions(application)) == 2
    check_invariants(application.ctx.uow)
