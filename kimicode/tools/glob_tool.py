"""glob: find files by name pattern among the project's files (.gitignore respected)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.globs import compile_glob
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.tools.grep import without_denied

MAX_RESULTS = 500


class GlobParams(BaseModel):
    pattern: str = Field(
        description="Glob such as `**/*.py`, `src/**/*.{ts,tsx}` or `*.md`; a pattern "
        "without a slash matches file names in every directory."
    )


class Glob(Tool[GlobParams]):
    name = "glob"
    Params = GlobParams
    read_only = True

    def summary(self, params: GlobParams) -> str:
        return f"glob {params.pattern}"

    async def run(self, params: GlobParams, ctx: ToolContext) -> ToolResult:
        pattern = params.pattern.strip()
        if pattern.startswith("/"):
            root = ctx.workspace.root.as_posix()
            if pattern != root and not pattern.startswith(root + "/"):
                raise ToolError(
                    f"glob patterns are relative to the project root {root}; "
                    f"{pattern!r} points elsewhere"
                )
            pattern = pattern[len(root) + 1 :] or "**"
        if ".." in pattern.split("/"):
            raise ToolError(
                "glob patterns may not contain '..'; files outside the root are not listed"
            )
        matcher = compile_glob(pattern, search=True)
        found = [rel for rel in await ctx.workspace.list_files() if matcher.match(rel)]
        found = without_denied(ctx, self.name, found)
        if not found:
            return ToolResult(text=f"no files match {params.pattern}")
        lines = found[:MAX_RESULTS]
        if len(found) > MAX_RESULTS:
            lines.append(
                f"… showing the first {MAX_RESULTS} of {len(found)} files; "
                "use a more specific pattern"
            )
        return ToolResult(text="\n".join(lines))
