"""write_file: create or overwrite a whole file, reporting the diff."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.tools.diffs import unified_diff
from kimicode.tools.text_files import count_lines


class WriteFileParams(BaseModel):
    path: str = Field(description="File to write, relative to the project root.")
    content: str = Field(description="The complete new content of the file.")


class WriteFile(Tool[WriteFileParams]):
    name = "write_file"
    Params = WriteFileParams

    def summary(self, params: WriteFileParams) -> str:
        return f"write {params.path}"

    async def run(self, params: WriteFileParams, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace.resolve(params.path)
        ctx.workspace.check_writable(path)
        rel = ctx.workspace.rel(path)
        existed = await ctx.workspace.exists(path)
        old = ""
        if existed:
            old = (await ctx.workspace.read_bytes(path)).decode("utf-8", "replace")
        await ctx.workspace.write_text(path, params.content)
        lines = count_lines(params.content)
        verb = "updated" if existed else "created"
        diff = unified_diff(rel, old, params.content, created=not existed)
        note = " (content unchanged)" if existed and old == params.content else ""
        return ToolResult(
            text=f"{verb} {rel} ({lines} lines){note}",
            diff=diff,
            changed=[rel],
        )
