"""Closing what rendering started: the shared browser and the local page servers.

Every command that can run an agent calls `close_all()` once on its way out.
"""

from __future__ import annotations

import contextlib


async def close_all() -> None:
    from kimicode.vision.browser import close_browser
    from kimicode.vision.static_server import stop_servers

    with contextlib.suppress(Exception):  # the command has ended: nothing left to report to
        await close_browser()
    with contextlib.suppress(Exception):
        await stop_servers()
