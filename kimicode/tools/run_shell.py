"""run_shell: a bash command in the agent's root, bounded in time and output.

Started through `trust.launcher` like everything kimicode runs for the model:
in the sandbox, in its own process group with stdin closed (a timeout or
Ctrl-C stops it together with everything it started), without the API keys.
"""

from __future__ import annotations

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
        done = await run_process(
            ProcessSpec(
                command=params.command,
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
                "to keep a server running, redirect its output: "
                "`nohup cmd > server.log 2>&1 &`"
            )
        return ToolResult(text=_join(output, note))


def _join(output: str, note: str) -> str:
    return f"{output}\n\n{note}" if output else note
