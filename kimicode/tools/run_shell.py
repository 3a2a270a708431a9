"""run_shell: a bash command in the agent's root, bounded in time and output.

Started through `trust.launcher` like everything kimicode runs for the model:
in the sandbox, in its own process group with stdin closed (a timeout or
Ctrl-C stops it together with everything it started), without the API keys.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.trust.launcher import ProcessSpec, run_process

MAX_TIMEOUT_S = 600.0


class RunShellParams(BaseModel):
    command: str = Field(description="The bash command line to run in the project root.")
    timeout: float | None = Field(
        default=None,
        gt=0,
        description=f"Seconds before the command is stopped (default from settings, at most "
        f"{MAX_TIMEOUT_S:.0f}).",
    )
    background: bool = Field(
        default=False,
        description="Start it in the background (a dev server, a watcher) and return its id "
        "at once; read its output with shell_output, stop it with shell_kill. $PORT is your "
        "port for a server.",
    )


class RunShell(Tool[RunShellParams]):
    name = "run_shell"
    Params = RunShellParams

    def summary(self, params: RunShellParams) -> str:
        return params.command

    async def run(self, params: RunShellParams, ctx: ToolContext) -> ToolResult:
        if not params.command.strip():
            raise ToolError("the command is empty")
        if "\x00" in params.command:
            raise ToolError("the command contains a NUL byte, which no shell command can hold")
        await ctx.workspace.prepare_shell()
        if params.background:
            return await _start_background(params.command, ctx)
        background = ctx.services.background
        prefix = background.env_prefix() if background is not None else ""
        default = ctx.settings.shell.timeout
        timeout = min(params.timeout or default, max(MAX_TIMEOUT_S, default))
        done = await run_process(
            ProcessSpec(
                command=prefix + params.command,
                root=ctx.workspace.root,
                sandbox=ctx.services.sandbox,
                timeout=timeout,
                read_only=ctx.workspace.sandbox_read_only(),
                max_output=ctx.settings.shell.max_output,
            )
        )
        output = done.output.rstrip("\n")
        outcome = done.outcome
        if outcome == "timeout":
            note = (
                f"command timed out after {timeout:g} s and was stopped "
                "(with every process it started); run long tasks in smaller steps "
                "or pass a larger timeout"
            )
            return ToolResult(text=_join(output, note), is_error=True)
        note = f"exit code {done.exit_code}"
        if outcome == "lingering":
            note += (
                "\nbackground processes still writing to the output were stopped; "
                "to keep a server running, run it with background: true"
            )
        return ToolResult(text=_join(output, note))


def _join(output: str, note: str) -> str:
    return f"{output}\n\n{note}" if output else note


STARTUP_S = 1.0
"""How long a background command is watched before its id is returned (early output, a
command that fails at once)."""


async def _start_background(command: str, ctx: ToolContext) -> ToolResult:
    background = ctx.services.background
    if background is None:
        raise ToolError("background processes are not available here")
    item = await background.start(
        ProcessSpec(
            command=command,
            root=ctx.workspace.root,
            sandbox=ctx.services.sandbox,
            read_only=ctx.workspace.sandbox_read_only(),
            max_output=ctx.settings.shell.max_output,
        )
    )
    await asyncio.sleep(STARTUP_S)
    output = item.process.output().rstrip("\n")
    if not item.process.running:
        note = f"{item.id} exited at once with code {item.process.returncode}"
        return ToolResult(text=_join(output, note), is_error=item.process.returncode != 0)
    note = (
        f"started in the background as {item.id} (PORT={background.port}): read its output "
        f"with shell_output(id={item.id!r}), stop it with shell_kill(id={item.id!r}); "
        f"a server on $PORT is http://localhost:{background.port} for render_page"
    )
    return ToolResult(text=_join(output, note))
