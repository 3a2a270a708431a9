"""edit_file: replace a piece of a file, exactly or tolerant of whitespace."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.tools.diffs import diff_stat, unified_diff
from kimicode.tools.edit_match import Match, apply, closest_lines, exact_matches, tolerant_matches
from kimicode.tools.text_files import decode_text

MAX_LISTED_LINES = 10


class EditFileParams(BaseModel):
    path: str = Field(description="File to edit, relative to the project root.")
    old_string: str = Field(
        description="The exact text to replace, without read_file's line numbers. "
        "Empty only to create a file that does not exist yet."
    )
    new_string: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(
        default=False, description="Replace every occurrence instead of exactly one."
    )


class EditFile(Tool[EditFileParams]):
    name = "edit_file"
    Params = EditFileParams

    def summary(self, params: EditFileParams) -> str:
        return f"edit {params.path}"

    async def run(self, params: EditFileParams, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace.resolve(params.path)
        ctx.workspace.check_writable(path)
        rel = ctx.workspace.rel(path)
        if params.old_string == params.new_string:
            raise ToolError("old_string and new_string are the same; there is nothing to change")
        if not await ctx.workspace.exists(path):
            if params.old_string:
                raise ToolError(
                    f"{rel} does not exist; to create it, use write_file "
                    "(or edit_file with an empty old_string)"
                )
            await ctx.workspace.write_text(path, params.new_string)
            diff = unified_diff(rel, "", params.new_string, created=True)
            return ToolResult(text=f"created {rel}", diff=diff, changed=[rel])
        text = decode_text(await ctx.workspace.read_bytes(path), rel)
        if not params.old_string:
            if text:
                raise ToolError(
                    f"{rel} already exists and is not empty; give old_string to say what to "
                    "replace, or use write_file to replace the whole file"
                )
            matches = [Match(0, 0, params.new_string, 1)]
        else:
            matches = await asyncio.to_thread(find_matches, text, params, rel)
        new_text = apply(text, matches)
        await ctx.workspace.write_text(path, new_text)
        diff = unified_diff(rel, text, new_text)
        added, removed = diff_stat(diff)
        where = "1 place" if len(matches) == 1 else f"{len(matches)} places"
        return ToolResult(
            text=f"edited {rel}: replaced {where} (+{added} -{removed} lines)",
            diff=diff,
            changed=[rel],
        )


def find_matches(text: str, params: EditFileParams, rel: str) -> list[Match]:
    """The places to replace, or a ToolError that helps the model try again."""
    old, new = params.old_string, params.new_string
    matches = exact_matches(text, old, new)
    how = ""
    if not matches:
        matches = tolerant_matches(text, old, new)
        how = " (ignoring differences in whitespace)"
    if not matches:
        near = closest_lines(text, old)
        if near:
            raise ToolError(
                f"old_string was not found in {rel}. The most similar lines in the file are:\n"
                f"{near}\n"
                "Copy the text exactly as it appears (without the line numbers), "
                "or read the file again."
            )
        raise ToolError(
            f"old_string was not found in {rel}, and nothing in the file is close to it; "
            "read the file to see its current content."
        )
    if len(matches) > 1 and not params.replace_all:
        lines = ", ".join(str(m.line) for m in matches[:MAX_LISTED_LINES])
        more = ", …" if len(matches) > MAX_LISTED_LINES else ""
        raise ToolError(
            f"old_string occurs {len(matches)} times in {rel}{how} (at lines {lines}{more}). "
            "Include more surrounding lines so it matches exactly one place, "
            "or set replace_all to true to change every occurrence."
        )
    return matches
