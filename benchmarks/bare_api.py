"""A bare FastAPI application: the framework's own cost per request, with no ordergrid
code, for `http_floor.py` to measure beside the real API.

Its routes are shaped like ordergrid's: a liveness check, and a synchronous order route
(run in the thread pool, as ordergrid's routes are) that validates an order body with
pydantic and answers 201 with a small JSON document.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, Field

app = FastAPI()


class Line(BaseModel):
    sku: str = Field(min_length=1, max_length=128)
    quantity: int = Field(gt=0, le=10_000)


class Delivery(BaseModel):
    method: str
    service_level: str = "standard"


class Order(BaseModel):
    channel: str
    external_id: str
    lines: list[Line] = Field(min_length=1, max_length=200)
    delivery: Delivery


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/orders", status_code=201)
def place(order: Order) -> dict[str, object]:
    return {"id": f"ord-{order.external_id}", "status": "accepted", "lines": len(order.lines)}
