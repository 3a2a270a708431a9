"""Small builders for replay scripts used across the tests."""

from __future__ import annotations

from typing import Any

from kimicode.replay.server import ReplayServer


def turn(content: str = "", **kw: Any) -> dict[str, Any]:
    return {"content": content, **kw} if content else dict(kw)


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def script(*conversations: tuple[str, list[dict[str, Any]]], **top: Any) -> dict[str, Any]:
    return {
        "conversations": [{"match": m, "turns": turns} for m, turns in conversations],
        **top,
    }


def requests_of(server: ReplayServer) -> list[dict[str, Any]]:
    return [r["body"] for r in server.requests if r.get("status") == 200]
