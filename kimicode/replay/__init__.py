"""A scripted OpenAI-compatible model server for tests, the demo and deterministic CI runs.

`ReplayServer`, `replay_in_thread` and `serve` live in `kimicode.replay.server`;
they are loaded on first use so importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReplayServer", "replay_in_thread", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kimicode.replay import server

        return getattr(server, name)
    raise AttributeError(name)
