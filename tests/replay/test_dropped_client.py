"""A client that drops its connection mid-answer ends that answer only.

A killed agent process or a dead Ray node leaves the replay server writing to a
socket that is gone; the server must log it, end that response and go on
serving everyone else, and serve the undelivered turn again to the next ask.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct

import httpx
import pytest

from kimicode.replay.server import ReplayServer

SCRIPT = {
    "conversations": [
        {
            "match": "^slow",
            "turns": [
                {"content": "one two three four five six", "chunks": 6, "chunk_delay_ms": 150},
                {"content": "second turn"},
            ],
        },
        {"match": "^late", "turns": [{"content": "late answer", "latency_ms": 400}]},
        {"match": "^fine", "turns": [{"content": "still here"}]},
    ]
}


def body(text: str, stream: bool = True) -> bytes:
    return json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": text}], "stream": stream}
    ).encode()


async def drop_after(server: ReplayServer, text: str, read_bytes: int) -> None:
    """Send a streamed request, read a little of the answer, then reset the connection."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    data = body(text)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: replay\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data)
    )
    await writer.drain()
    got = b""
    while len(got) < read_bytes:
        chunk = await reader.read(read_bytes - len(got))
        assert chunk, "the server closed first"
        got += chunk
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    writer.close()


async def text_of(client: httpx.AsyncClient, url: str, text: str) -> str:
    response = await client.post(url + "/chat/completions", content=body(text, stream=False))
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


async def test_the_server_keeps_serving_after_clients_drop_mid_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with ReplayServer(SCRIPT) as server, httpx.AsyncClient(timeout=30) as client:
        # One client goes after the headers and a chunk, one before the first byte.
        await drop_after(server, "slow please", read_bytes=200)
        await drop_after(server, "late please", read_bytes=0)
        await asyncio.sleep(1.5)  # both answers have tried to write to the dead sockets
        assert [r["status"] for r in server.requests] == ["client gone", "client gone"]
        assert server.cap.in_flight == 0
        # Everyone else is still served, and the undelivered turns are served again.
        assert await text_of(client, server.url, "fine then") == "still here"
        assert await text_of(client, server.url, "slow please") == "one two three four five six"
        assert await text_of(client, server.url, "late please") == "late answer"
        assert await text_of(client, server.url, "slow please") == "second turn"
    assert server.errors == []
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == [], [r.getMessage() for r in failures]
    gone = [r.getMessage() for r in caplog.records if "client gone" in r.getMessage()]
    assert len(gone) == 2
