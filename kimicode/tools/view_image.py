"""view_image: show the model an image, or a video as frames labelled with their times."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.vision.images import ensure_vision, image_part_from_bytes, is_image_path
from kimicode.vision.video import format_ts, is_animated_gif, is_video_path, sample_video_bytes


class ViewImageParams(BaseModel):
    path: str = Field(
        description="Image (PNG, JPEG, WebP, GIF) or video (mp4, webm, mov) file in the project."
    )


class ViewImage(Tool[ViewImageParams]):
    name = "view_image"
    Params = ViewImageParams
    read_only = True

    async def run(self, params: ViewImageParams, ctx: ToolContext) -> ToolResult:
        ensure_vision(ctx.settings.model)
        path = ctx.workspace.resolve(params.path)
        rel = ctx.workspace.rel(path)
        if not (is_image_path(path) or is_video_path(path)):
            raise ToolError(
                f"{rel} is not an image or video (png, jpg, webp, gif, mp4, webm, mov); "
                "use read_file for text"
            )
        data = await ctx.workspace.read_bytes(path)
        vision = ctx.settings.vision
        if is_video_path(path) or is_animated_gif(data):
            frames = await asyncio.to_thread(sample_video_bytes, data, path.name, vision)
            times = ", ".join(f"{format_ts(t)} s" for t, _ in frames)
            text = f"{rel}: {len(frames)} frames, in order, at {times}"
            return ToolResult(text=text, images=[part for _, part in frames])
        part = await asyncio.to_thread(image_part_from_bytes, data, path.name, vision)
        return ToolResult(text=f"{rel}: image attached", images=[part])
