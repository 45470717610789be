"""A webhook receiver in a process of its own: answers every delivery 204 and records,
per event id (repeats counted, not recorded again), the event's time and when it first
arrived, for the delivery lag (event created -> delivered)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.synchronize import Event
from typing import Any, Self

import httpx

from common import SPAWN, free_port, latency_ms


@dataclass
class Arrivals:
    """event id -> (event time, first arrival), both Unix seconds; repeats counted."""

    first: dict[str, tuple[float, float]] = field(default_factory=dict)
    repeats: int = 0

    def summary(self, since: float, until: float) -> dict[str, Any]:
        """Of the events created in [since, until): how many arrived, delivered per
        second over the span they arrived in, and the lag percentiles."""
        inside = [(at, a) for at, a in self.first.values() if since <= at < until]
        arrived = [a for _, a in inside]
        span = (max(arrived) - min(arrived)) if len(arrived) > 1 else 0.0
        lag = {f"lag_{k}": v for k, v in latency_ms(a - at for at, a in inside).items()}
        return {
            "events": len(inside),
            "repeats": self.repeats,
            "per_s": round(len(arrived) / span, 1) if span else None,
            **lag,
        }


def _handler(arrivals: Arrivals, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Deliveries(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the sender's client expects

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            now = time.time()
            event = json.loads(body)
            at = datetime.fromisoformat(event["at"]).timestamp()
            with lock:
                if event["id"] in arrivals.first:
                    arrivals.repeats += 1
                else:
                    arrivals.first[event["id"]] = (at, now)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            """The number of distinct events received so far, for polling."""
            with lock:
                body = str(len(arrivals.first)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:  # one line per delivery would drown it
            return

    return Deliveries


def _serve(port: int, stop: Event, ready: Event, results: Any) -> None:
    arrivals, lock = Arrivals(), threading.Lock()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(arrivals, lock))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    ready.set()
    stop.wait()
    server.shutdown()
    with lock:
        results.put(arrivals)


class Receiver:
    """The receiver process, from `with` to `stop()` (which returns what it saw)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/events"
        self._stop, self._ready, self._results = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
        self._proc = SPAWN.Process(
            target=_serve, args=(self.port, self._stop, self._ready, self._results), daemon=True
        )
        self._arrivals: Arrivals | None = None

    def __enter__(self) -> Self:
        self._proc.start()
        if not self._ready.wait(30):
            raise RuntimeError("the webhook receiver did not start")
        return self

    def stop(self) -> Arrivals:
        if self._arrivals is None:
            self._stop.set()
            self._arrivals = self._results.get(timeout=60)
            self._proc.join(10)
        return self._arrivals

    def received(self) -> int:
        """Distinct events received so far."""
        return int(httpx.get(self.url, timeout=5).text)

    def __exit__(self, *_: object) -> None:
        if self._proc.is_alive():
            self.stop()
