"""Webhook subscriptions: create, read and remove them, read their deliveries, and queue
one delivery again."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from urllib.parse import urlsplit

from ordergrid.domain.errors import InvalidInput, NotFound
from ordergrid.domain.webhooks import DeliveryStatus, check_filters
from ordergrid.service.context import Context
from ordergrid.service.ports import Page, Webhook, WebhookDelivery


def _refuse(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, field="url")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_url(ctx: Context, url: str) -> None:
    """http(s) only, and, unless private targets are allowed, never an address inside this
    network (loopback, private, link-local): a subscription must not reach the server
    itself or its neighbours."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        host = None
    if host is None or parts.scheme not in ("http", "https"):
        raise _refuse("the webhook URL must be an http or https URL", "webhook_url_scheme")
    if ctx.webhooks.allow_private:
        return
    addresses = [host] if _is_ip(host) else ctx.webhooks.resolver.addresses(host)
    if not addresses:
        raise _refuse(f"{host!r} does not resolve", "webhook_url_unresolvable")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified:
            raise _refuse(
                f"{host!r} resolves to a private address ({address})",
                "webhook_url_private",
            )


def subscribe(ctx: Context, url: str, events: list[str], secret: str) -> Webhook:
    check_filters(events)
    check_url(ctx, url)
    webhook = Webhook(ctx.ids.new_id(), url, tuple(events), secret, ctx.clock.now())
    with ctx.uow() as uow:
        uow.webhooks.add(webhook)
        uow.commit()
    return webhook


def subscriptions(ctx: Context) -> list[Webhook]:
    with ctx.uow(readonly=True) as uow:
        return uow.webhooks.all()


def subscription(ctx: Context, webhook_id: str) -> Webhook:
    with ctx.uow(readonly=True) as uow:
        found = uow.webhooks.get(webhook_id)
    if found is None:
        raise NotFound("webhook", webhook_id)
    return found


def unsubscribe(ctx: Context, webhook_id: str) -> None:
    with ctx.uow() as uow:
        if not uow.webhooks.remove(webhook_id):
            raise NotFound("webhook", webhook_id)
        uow.commit()


def deliveries(
    ctx: Context, webhook_id: str, limit: int, cursor: str | None
) -> Page[WebhookDelivery]:
    with ctx.uow(readonly=True) as uow:
        if uow.webhooks.get(webhook_id) is None:
            raise NotFound("webhook", webhook_id)
        return uow.webhooks.deliveries(webhook_id, limit, cursor)


def redeliver(ctx: Context, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    """Queue a delivery again now, whatever its state, with a fresh budget of attempts."""
    with ctx.uow() as uow:
        found = uow.webhooks.delivery(delivery_id)
        if found is None or found.webhook_id != webhook_id:
            raise NotFound("delivery", delivery_id)
        requeued = replace(
            found, status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=ctx.clock.now()
        )
        uow.webhooks.save_delivery(requeued)
        uow.commit()
    ctx.wake()
    return requeued
