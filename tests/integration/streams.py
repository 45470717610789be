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
class StreamUnderTest:
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


async def _read(stream: StreamUnderTest) -> list[Received]:
    import nats  # noqa: PLC0415
    from nats.errors import TimeoutError as NatsTimeout  # noqa: PLC0415

    nc = await nats.connect(stream.url)
    try:
        js = nc.jetstream()
        stored = (await js.stream_info(stream.name)).state.messages
        sub = await js.pull_subscribe(f"{stream.prefix}.>", stream=stream.name)
        got: list[Received] = []
        while len(got) < stored:
            try:
                batch = await sub.fetch(min(500, stored - len(got)), timeout=5)
            except (NatsTimeout, TimeoutError):
                break
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
        return got
    finally:
        await nc.close()


async def _delete(stream: StreamUnderTest) -> None:
    import nats  # noqa: PLC0415
    from nats.js.errors import NotFoundError  # noqa: PLC0415

    nc = await nats.connect(stream.url)
    try:
        await nc.jetstream().delete_stream(stream.name)
    except NotFoundError:
        pass
    finally:
        await nc.close()


def stream_under_test() -> Iterator[StreamUnderTest]:
    """A fresh stream name and subject prefix on the test NATS server; deleted after."""
    url = os.environ.get(NATS_ENV)
    if not url:
        pytest.skip(
            f"NATS tests need {NATS_ENV} (e.g. nats://127.0.0.1:4222, a server with "
            "JetStream); .ci/run sets it"
        )
    pytest.importorskip("nats", reason="NATS tests need nats-py (the `nats` extra)")
    run = uuid.uuid4().hex[:10]
    stream = StreamUnderTest(url, f"TEST_{run.upper()}", f"test{run}")
    yield stream
    stream.delete()
