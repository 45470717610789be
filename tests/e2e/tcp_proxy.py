"""A TCP proxy in test threads, between the processes under test and a shared server
(PostgreSQL, NATS) that must not be restarted.

Two ways for the path to fail:
- `cut`: close every connection and refuse new ones, as a server that went away does;
- `black_hole`: forward nothing while answering nothing, as a network that silently
  drops packets does: new connections complete their TCP handshake (the kernel does it)
  and then hear nothing; established connections stop carrying bytes either way.

`restore` ends either: the proxy listens again, and held bytes flow on, late, as TCP
would retransmit them once the path is back.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Self

from sqlalchemy.engine import make_url
from tests.e2e.test_cli import free_port

#: How often a held connection checks whether the proxy was cut meanwhile.
_HOLD_CHECK_S = 0.1


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()

    def __enter__(self) -> Self:
        self.restore()
        return self

    def __exit__(self, *_: object) -> None:
        self.cut()

    def restore(self) -> None:
        """Listen on the same port again (after a cut), and forward again."""
        with self._lock:
            listening = self._listener is not None
        if not listening:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(128)
            with self._lock:
                self._listener = listener
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        self._flowing.set()

    def cut(self) -> None:
        """Close every connection and stop listening: new connections are refused."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self._close_open()

    def black_hole(self, established: bool = True) -> None:
        """Forward nothing from now on. New connections are accepted and left without an
        answer; established ones are held as well, or, with `established=False`, closed,
        so that every client has to connect anew into the hole."""
        self._flowing.clear()
        if not established:
            self._close_open()

    def _close_open(self) -> None:
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    return
                self._open.add(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        """Reach the server once the path forwards (at once unless black-holed)."""
        if not self._held(client):
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._drop(client)
            return
        with self._lock:
            if client not in self._open:  # cut meanwhile
                _close(upstream)
                return
            self._open.add(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _held(self, sock: socket.socket) -> bool:
        """Wait while the path is a black hole; False when `sock` was closed meanwhile."""
        while not self._flowing.wait(_HOLD_CHECK_S):
            with self._lock:
                if sock not in self._open:
                    return False
        with self._lock:
            return sock in self._open

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        # Bytes (and the end of the stream) read during a black hole wait in the proxy,
        # as unacknowledged segments would wait in the network.
        try:
            while data := source.recv(65536):
                if not self._held(sink):
                    break
                sink.sendall(data)
        except OSError:
            pass
        if self._held(sink):
            self._drop(sink)
        self._drop(source)

    def _drop(self, sock: socket.socket) -> None:
        _close(sock)
        with self._lock:
            self._open.discard(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def through(proxy: TcpProxy, url: str) -> str:
    """A database `url` with its host and port replaced by the proxy's."""
    parsed = make_url(url).set(host="127.0.0.1", port=proxy.port)
    return parsed.render_as_string(hide_password=False)
