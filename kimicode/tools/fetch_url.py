"""fetch_url: read a web page as Markdown (the article, not the navigation), text, PDF or image."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.tools.base import Tool, ToolContext, ToolResult


class FetchUrlParams(BaseModel):
    url: str = Field(description="An http:// or https:// URL.")
    max_chars: int | None = Field(
        None, ge=200, le=200_000, description="Characters of text to return (default 20000)."
    )


class FetchUrl(Tool[FetchUrlParams]):
    name = "fetch_url"
    Params = FetchUrlParams
    read_only = True
    network = True

    def summary(self, params: FetchUrlParams) -> str:
        return f"fetch_url {params.url}"

    async def run(self, params: FetchUrlParams, ctx: ToolContext) -> ToolResult:
        from kimicode.web.fetch import fetch
        from kimicode.web.policy import WebPolicy
        from kimicode.web.readable import readable
        from kimicode.web.untrusted import fence

        web = ctx.settings.web
        got = await fetch(
            params.url,
            WebPolicy(web),
            max_bytes=web.max_bytes,
            limit_s=web.timeout,
            max_redirects=web.max_redirects,
        )
        head = [f"URL: {got.url}"]
        if got.hops:
            head.append(f"Redirected from: {' -> '.join(got.hops)}")
        if got.status >= 400:
            raise ToolError(f"{got.url} answered HTTP {got.status}")
        if got.content_type.startswith("image/"):
            return await _image(got.body, got.url, head, ctx)
        page = await asyncio.to_thread(readable, got.body, got.content_type, got.charset, got.url)
        if page.title:
            head.insert(0, f"Title: {page.title}")
        limit = params.max_chars or web.max_chars
        text = page.text
        notes = []
        if got.truncated:
            notes.append(f"the response was cut at {web.max_bytes:,} bytes")
        if len(text) > limit:
            notes.append(
                f"showing the first {limit:,} of {len(text):,} characters; "
                "call again with a larger max_chars for more"
            )
            text = text[:limit]
        if notes:
            head.append("Truncated: " + "; ".join(notes))
        body = fence(text or "(the page has no text)", got.url)
        return ToolResult(text="\n".join(head) + "\n\n" + body)


async def _image(data: bytes, url: str, head: list[str], ctx: ToolContext) -> ToolResult:
    from kimicode.vision.images import ensure_vision, image_part_from_bytes

    ensure_vision(ctx.settings.model)
    name = url.rsplit("/", 1)[-1] or "image"
    try:
        part = await asyncio.to_thread(image_part_from_bytes, data, name, ctx.settings.vision)
    except Exception as exc:  # a corrupt or unsupported image is the page's fault
        raise ToolError(f"{url}: not an image kimicode can read ({exc})") from None
    return ToolResult(text="\n".join(head) + "\n\nimage attached", images=[part])
