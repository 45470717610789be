"""Publishing outbox events to NATS JetStream.

nats-py is asyncio; the rest of ordergrid is synchronous. The publisher owns a private
event loop on a thread of its own and offers blocking calls with timeouts on top of it.
It connects on first use (so a process starts while NATS is down) and makes sure the
stream exists with the subjects and duplicate window it needs."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from ordergrid.domain.webhooks import payload
from ordergrid.service.ports import PublishFailed, StoredEvent

T = TypeVar("T")

#: JetStream's de-duplication header: a message whose id the stream saw within its
#: duplicate window is acknowledged but not stored again.
MSG_ID_HEADER = "Nats-Msg-Id"


@dataclass(frozen=True, slots=True)
class StreamOptions:
    url: str
    stream: str = "ORDERGRID"
    subject_prefix: str = "ordergrid"
    timeout_seconds: float = 5.0
    duplicate_window_seconds: float = 120.0

    def servers(self) -> list[str]:
        """`url` may name several servers of a cluster, separated by commas."""
        return [u.strip() for u in self.url.split(",") if u.strip()]

    def subject(self, event_type: str) -> str:
        return f"{self.subject_prefix}.{event_type}"


class NatsPublisher:
    """An `EventPublisher` for one JetStream stream; safe to call from several threads."""

    def __init__(self, options: StreamOptions) -> None:
        self.options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ordergrid-nats", daemon=True
        )
        self._thread.start()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._last_error: Exception | None = None
        # Batches from several threads would interleave their messages: one at a time.
        self._one_batch = asyncio.Lock()

    def publish(self, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        # One timeout for connecting, one for the batch's acknowledgements.
        self._call(self._publish(events), self.options.timeout_seconds * 2 + 1)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        # Closing anyway: the server notices the dropped connection.
        with contextlib.suppress(PublishFailed):
            self._call(self._disconnect(), self.options.timeout_seconds + 1)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def _call(self, work: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout)
        except PublishFailed:
            raise
        except TimeoutError as exc:
            future.cancel()
            raise PublishFailed(f"NATS did not answer within {timeout:.1f}s") from exc
        except (NatsError, OSError) as exc:
            raise PublishFailed(f"NATS: {type(exc).__name__}: {exc}") from exc

    async def _jetstream(self) -> JetStreamContext:
        if self._js is not None and self._nc is not None and self._nc.is_connected:
            return self._js
        if self._nc is None or self._nc.is_closed:
            self._last_error = None
            try:
                # Few reconnect attempts: a client that gave up is closed, and the next
                # batch connects afresh, so the relay's back-off paces the retries.
                self._nc = await nats.connect(
                    self.options.servers(),
                    connect_timeout=self.options.timeout_seconds,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0.5,
                    allow_reconnect=True,
                    error_cb=self._remember,
                )
            except NatsError as exc:
                cause = self._last_error or exc
                raise PublishFailed(f"NATS at {self.options.url}: {cause}") from exc
        if not self._nc.is_connected:
            raise PublishFailed("NATS connection is down; reconnecting")
        self._js = self._nc.jetstream(timeout=self.options.timeout_seconds)
        await self._ensure_stream(self._js)
        return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        o = self.options
        wanted = [f"{o.subject_prefix}.>"]
        try:
            info = await js.stream_info(o.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=o.stream, subjects=wanted, duplicate_window=o.duplicate_window_seconds
                )
            )
            return
        config = info.config
        subjects = list(config.subjects or [])
        if wanted[0] in subjects and config.duplicate_window == o.duplicate_window_seconds:
            return
        # Keep what an operator set (retention, limits, replicas); add what relaying needs.
        config.subjects = [*subjects, *(s for s in wanted if s not in subjects)]
        config.duplicate_window = o.duplicate_window_seconds
        await js.update_stream(config)

    async def _publish(self, events: Sequence[StoredEvent]) -> None:
        async with self._one_batch:
            await self._publish_in_order(events)

    async def _publish_in_order(self, events: Sequence[StoredEvent]) -> None:
        js = await self._jetstream()
        acks: list[asyncio.Future[Any]] = []
        try:
            # Sent one after another on one connection, so the stream stores them in
            # outbox order; the acknowledgements are awaited together.
            for e in events:
                body = payload(e.id, e.type, e.at, e.data).encode()
                # No stall timeout: waiting for a free slot with one would yield to the
                # loop after each message and cost a socket write per message. A batch is
                # far below nats-py's limit of pending acknowledgements.
                ack = await js.publish_async(
                    self.options.subject(e.type), body, headers={MSG_ID_HEADER: e.id}
                )
                acks.append(ack)
        except (NatsError, OSError) as exc:
            await _settle(acks, self.options.timeout_seconds)
            raise PublishFailed(f"NATS: {exc}", _confirmed(acks)) from exc
        done = await _settle(acks, self.options.timeout_seconds)
        if done < len(events):
            raise PublishFailed(_first_error(acks, len(events)), done)

    async def _remember(self, exc: Exception) -> None:
        # nats-py reports connection errors here; the one that made connecting fail
        # explains the failure better than "no servers available".
        self._last_error = exc

    async def _disconnect(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = self._js = None


async def _settle(acks: list[asyncio.Future[Any]], timeout: float) -> int:
    """Wait for the acknowledgements (at most `timeout`); how many from the first came."""
    if acks:
        await asyncio.wait(acks, timeout=timeout)
    for ack in acks:
        if not ack.done():
            ack.cancel()
    return _confirmed(acks)


def _confirmed(acks: list[asyncio.Future[Any]]) -> int:
    count = 0
    for ack in acks:
        if not ack.done() or ack.cancelled() or ack.exception() is not None:
            break
        count += 1
    return count


def _first_error(acks: list[asyncio.Future[Any]], sent: int) -> str:
    for ack in acks:
        if ack.cancelled():
            return "NATS did not acknowledge in time"
        if ack.exception() is not None:
            return f"NATS refused an event: {ack.exception()}"
    return f"NATS acknowledged {len(acks)} of {sent} events"
