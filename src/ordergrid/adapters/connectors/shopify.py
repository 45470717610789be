"""Shopify's order webhooks: their signature, the order `orders/create` asks ordergrid to
place, and the cancellation `orders/cancelled` asks for.

Shopify signs each delivery with the base64 HMAC-SHA256 of the raw body, keyed with the
app's client secret (or, for webhooks made in the shop's admin, the key shown there), in
`X-Shopify-Hmac-Sha256`. The body is checked before it is parsed; a delivery is then turned
into a `PlaceOrder` on channel `shopify` with Shopify's order id as the external id, so a
repeated delivery (Shopify retries anything but a quick 2xx) finds the order it created.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ordergrid.adapters.connectors.shopify_payload import (
    ShopifyAddress,
    ShopifyLineItem,
    ShopifyOrder,
    parse_order,
)
from ordergrid.domain.errors import InvalidInput, Unauthenticated
from ordergrid.domain.network import Address
from ordergrid.service.commands import Actor, CancelChannelOrder, LineInput, PlaceOrder

CHANNEL = "shopify"
TOPIC = "orders/create"
CANCELLED = "orders/cancelled"
TOPICS = (TOPIC, CANCELLED)

DeliveryOption = Literal["standard", "express", "next_day", "same_day"]
#: Phrases looked for in the shipping line's code and title (lower case), first match wins;
#: no match: standard.
DEFAULT_SERVICE_LEVELS: dict[str, DeliveryOption] = {
    "same day": "same_day",
    "same-day": "same_day",
    "next day": "next_day",
    "next-day": "next_day",
    "overnight": "next_day",
    "express": "express",
}
#: An option to (delivery method, service level): same-day is a method of its own.
_DELIVERY: dict[str, tuple[str, str]] = {
    "standard": ("ship", "standard"),
    "express": ("ship", "express"),
    "next_day": ("ship", "next_day"),
    "same_day": ("same_day", "standard"),
}


def signature(secret: str, body: bytes) -> str:
    """What Shopify puts in `X-Shopify-Hmac-Sha256` for this body."""
    return base64.b64encode(_digest(secret, body)).decode("ascii")


def _digest(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of exactly these bytes (compared in constant time)."""
    if not header:
        return False
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):  # not base64, or not even ASCII
        return False
    return hmac.compare_digest(given, _digest(secret, body))


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line item ordergrid leaves alone, and why."""

    line_item_id: str
    reason: str  # gift_card | no_shipping_required | already_fulfilled


@dataclass(frozen=True, slots=True)
class Placement:
    """The order to place, and where each of its lines came from in Shopify's document."""

    command: PlaceOrder
    #: For each command line, its index in `line_items`.
    sources: tuple[int, ...]
    skipped: tuple[SkippedLine, ...]

    def shopify_field(self, field: str) -> str:
        """A field of the order placed, as a path in the document Shopify sent."""
        line = _LINE_FIELD.match(field)
        if line is not None:
            index, name = int(line[1]), line[2]
            return f"line_items[{self.sources[index]}].{_LINE_FIELDS.get(name, name)}"
        return _ORDER_FIELDS.get(field, field)

    def refusal(self, exc: InvalidInput) -> InvalidInput:
        """The service's refusal, naming the field of Shopify's document."""
        details = dict(exc.details)
        field = self.shopify_field(str(details.pop("field", "body")))
        return InvalidInput(exc.message, code=exc.code, field=field, **details)


_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_LINE_FIELD = re.compile(r"^lines\.(\d+)\.(\w+)$")
_LINE_FIELDS = {"line_id": "id", "quantity": "fulfillable_quantity"}
_ORDER_FIELDS = {
    "lines": "line_items",
    "delivery.address": "shipping_address",
    "delivery.address.postal_code": "shipping_address.zip",
    "delivery.pickup_location_id": "location_id",
}


@dataclass(frozen=True, slots=True)
class Ignored:
    """A delivery that asks for nothing to be fulfilled (answered 202, nothing created)."""

    external_id: str
    reason: str  # order_cancelled | nothing_to_fulfil
    skipped: tuple[SkippedLine, ...]


class ShopifyConnector:
    """Checks deliveries against the secret and maps orders with the configured tables."""

    def __init__(
        self,
        secret: str,
        service_levels: Mapping[str, DeliveryOption] | None = None,
        pickup_locations: Mapping[str, str] | None = None,
    ) -> None:
        self._secret = secret
        table = DEFAULT_SERVICE_LEVELS if service_levels is None else service_levels
        self.service_levels = tuple((phrase.lower(), option) for phrase, option in table.items())
        self.pickup_locations = dict(pickup_locations or {})

    def authenticate(self, body: bytes, header: str | None) -> None:
        """Raise `Unauthenticated` unless Shopify signed exactly this body."""
        if not header:
            raise Unauthenticated(
                "X-Shopify-Hmac-Sha256 is missing", code="shopify_signature_missing"
            )
        if not verify(self._secret, body, header):
            raise Unauthenticated(
                "X-Shopify-Hmac-Sha256 does not match the body signed with the configured secret",
                code="shopify_signature_invalid",
            )

    def translate(self, body: bytes, shop_domain: str | None = None) -> Placement | Ignored:
        """What a verified `orders/create` body asks for."""
        return self.placement(parse_order(body), shop_domain)

    def cancellation(self, body: bytes, shop_domain: str | None = None) -> CancelChannelOrder:
        """What a verified `orders/cancelled` body asks for: cancel the order placed for
        it, or record it cancelled when it was never placed (Shopify does not promise to
        deliver `orders/create` first)."""
        order = parse_order(body)
        try:
            placed = self.placement(order, shop_domain, cancelled=True)
        except InvalidInput:  # not an order ordergrid could take: nothing to record
            placed = None
        placement = placed.command if isinstance(placed, Placement) else None
        return CancelChannelOrder(
            channel=CHANNEL,
            external_id=str(order.id),
            reason=f"shopify: {order.cancel_reason or 'cancelled'}",
            placement=placement,
            actor=_actor(shop_domain),
        )

    def placement(
        self, order: ShopifyOrder, shop_domain: str | None = None, *, cancelled: bool = False
    ) -> Placement | Ignored:
        """The order to place for a parsed Shopify order, or why there is none; refusals
        (`InvalidInput`) name the field of Shopify's document. A cancelled order places
        nothing unless `cancelled` asks for it as it was before."""
        external_id = str(order.id)
        if order.cancelled_at is not None and not cancelled:
            return Ignored(external_id, "order_cancelled", ())
        lines, sources, skipped = _lines(order.line_items, as_ordered=cancelled)
        if not lines:
            return Ignored(external_id, "nothing_to_fulfil", skipped)
        actor = _actor(shop_domain)
        command = PlaceOrder(
            external_id=external_id,
            channel=CHANNEL,
            lines=lines,
            customer=_customer(order),
            tags=_tags(order),
            actor=actor,
            **self._delivery(order),
        )
        return Placement(command, sources, skipped)

    def _delivery(self, order: ShopifyOrder) -> dict[str, Any]:
        if order.shipping_address is None:
            return {"method": "pickup", "pickup_location_id": self._pickup_location(order)}
        text = " ".join(
            part for line in order.shipping_lines for part in (line.code, line.title) if part
        ).lower()
        option = next((o for phrase, o in self.service_levels if phrase in text), "standard")
        method, level = _DELIVERY[option]
        return {
            "method": method,
            "service_level": level,
            "address": _address(order.shipping_address),
        }

    def _pickup_location(self, order: ShopifyOrder) -> str:
        """An order without a shipping address is collected at the till's store, when the
        Shopify location is mapped; a web local pick-up does not name its store."""
        if order.location_id is None:
            raise InvalidInput(
                "the order has no shipping address and names no Shopify location to collect "
                "it from",
                code="shipping_address_required",
                field="shipping_address",
            )
        location = self.pickup_locations.get(str(order.location_id))
        if location is None:
            raise InvalidInput(
                f"Shopify location {order.location_id} is not mapped to an ordergrid location "
                "(ORDERGRID_SHOPIFY_PICKUP_LOCATIONS)",
                code="pickup_location_unmapped",
                field="location_id",
                shopify_location_id=str(order.location_id),
            )
        return location


def _actor(shop_domain: str | None) -> Actor:
    # The shop names who acted on the timeline; the header is not signed, so anything
    # but a host name is left out.
    shop = shop_domain if shop_domain and _HOST.match(shop_domain) else None
    return Actor(f"{CHANNEL}:{shop}" if shop else CHANNEL)


def check_topic(topic: str | None) -> str:
    """`orders/create` and `orders/cancelled` are read here; other topics are refused,
    not misread."""
    if topic not in TOPICS:
        raise InvalidInput(
            f"this endpoint takes {' and '.join(TOPICS)} deliveries, not "
            f"{topic or 'a delivery without topic'}",
            code="shopify_topic_unsupported",
            field="X-Shopify-Topic",
            topic=topic,
        )
    return topic


def _skip_reason(item: ShopifyLineItem, units: int) -> str | None:
    if item.gift_card or item.fulfillment_service == "gift_card":
        return "gift_card"
    if not item.requires_shipping:
        return "no_shipping_required"
    if units == 0:
        return "already_fulfilled"
    return None


def _lines(
    items: list[ShopifyLineItem], *, as_ordered: bool = False
) -> tuple[tuple[LineInput, ...], tuple[int, ...], tuple[SkippedLine, ...]]:
    """The lines to fulfil, their indexes in `line_items`, and the lines left alone.
    `as_ordered` takes each line's ordered quantity: a cancelled order has nothing left
    to fulfil."""
    lines: list[LineInput] = []
    sources: list[int] = []
    skipped: list[SkippedLine] = []
    for index, item in enumerate(items):
        units = item.quantity if as_ordered else item.units
        reason = _skip_reason(item, units)
        if reason is not None:
            skipped.append(SkippedLine(str(item.id), reason))
            continue
        sku = (item.sku or "").strip()
        if not sku:
            raise InvalidInput(
                "a line item to ship has no SKU, so no stock can be found for it",
                code="sku_missing",
                field=f"line_items[{index}].sku",
                line_item_id=str(item.id),
            )
        lines.append(LineInput(str(item.id), sku, units, item.price))
        sources.append(index)
    return tuple(lines), tuple(sources), tuple(skipped)


def _address(a: ShopifyAddress) -> Address:
    # Shopify sends null coordinates when it could not geocode; (0, 0) is the same thing
    # written as numbers, and is in the Gulf of Guinea.
    located = (
        a.latitude is not None and a.longitude is not None and (a.latitude, a.longitude) != (0, 0)
    )
    return Address(
        line1=a.address1,
        line2=a.address2,
        city=a.city,
        region=a.province_code,
        postal_code=a.zip,
        country=None if a.country_code is None else a.country_code.upper(),
        lat=a.latitude if located else None,
        lon=a.longitude if located else None,
    )


def _customer(order: ShopifyOrder) -> dict[str, Any]:
    customer: dict[str, Any] = {}
    if order.customer is not None and order.customer.id is not None:
        customer["id"] = str(order.customer.id)
    email = (order.customer.email if order.customer else None) or order.email
    if email:
        customer["email"] = email
    return customer


def _tags(order: ShopifyOrder) -> frozenset[str]:
    """Shopify's comma-separated tags; a test order (bogus gateway) also gets `test`, so a
    policy's hold rules can keep it from real stock."""
    tags = {t.strip() for t in (order.tags or "").split(",") if t.strip()}
    if order.test:
        tags.add("test")
    return frozenset(tags)
