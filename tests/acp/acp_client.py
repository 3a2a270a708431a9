"""A real ACP client (the SDK's client side) driving `python -m kimicode acp` over stdio.

It records every JSON-RPC message the agent sent, every session update, and
every permission request, and answers permission requests from a script of
option ids. Editor buffers can be given: `fs/read_text_file` answers from them.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import acp
from acp import RequestError, schema


class RecordingClient:
    def __init__(self, answers: list[str] | None = None, buffers: dict[str, str] | None = None):
        self.answers = list(answers or [])
        self.buffers = dict(buffers or {})
        self.updates: list[Any] = []
        self.permissions: list[schema.RequestPermissionRequest] = []
        self.writes: list[tuple[str, str]] = []
        self.received: list[dict[str, Any]] = []
        """Every JSON-RPC message from the agent, as it came."""
        self._changed = asyncio.Event()

    # --- the Client protocol ---------------------------------------------------------

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.updates.append(update)
        self._changed.set()

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **_: Any
    ) -> schema.RequestPermissionResponse:
        self.permissions.append(
            schema.RequestPermissionRequest(
                session_id=session_id, tool_call=tool_call, options=options
            )
        )
        self._changed.set()
        answer = self.answers.pop(0) if self.answers else "reject_once"
        if answer == "cancelled":
            return schema.RequestPermissionResponse(
                outcome=schema.DeniedOutcome(outcome="cancelled")
            )
        return schema.RequestPermissionResponse(
            outcome=schema.AllowedOutcome(option_id=answer, outcome="selected")
        )

    async def read_text_file(
        self, session_id: str, path: str, **_: Any
    ) -> schema.ReadTextFileResponse:
        if path not in self.buffers:
            raise RequestError.resource_not_found(path)
        return schema.ReadTextFileResponse(content=self.buffers[path])

    async def write_text_file(
        self, session_id: str, path: str, content: str, **_: Any
    ) -> schema.WriteTextFileResponse:
        self.writes.append((path, content))
        return schema.WriteTextFileResponse()

    # --- helpers for tests ---------------------------------------------------------

    def observe(self, event: Any) -> None:
        if event.direction.value == "incoming":
            self.received.append(event.message)

    def of(self, kind: str) -> list[Any]:
        """Updates of one `sessionUpdate` kind, in order."""
        return [u for u in self.updates if u.session_update == kind]

    def text(self, kind: str = "agent_message_chunk") -> str:
        return "".join(u.content.text for u in self.of(kind))

    async def wait_for(self, condition: Callable[[], bool], limit_s: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        while not condition():
            if loop.time() > deadline:
                raise AssertionError("the agent never sent what the test waits for")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.5)
            except TimeoutError:
                pass


CAPABILITIES = schema.ClientCapabilities(
    fs=schema.FileSystemCapabilities(read_text_file=True, write_text_file=True)
)


@asynccontextmanager
async def running_agent(
    client: RecordingClient, cwd: Path, server_url: str, *args: str, stderr_to: Path
) -> AsyncIterator[tuple[Any, Any]]:
    """`kimicode acp ARGS` as a subprocess, connected and initialized."""
    env = dict(os.environ)
    env["KIMICODE_API_KEY"] = "sk-test-0123456789abcdef"
    env["KIMICODE_BASE_URL"] = server_url
    with stderr_to.open("ab") as err:
        async with acp.spawn_agent_process(
            client,
            sys.executable,
            "-m",
            "kimicode",
            "acp",
            *args,
            env=env,
            cwd=cwd,
            transport_kwargs={"stderr": err, "shutdown_timeout": 60},
            observers=[client.observe],
        ) as (conn, proc):
            yield conn, proc


def transcript(messages: list[dict[str, Any]], width: int = 220) -> str:
    """The agent's JSON-RPC lines, each cut to `width` characters (for a report)."""
    return "\n".join(
        (line if len(line) <= width else line[: width - 1] + "…")
        for line in (json.dumps(m, separators=(",", ":")) for m in messages)
    )


async def no_process(pattern: str) -> bool:
    """True when no process's command line matches `pattern` (pgrep -f)."""
    proc = await asyncio.create_subprocess_exec(
        "pgrep", "-f", pattern, stdout=asyncio.subprocess.DEVNULL
    )
    return await proc.wait() == 1
