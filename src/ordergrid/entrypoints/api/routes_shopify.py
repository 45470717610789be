"""Shopify's `orders/create` and `orders/cancelled` webhooks: a signed Shopify order
becomes an ordergrid order, and its cancellation cancels it.

Shopify cannot send a bearer token, so this path is the one `/v1` path the token gate lets
through; the HMAC of the raw body is its authentication. See docs/shopify.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ordergrid.adapters.connectors.shopify import (
    CANCELLED,
    Ignored,
    Placement,
    ShopifyConnector,
    SkippedLine,
    check_topic,
)
from ordergrid.domain.errors import InvalidInput, Unavailable
from ordergrid.domain.orders import Order
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api.presenters import order_json
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service.orders import ChannelCancellation

PATH = "/v1/connectors/shopify/orders"
router = APIRouter(tags=["connectors"])
log = logging.getLogger("ordergrid.connectors.shopify")
Handle = Callable[[object], Any]


class SkippedLineOut(BaseModel):
    line_item_id: str
    reason: str


class IgnoredOut(BaseModel):
    outcome: str = "ignored"
    external_id: str
    reason: str
    skipped_lines: list[SkippedLineOut]


def _skipped(lines: tuple[SkippedLine, ...]) -> list[dict[str, str]]:
    return [{"line_item_id": x.line_item_id, "reason": x.reason} for x in lines]


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": s.OrderOut,
        "description": "this Shopify order was placed before; or (orders/cancelled) the order, "
        "cancelled",
    },
    201: {"model": s.OrderOut, "description": "placed and sourced"},
    202: {
        "model": IgnoredOut,
        "description": "nothing placed (cancelled, or nothing in it to fulfil) or nothing left "
        "to cancel",
    },
    401: {"description": "X-Shopify-Hmac-Sha256 missing, or not the body's signature"},
    422: {"description": "another topic, a malformed body, or an order that cannot be placed"},
    503: {"description": "ORDERGRID_SHOPIFY_WEBHOOK_SECRET is not set"},
}
Signature = Annotated[
    str | None, Header(alias="X-Shopify-Hmac-Sha256", description="base64 HMAC-SHA256 of the body")
]
Topic = Annotated[
    str | None, Header(alias="X-Shopify-Topic", description="orders/create or orders/cancelled")
]
ShopDomain = Annotated[str | None, Header(alias="X-Shopify-Shop-Domain")]
WebhookId = Annotated[str | None, Header(alias="X-Shopify-Webhook-Id")]
EventId = Annotated[str | None, Header(alias="X-Shopify-Event-Id")]
TriggeredAt = Annotated[str | None, Header(alias="X-Shopify-Triggered-At")]
ApiVersion = Annotated[str | None, Header(alias="X-Shopify-API-Version")]


@router.post(
    PATH,
    status_code=201,
    response_model=None,
    responses=RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": "Shopify's Order resource"}
                }
            },
        }
    },
)
async def shopify_orders_create(
    request: Request,
    app: App,
    signature: Signature = None,
    topic: Topic = None,
    shop_domain: ShopDomain = None,
    webhook_id: WebhookId = None,
    event_id: EventId = None,
    triggered_at: TriggeredAt = None,
    api_version: ApiVersion = None,
) -> JSONResponse:
    """Take Shopify's `orders/create` delivery exactly as Shopify sends it: the raw body is
    checked against `X-Shopify-Hmac-Sha256` before anything is read, then the order is
    placed on channel `shopify` with Shopify's order id as its external id. A repeated
    delivery answers 200 with the order the first one placed; a cancelled order or one with
    nothing to ship answers 202 and places nothing. An `orders/cancelled` delivery cancels
    every unit not yet shipped and answers 200 with the order (recorded cancelled when it
    was never placed); 202 when nothing was left to cancel or nothing is known of it."""
    connector = app.shopify
    if connector is None:
        raise Unavailable(
            "the Shopify connector needs ORDERGRID_SHOPIFY_WEBHOOK_SECRET",
            code="connector_not_configured",
        )
    body = await request.body()
    connector.authenticate(body, signature)
    if check_topic(topic) == CANCELLED:
        external_id, cancelled = await run_in_threadpool(
            _cancel, app.bus.handle, connector, body, shop_domain
        )
        _log(topic, webhook_id, event_id, shop_domain, api_version, triggered_at, cancelled.outcome)
        return _cancellation_answer(external_id, cancelled)
    outcome = await run_in_threadpool(_place, app.bus.handle, connector, body, shop_domain)
    result = outcome.reason if isinstance(outcome, Ignored) else outcome[0].id
    _log(topic, webhook_id, event_id, shop_domain, api_version, triggered_at, result)
    if isinstance(outcome, Ignored):
        ignored = {
            "outcome": "ignored",
            "external_id": outcome.external_id,
            "reason": outcome.reason,
            "skipped_lines": _skipped(outcome.skipped),
        }
        return JSONResponse(ignored, status_code=202)
    order, created = outcome
    return _order_answer(order, 201 if created else 200)


def _order_answer(order: Order, status: int) -> JSONResponse:
    content = s.OrderOut.model_validate(order_json(order)).model_dump(mode="json")
    return JSONResponse(content, status_code=status)


def _log(topic: str | None, *headers_and_result: str | None) -> None:
    log.info(
        "shopify %s webhook=%s event=%s shop=%s api=%s triggered=%s: %s", topic, *headers_and_result
    )


def _cancel(
    handle: Handle, connector: ShopifyConnector, body: bytes, shop_domain: str | None
) -> tuple[str, ChannelCancellation]:
    """Parse and cancel off the event loop; (Shopify's order id, what was done)."""
    command = connector.cancellation(body, shop_domain)
    result: ChannelCancellation = handle(command)
    return command.external_id, result


def _cancellation_answer(external_id: str, done: ChannelCancellation) -> JSONResponse:
    """200 with the order when it is (now) cancelled; 202 when nothing was cancelled."""
    if done.order is not None and done.outcome != "already_shipped":
        return _order_answer(done.order, 200)
    reason = "order_already_shipped" if done.outcome == "already_shipped" else "order_unknown"
    ignored = {"outcome": "ignored", "external_id": external_id, "reason": reason}
    return JSONResponse({**ignored, "skipped_lines": []}, status_code=202)


def _place(
    handle: Handle, connector: ShopifyConnector, body: bytes, shop_domain: str | None
) -> Ignored | tuple[Order, bool]:
    """Parse and place off the event loop (a large order is CPU work, placing is I/O)."""
    outcome = connector.translate(body, shop_domain)
    if isinstance(outcome, Ignored):
        return outcome
    return _placed(handle, outcome)


def _placed(handle: Handle, placement: Placement) -> tuple[Order, bool]:
    try:
        result: tuple[Order, bool] = handle(placement.command)
    except InvalidInput as exc:
        raise placement.refusal(exc) from None
    return result
