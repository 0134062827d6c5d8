"""A loopback TCP forwarder that a test can cut: ``pause()`` is a database outage, ``resume()`` its end.

The shared PostgreSQL server must keep running for everyone else, so a test points the service
at this proxy instead and breaks the proxy. ``pause()`` resets every forwarded connection and
closes the listening socket, so a client sees its open connections die and new ones refused —
what a stopped or restarted server looks like from the application. ``resume()`` listens on the
same port again. ``pause(blackhole=True)`` is a network partition instead: connections stay open
and new ones are accepted, but no byte crosses, so only the client's own timeouts end a wait.

One thread accepts; each connection gets two pump threads (one per direction). Every socket
error ends the connection quietly: a test with ``-W error`` must not see thread exceptions.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``target`` until paused."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432), host: str = "127.0.0.1") -> None:
        """Pick a free port now (so URLs can be built before ``start()``)."""
        self.target, self.host = target, host
        with socket.socket() as probe:
            probe.bind((host, 0))
            self.port: int = probe.getsockname()[1]
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.accepted = 0  # connections forwarded, over the proxy's life
        self._blackhole = threading.Event()

    def start(self) -> TcpProxy:
        """Listen and forward (also what ``resume()`` does)."""
        with self._lock:
            self._blackhole.clear()
            if self._listener is not None:
                return self
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(128)
            self._listener = listener
        self._spawn(self._accept_loop, listener)
        return self

    resume = start

    def pause(self, blackhole: bool = False) -> None:
        """Refuse new connections and reset every open one (``blackhole``: silently drop every byte)."""
        if blackhole:
            self._blackhole.set()
            return
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, set()
        if listener is not None:
            _close(listener, reset=False)
        for conn in conns:
            _close(conn, reset=True)

    def stop(self) -> None:
        """Pause for good and wait for the threads."""
        self.pause()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def open_connections(self) -> int:
        """Client-side sockets currently forwarded."""
        with self._lock:
            return len(self._conns) // 2

    def __enter__(self) -> TcpProxy:
        """Start on entering."""
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        """Stop on leaving."""
        self.stop()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by pause()
                return
            if self._blackhole.is_set():  # accepted by the kernel, answered by nobody
                with self._lock:
                    self._conns.add(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client, reset=True)
                continue
            with self._lock:
                if self._listener is not listener:  # paused while connecting
                    _close(client, reset=True)
                    _close(upstream, reset=True)
                    return
                self._conns.update((client, upstream))
                self.accepted += 1
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                if not self._blackhole.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._conns.discard(src)
            self._conns.discard(dst)
        _close(src, reset=False)
        _close(dst, reset=False)


def _close(sock: socket.socket, reset: bool) -> None:
    """Close ``sock``; with ``reset`` the peer gets a RST (a dead server), not an orderly FIN."""
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
