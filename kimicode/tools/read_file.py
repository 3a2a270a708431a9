"""read_file: line-numbered text, or an image part the model can look at."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.tools.text_files import IMAGE_SUFFIXES, VIDEO_SUFFIXES, decode_text, split_lines

DEFAULT_LIMIT = 2000
MAX_LINE_CHARS = 2000


class ReadFileParams(BaseModel):
    path: str = Field(description="File to read, relative to the project root.")
    offset: int | None = Field(
        default=None, ge=1, description="1-based number of the first line to show."
    )
    limit: int | None = Field(
        default=None, ge=1, description=f"How many lines to show (default {DEFAULT_LIMIT})."
    )


class ReadFile(Tool[ReadFileParams]):
    name = "read_file"
    Params = ReadFileParams
    read_only = True

    def summary(self, params: ReadFileParams) -> str:
        return f"read {params.path}"

    async def run(self, params: ReadFileParams, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace.resolve(params.path)
        rel = ctx.workspace.rel(path)
        suffix = path.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            raise ToolError(f"{rel} is a video; use view_image to look at its frames")
        data = await ctx.workspace.read_bytes(path)
        if suffix in IMAGE_SUFFIXES:
            return await _image_result(data, rel, ctx)
        text = decode_text(data, rel)
        return ToolResult(text=number_lines(text, rel, params.offset or 1, params.limit))


def number_lines(text: str, rel: str, offset: int, limit: int | None) -> str:
    """`{n:>6}\\t{line}` for the requested window, with notes on what was left out."""
    lines = split_lines(text)
    if not lines:
        return f"({rel} is empty)"
    if offset > len(lines):
        raise ToolError(f"offset {offset} is past the end of {rel}, which has {len(lines)} lines")
    limit = limit or DEFAULT_LIMIT
    window = lines[offset - 1 : offset - 1 + limit]
    out = []
    for n, line in enumerate(window, start=offset):
        if len(line) > MAX_LINE_CHARS:
            cut = len(line) - MAX_LINE_CHARS
            line = f"{line[:MAX_LINE_CHARS]}… [line cut: {cut} more characters]"
        out.append(f"{n:>6}\t{line}")
    last = offset - 1 + len(window)
    remaining = len(lines) - last
    if remaining > 0:
        out.append(
            f"… {remaining} more lines not shown ({rel} has {len(lines)} lines); "
            f"read on with offset={last + 1}"
        )
    return "\n".join(out)


async def _image_result(data: bytes, rel: str, ctx: ToolContext) -> ToolResult:
    if not ctx.settings.model.vision:
        raise ToolError(
            f"{rel} is an image, and the configured model does not take images "
            "([model] vision = false)"
        )
    from kimicode.vision.images import image_part_from_bytes

    try:
        part = image_part_from_bytes(data, rel, ctx.settings.vision)
    except ToolError:
        raise
    except Exception as exc:  # a corrupt or truncated image file
        raise ToolError(f"{rel} could not be read as an image: {exc}") from None
    return ToolResult(text=f"{rel} (image, {len(data)} bytes) is attached below.", images=[part])
