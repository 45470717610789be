"""The webhook sender against a real local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ordergrid.adapters.webhook_sender import HttpxSender


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Class attributes: each test makes a subclass with lists of its own.
    peers: list[int] = []
    bodies: list[bytes] = []
    status = 204

    def do_POST(self) -> None:
        self.peers.append(self.client_address[1])
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"peers": [], "bodies": [], "status": 204})
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
    sender = HttpxSender(timeout_seconds=5)

    errors = [sender.send(url, f'{{"n":{n}}}'.encode(), {"X-N": str(n)}) for n in range(5)]

    assert errors == [None] * 5
    assert handler.bodies == [f'{{"n":{n}}}'.encode() for n in range(5)]
    assert len(set(handler.peers)) == 1


def test_a_non_2xx_answer_is_reported_as_the_status(
    receiver: tuple[str, type[Recorder]],
) -> None:
    url, handler = receiver
    handler.status = 500

    assert HttpxSender(timeout_seconds=5).send(url, b"{}", {}) == "HTTP 500"


def test_a_receiver_that_is_not_listening_is_reported_as_an_error() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), Recorder) as closed:
        port = closed.server_address[1]

    error = HttpxSender(timeout_seconds=5).send(f"http://127.0.0.1:{port}/", b"{}", {})

    assert error is not None
    assert error.startswith("ConnectError")
