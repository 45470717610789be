"""The webhook sender against a real local HTTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ordergrid.adapters.webhook_sender import MAX_ANSWER_BYTES, PooledSender


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Class attributes: each test makes a subclass with lists of its own.
    peers: list[int] = []
    bodies: list[bytes] = []
    status = 204
    answer = b""
    delay = 0.0
    headers_out: dict[str, str] = {}

    def do_POST(self) -> None:
        self.peers.append(self.client_address[1])
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.delay)
        self.send_response(self.status)
        for name, value in self.headers_out.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"peers": [], "bodies": [], "headers_out": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


def test_deliveries_to_one_receiver_reuse_one_kept_alive_connection(
    receiver: tuple[str, type[Recorder]],
) -> None:
    url, handler = receiver
    sender = PooledSender(timeout_seconds=5)

    errors = [sender.send(url, f'{{"n":{n}}}'.encode(), {"X-N": str(n)}) for n in range(5)]

    assert errors == [None] * 5
    assert handler.bodies == [f'{{"n":{n}}}'.encode() for n in range(5)]
    assert len(set(handler.peers)) == 1


def test_a_non_2xx_answer_is_reported_as_the_status(
    receiver: tuple[str, type[Recorder]],
) -> None:
    url, handler = receiver
    handler.status = 500

    assert PooledSender(timeout_seconds=5).send(url, b"{}", {}) == "HTTP 500"


def test_a_receiver_that_is_not_listening_is_reported_as_an_error() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), Recorder) as closed:
        port = closed.server_address[1]

    error = PooledSender(timeout_seconds=5).send(f"http://127.0.0.1:{port}/", b"{}", {})

    assert error is not None
    assert error.startswith("connection failed")


def test_a_receiver_slower_than_the_timeout_is_reported_as_a_timeout(
    receiver: tuple[str, type[Recorder]],
) -> None:
    url, handler = receiver
    handler.delay = 1.0

    assert PooledSender(timeout_seconds=0.2).send(url, b"{}", {}) == "timeout"


def test_a_redirect_is_reported_not_followed(receiver: tuple[str, type[Recorder]]) -> None:
    url, handler = receiver
    handler.status = 307
    handler.headers_out = {"Location": url + "/elsewhere"}

    assert PooledSender(timeout_seconds=5).send(url, b"{}", {}) == "HTTP 307"
    assert len(handler.bodies) == 1


def test_a_short_answer_keeps_the_connection_and_a_long_one_closes_it(
    receiver: tuple[str, type[Recorder]],
) -> None:
    url, handler = receiver
    sender = PooledSender(timeout_seconds=5)
    handler.status = 200
    handler.answer = b"ok"
    assert [sender.send(url, b"{}", {}) for _ in range(2)] == [None, None]
    handler.answer = b"x" * (MAX_ANSWER_BYTES + 10)
    assert [sender.send(url, b"{}", {}) for _ in range(2)] == [None, None]

    first, second, third, fourth = handler.peers
    assert first == second == third  # kept alive while answers are short
    assert fourth != third  # the long answer's connection was closed
