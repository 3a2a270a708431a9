"""`kimicode acp`: serve the Agent Client Protocol on stdin/stdout until the client leaves.

stdout carries only JSON-RPC; everything a person should read goes to stderr
(editors show it in their agent log). When the client disconnects, running
turns are cancelled the way Ctrl-C cancels them: sub-agents stop and keep
their work on their branches, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, cast


def run_acp(flags: dict[str, Any]) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="kimicode acp: %(message)s"
    )
    return asyncio.run(serve(flags))


async def serve(flags: dict[str, Any]) -> int:
    import acp

    from kimicode.acp.agent import KimicodeAgent
    from kimicode.acp.transport import stdio_transport

    agent = KimicodeAgent(flags)
    transport = await stdio_transport()
    try:
        # Methods kimicode does not offer (session/list, fork, resume, close, config
        # options) are answered "method not found" by the SDK's router.
        await acp.run_agent(cast("acp.Agent", agent), transport)
    finally:
        await agent.shutdown()
    return 0
