"""Reading a JetStream stream back in tests: a NATS server named by the environment, a
unique stream and subject prefix per test, and a pull consumer that reads it all."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

NATS_ENV = "ORDERGRID_TEST_NATS_URL"


@dataclass(frozen=True)
class Received:
    seq: int
    subject: str
    msg_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class TestStream:
    url: str
    name: str
    prefix: str

    def settings(self) -> dict[str, Any]:
        """The `Settings` fields that relay to this stream."""
        return {
            "nats_url": self.url,
            "nats_stream": self.name,
            "nats_subject_prefix": self.prefix,
            "nats_timeout_seconds": 3.0,
        }

    def env(self) -> dict[str, str]:
        return {f"ORDERGRID_{k.upper()}": str(v) for k, v in self.settings().items()}

    def read_all(self) -> list[Received]:
        """Every message in the stream, in stream order, through a JetStream consumer."""
        return asyncio.run(_read(self))

    def delete(self) -> None:
        asyncio.run(_delete(self))


async def _read(stream: TestStream) -> list[Received]:
    import nats  # noqa: PLC0415
    from nats.errors import TimeoutError as NatsTimeout  # noqa: PLC0415

    nc = await nats.connect(stream.url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(f"{stream.prefix}.>", stream=stream.name)
        got: list[Received] = []
        while True:
            try:
                batch = await sub.fetch(500, timeout=1)
            except NatsTimeout:
                return got
            for m in batch:
                got.append(
                    Received(
                        m.metadata.sequence.stream,
                        m.subject,
                        (m.headers or {}).get("Nats-Msg-Id", ""),
                        json.loads(m.data),
                    )
                )
                await m.ack()
    finally:
        await nc.close()


async def _delete(stream: TestStream) -> None:
    import nats  # noqa: PLC0415
    from nats.js.errors import NotFoundError  # noqa: PLC0415

    nc = await nats.connect(stream.url)
    try:
        await nc.jetstream().delete_stream(stream.name)
    except NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture
def nats_stream() -> Iterator[TestStream]:
    url = os.environ.get(NATS_ENV)
    if not url:
        pytest.skip(
            f"NATS tests need {NATS_ENV} (e.g. nats://127.0.0.1:4222, a server with "
            "JetStream); .ci/run sets it"
        )
    pytest.importorskip("nats", reason="NATS tests need nats-py (the `nats` extra)")
    run = uuid.uuid4().hex[:10]
    stream = TestStream(url, f"TEST_{run.upper()}", f"test{run}")
    yield stream
    stream.delete()
