"""A Shopify `orders/create` delivery for the connector's tests: the body (modelled on
Shopify's documented example, with demo SKUs) and the headers Shopify sends with it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).with_name("shopify_orders_create.json")
SECRET = "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"
#: The sample's order, its two physical line items (the third is a gift card) and SKUs.
ORDER_ID = "5649817485443"
TEE, SHOES, GIFT_CARD = "13703614406787", "13703614439555", "13703614472323"
TEE_SKU, SHOES_SKU = "SKU-00017", "SKU-00042"


def shopify_order() -> dict[str, Any]:
    """A fresh copy of the sample order, to change freely."""
    order: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return order


def hmac_header(body: bytes, secret: str = SECRET) -> str:
    """Computed here, independently of the connector: base64 of HMAC-SHA256 of the bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def delivery_headers(
    body: bytes,
    secret: str = SECRET,
    topic: str = "orders/create",
    webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": hmac_header(body, secret),
        "X-Shopify-Shop-Domain": "harbor-pine.myshopify.com",
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Triggered-At": "2026-03-02T15:14:28.812341Z",
    }
