"""run_shell: a bash command in the agent's root, bounded in time and output.

The command runs in its own session (process group) with stdin closed, so a
timeout or Ctrl-C can stop it together with everything it started. API keys
are removed from its environment: a command the model writes never sees them.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.tools.process_group import kill_group
from kimicode.tools.shell_output import OutputCapture
from kimicode.trust.sandbox import scrub_env

MAX_TIMEOUT_S = 600.0
DRAIN_S = 1.0
"""How long output may keep flowing after bash exits (background jobs holding the pipe)."""
EXIT_POLL_S = 0.05


class RunShellParams(BaseModel):
    command: str = Field(description="The bash command line to run in the project root.")
    timeout: float | None = Field(
        default=None,
        gt=0,
        description=f"Seconds before the command is stopped (default from settings, at most "
        f"{MAX_TIMEOUT_S:.0f}).",
    )


class RunShell(Tool[RunShellParams]):
    name = "run_shell"
    Params = RunShellParams

    def summary(self, params: RunShellParams) -> str:
        return params.command

    async def run(self, params: RunShellParams, ctx: ToolContext) -> ToolResult:
        if not params.command.strip():
            raise ToolError("the command is empty")
        await ctx.workspace.prepare_shell()
        default = ctx.settings.shell.timeout
        timeout = min(params.timeout or default, max(MAX_TIMEOUT_S, default))
        argv = ["bash", "-c", params.command]
        sandbox = ctx.services.sandbox
        if sandbox is not None:
            argv = sandbox.wrap(argv, ctx.workspace.root)
        capture = OutputCapture(ctx.settings.shell.max_output)
        proc = await _spawn(argv, ctx.workspace.root)
        outcome = await _supervise(proc, capture, timeout)
        output = capture.text().rstrip("\n")
        if outcome == "timeout":
            note = (
                f"command timed out after {timeout:g} s and was stopped "
                "(with every process it started); run long tasks in smaller steps "
                "or pass a larger timeout"
            )
            return ToolResult(text=_join(output, note), is_error=True)
        note = f"exit code {proc.returncode}"
        if outcome == "lingering":
            note += (
                "\nbackground processes still writing to the output were stopped; "
                "to keep a server running, redirect its output: "
                "`nohup cmd > server.log 2>&1 &`"
            )
        return ToolResult(text=_join(output, note))


async def _spawn(argv: list[str], cwd: Path) -> asyncio.subprocess.Process:
    """Start the command in its own session; a cancel during start-up still kills its group."""
    spawning = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=child_env(),
        )
    )
    try:
        return await asyncio.shield(spawning)
    except asyncio.CancelledError:
        try:
            proc = await spawning
        except OSError:
            raise asyncio.CancelledError from None
        await asyncio.shield(kill_group(proc.pid))
        raise
    except OSError as exc:
        raise ToolError(f"could not start the command: {exc}") from None


async def _supervise(
    proc: asyncio.subprocess.Process, capture: OutputCapture, limit_s: float
) -> str:
    """Run to completion: "done", "timeout" or "lingering"; the group is killed on cancel."""
    assert proc.stdout is not None
    reader = asyncio.create_task(_pump(proc.stdout, capture))
    exited = asyncio.create_task(_exited(proc))
    try:
        try:
            async with asyncio.timeout(limit_s):
                await asyncio.wait({reader, exited}, return_when=asyncio.FIRST_COMPLETED)
                if reader.done():  # output closed: the command is ending
                    await proc.wait()
                    return "done"
        except TimeoutError:
            await _stop(proc, reader)
            return "timeout"
        try:  # bash exited, but something it started may still hold the output open
            await asyncio.wait_for(asyncio.shield(reader), DRAIN_S)
        except TimeoutError:
            await _stop(proc, reader)
            return "lingering"
        await proc.wait()
        return "done"
    except asyncio.CancelledError:
        reader.cancel()
        await asyncio.shield(kill_group(proc.pid))
        raise
    finally:
        exited.cancel()


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Returns once bash itself has exited.

    `proc.wait()` also waits for the output pipe to close, which a background
    job may hold open for ever; asyncio sets `returncode` as soon as the exit
    is seen, so poll that instead.
    """
    while proc.returncode is None:  # noqa: ASYNC110
        await asyncio.sleep(EXIT_POLL_S)


async def _stop(proc: asyncio.subprocess.Process, reader: asyncio.Task[Any]) -> None:
    """Kill the group, then collect the last output; the pipe closes once the group is dead."""
    await kill_group(proc.pid)
    try:
        await asyncio.wait_for(reader, DRAIN_S)
        await asyncio.wait_for(proc.wait(), DRAIN_S)
    except TimeoutError:
        reader.cancel()


async def _pump(stream: asyncio.StreamReader, capture: OutputCapture) -> None:
    while chunk := await stream.read(65536):
        capture.feed(chunk)


def child_env() -> dict[str, str]:
    env = scrub_env(os.environ)
    env.update(KIMICODE="1", PAGER="cat", GIT_PAGER="cat", GIT_TERMINAL_PROMPT="0")
    return env


def _join(output: str, note: str) -> str:
    return f"{output}\n\n{note}" if output else note
