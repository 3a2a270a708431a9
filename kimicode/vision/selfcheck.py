"""The visual self-check: render what the agent built and show it next to the design.

When the agent says it is done after writing a frontend from an image or
video, the loop calls `visual_check` for a round: the page is rendered, the
screenshot kept as `selfcheck-<round>.png` in the session's folder, compared
with the reference, and the parts returned here go back to the model, which
either fixes what differs or answers with `MATCH_MARKER`. The comparison is
also put in words (scores, and each differing region named after the element
under it, with its colours), which is all a model configured without vision
receives: the check runs for it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kimicode.vision.diffwords import summary
from kimicode.vision.imagediff import compare_images
from kimicode.vision.images import image_part_from_bytes, image_part_from_pil, open_image
from kimicode.vision.page_options import Viewport, parse_viewport, resolve_target
from kimicode.vision.render import render

if TYPE_CHECKING:
    from kimicode.config import VisionSettings
    from kimicode.tools.workspace import Workspace

MATCH_MARKER = "VISUAL CHECK: MATCHES"
FRONTEND_SUFFIXES = frozenset(
    {".html", ".htm", ".css", ".scss", ".js", ".jsx", ".mjs", ".ts", ".tsx", ".vue", ".svelte"}
)
_MAX_VIEWPORT_HEIGHT = 1200


@dataclass(slots=True)
class VisualCheckResult:
    round_no: int
    screenshot_path: Path
    score: float | None
    """Difference from the reference, 0 (same) .. 1; None without a reference."""
    errors: list[str]
    """Console errors, page errors and failed requests."""
    heatmap_path: Path | None
    words: str = ""
    """The comparison in words (empty without a reference)."""
    parts: list[dict[str, Any]] = field(default_factory=list)
    """Content parts for the user message that starts the next round."""


def should_self_check(written_files: Sequence[str], had_media: bool, setting: bool | None) -> bool:
    """The setting decides when given; otherwise frontend files written from an image/video."""
    if setting is not None:
        return setting
    return had_media and any(is_frontend_file(f) for f in written_files)


def is_frontend_file(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in FRONTEND_SUFFIXES


def find_page_target(written_files: Sequence[str], workspace: Workspace) -> str | None:
    """index.html (written, or at the root), else the first written HTML file."""
    html = [f for f in written_files if PurePosixPath(f).suffix.lower() in (".html", ".htm")]
    for f in html:
        if PurePosixPath(f).name == "index.html":
            return f
    if (workspace.root / "index.html").is_file():
        return "index.html"
    return html[0] if html else None


def is_match(reply: str) -> bool:
    """The model's answer says the page matches."""
    return MATCH_MARKER.lower() in reply.lower()


async def visual_check(
    workspace: Workspace,
    target: str,
    reference: Path | None,
    settings: VisionSettings,
    out_dir: Path,
    round_no: int,
    send_images: bool = True,
    network: bool = False,
) -> VisualCheckResult:
    """Render `target`, compare with `reference`, keep the screenshot; one round's message.

    Without `send_images` (a model without vision) the message is text only."""
    ref_img = None
    if reference is not None:
        ref_data = await asyncio.to_thread(reference.read_bytes)
        ref_img = await asyncio.to_thread(open_image, ref_data, reference.name)
    viewport, full_page = _viewport_for(ref_img.size if ref_img else None)
    url = await resolve_target(workspace, target)
    report = await render(
        url,
        viewport,
        full_page=full_page,
        settings=settings,
        collect_elements=ref_img is not None,
        network=network,
    )
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    shot_path = out_dir / f"selfcheck-{round_no}.png"
    await asyncio.to_thread(shot_path.write_bytes, report.png)
    result = VisualCheckResult(round_no, shot_path, None, report.problems, None)
    screenshot: dict[str, Any] | None = await asyncio.to_thread(
        image_part_from_bytes, report.png, shot_path.name, settings
    )
    heat_part: dict[str, Any] | None = None
    ref_part: dict[str, Any] | None = None
    if ref_img is not None and reference is not None:
        shot = await asyncio.to_thread(open_image, report.png, shot_path.name)
        diff = await asyncio.to_thread(compare_images, shot, ref_img)
        result.score = diff.score
        result.words = summary(diff, report.elements)
        result.heatmap_path = out_dir / f"selfcheck-{round_no}-diff.png"
        await asyncio.to_thread(diff.heatmap.save, result.heatmap_path, "PNG")
        heat_part = await asyncio.to_thread(image_part_from_pil, diff.heatmap, settings)
        ref_part = await asyncio.to_thread(image_part_from_pil, ref_img, settings)
    if not send_images:
        screenshot = ref_part = heat_part = None
    result.parts = _parts(result, target, report.text(), screenshot, ref_part, heat_part)
    return result


def _viewport_for(reference_size: tuple[int, int] | None) -> tuple[Viewport, bool]:
    """The reference's width; its height unless it is a tall full-page design."""
    if reference_size is None:
        return parse_viewport(None), False
    width = min(max(reference_size[0], 320), 2560)
    height = reference_size[1] * width // reference_size[0]
    if height > _MAX_VIEWPORT_HEIGHT:
        return Viewport(width, 800), True
    return Viewport(width, max(height, 200)), False


def _parts(
    result: VisualCheckResult,
    target: str,
    report_text: str,
    screenshot: dict[str, Any] | None,
    reference: dict[str, Any] | None,
    heatmap: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    shown = "as rendered in Chromium" if screenshot else "rendered in Chromium (no images: "
    shown += "" if screenshot else "the model is configured without vision)"
    words = f"Compared with the design: {result.words}\n\n" if result.words else ""
    intro = (
        f"Visual check, round {result.round_no}: this is {target} {shown}. "
        f"{words}Compare it with the design carefully: layout, spacing, sizes, colours, "
        "fonts, text and images, and the errors below. If anything differs or is broken, "
        "fix the files and stop; the page will be rendered again. If it matches the design "
        f"and has no errors, reply with exactly: {MATCH_MARKER}\n\n{report_text}"
    )
    parts: list[dict[str, Any]] = [{"type": "text", "text": intro}]
    if reference is not None:
        parts += [{"type": "text", "text": "The design:"}, reference]
    if screenshot is not None:
        parts += [{"type": "text", "text": "Your page:"}, screenshot]
    if heatmap is not None:
        parts += [{"type": "text", "text": "Where they differ (red):"}, heatmap]
    return parts
