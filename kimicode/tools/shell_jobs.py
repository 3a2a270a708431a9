"""shell_output and shell_kill: the model's handles on its background processes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.tools.background import BackgroundProcesses
from kimicode.tools.base import Tool, ToolContext, ToolResult


class JobParams(BaseModel):
    id: str = Field(description="The id run_shell returned for a background command (bg1, …).")


def _processes(ctx: ToolContext) -> BackgroundProcesses:
    found = ctx.services.background
    if not isinstance(found, BackgroundProcesses):
        raise ToolError("no background processes here: start one with run_shell background")
    return found


class ShellOutput(Tool[JobParams]):
    name = "shell_output"
    Params = JobParams
    read_only = True

    def summary(self, params: JobParams) -> str:
        return params.id

    async def run(self, params: JobParams, ctx: ToolContext) -> ToolResult:
        item = _processes(ctx).get(params.id)
        output = item.process.output().rstrip("\n") or "(no output yet)"
        return ToolResult(text=f"{output}\n\n{item.id}: {item.status()}")


class ShellKill(Tool[JobParams]):
    name = "shell_kill"
    Params = JobParams

    def summary(self, params: JobParams) -> str:
        return params.id

    async def run(self, params: JobParams, ctx: ToolContext) -> ToolResult:
        processes = _processes(ctx)
        was_running = processes.get(params.id).process.running
        item = await processes.kill(params.id)
        output = item.process.output().rstrip("\n")
        note = (
            f"{item.id} stopped, with every process it started"
            if was_running
            else (f"{item.id} had already {item.status()}")
        )
        return ToolResult(text=f"{output}\n\n{note}" if output else note)
