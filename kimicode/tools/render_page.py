"""render_page: look at a page in headless Chromium, with what devtools would show."""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.vision.page_options import PageAction, parse_viewport, resolve_target

if TYPE_CHECKING:
    from PIL import Image


class RenderPageParams(BaseModel):
    target: str = Field(
        description="HTML file in the project (e.g. index.html), or an http://localhost URL."
    )
    viewport: str | None = Field(
        None, description='"WIDTHxHEIGHT" (default 1280x800), or "mobile" / "desktop".'
    )
    full_page: bool = Field(False, description="Capture the whole scrollable page.")
    actions: list[PageAction] | None = Field(
        None,
        description="Steps before the screenshot, in order: click/fill/hover/wait_for a "
        "selector, press a key, scroll, wait ms.",
    )
    reference_image: str | None = Field(
        None, description="Design image in the project to compare with: adds a difference score."
    )
    record_video: bool = Field(False, description="Also record a few seconds, sent as frames.")
    video_seconds: float = Field(3.0, ge=0.5, le=10, description="Length of the recording.")
    scroll: bool = Field(False, description="Scroll down the page during the recording.")


class RenderPage(Tool[RenderPageParams]):
    name = "render_page"
    Params = RenderPageParams
    read_only = True

    async def run(self, params: RenderPageParams, ctx: ToolContext) -> ToolResult:
        from kimicode.vision.diffwords import summary
        from kimicode.vision.imagediff import compare_images
        from kimicode.vision.images import image_part_from_bytes, image_part_from_pil, open_image
        from kimicode.vision.render import render

        viewport = parse_viewport(params.viewport)
        reference = None
        if params.reference_image:
            ref_path = ctx.workspace.resolve(params.reference_image)
            ref_data = await ctx.workspace.read_bytes(ref_path)
            reference = await asyncio.to_thread(open_image, ref_data, ref_path.name)
        background = ctx.services.background
        target = params.target
        if background is not None:  # the agent's own port, as in its shell commands
            target = target.replace("${PORT}", str(background.port))
            target = target.replace("$PORT", str(background.port))
        url = await resolve_target(ctx.workspace, target)
        if background is not None and background.owns_port(urlsplit(url).port):
            await background.wait_listening()  # a dev server just started: give it time
        vision = ctx.settings.vision
        report = await render(
            url,
            viewport,
            full_page=params.full_page,
            actions=params.actions,
            record_seconds=params.video_seconds if params.record_video else 0.0,
            scroll_while_recording=params.scroll,
            settings=vision,
            collect_elements=reference is not None,
            network=ctx.settings.sandbox.network,
        )
        lines = [f"rendered {params.target} at {viewport.width}x{viewport.height}", report.text()]
        images = [await asyncio.to_thread(image_part_from_bytes, report.png, "page.png", vision)]
        if reference is not None:
            shot = await asyncio.to_thread(open_image, report.png, "page.png")
            diff = await asyncio.to_thread(compare_images, shot, reference)
            heat_path = _out_dir(ctx) / f"render-diff-{ctx.call_id or int(time.time() * 1000)}.png"
            await asyncio.to_thread(_save_png, diff.heatmap, heat_path)
            words = summary(diff, report.elements)
            lines.append(f"compared with {params.reference_image}: {words}\nheat map: {heat_path}")
            images.append(await asyncio.to_thread(image_part_from_pil, diff.heatmap, vision))
        if report.frames:
            times = ", ".join(f"{t:g} s" for t, _ in report.frames)
            lines.append(f"recording: {len(report.frames)} frames after the screenshot, at {times}")
            images += [part for _, part in report.frames]
        if not ctx.settings.model.vision:
            lines.append("(images not attached: the model is configured without vision)")
            images = []
        else:
            lines.append("screenshot attached" + (", then the heat map" if reference else ""))
        return ToolResult(text="\n".join(lines), images=images)


def _out_dir(ctx: ToolContext) -> Path:
    session_dir = ctx.services.session_dir
    out = session_dir if session_dir else Path(tempfile.gettempdir()) / "kimicode-renders"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _save_png(img: Image.Image, path: Path) -> None:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    path.write_bytes(buf.getvalue())
