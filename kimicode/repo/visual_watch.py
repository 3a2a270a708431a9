"""Visual re-checks for `kimicode watch`: the pages in `[watch] pages`, against accepted shots.

Each page is rendered full-page in the process's one Chromium (through the
workspace's local static server, so relative assets load). Its accepted
screenshot lives at `.kimicode/watch/<page>.png`; the first render becomes
the accepted one. A later render that differs is saved next to it as
`<page>.new.png` with a heat map `<page>.diff.png`, and stays "changed" until
the user accepts it by moving the new shot over the accepted one, or the page
renders like the accepted shot again.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.errors import ToolError

STATE_DIR = Path(".kimicode") / "watch"
CHANGE_THRESHOLD = 0.0005
"""Difference scores below this are rendering noise, not a change."""


@dataclass(slots=True)
class PageCheck:
    page: str
    status: str
    """"accepted" (first render), "unchanged", "changed" or "error"."""
    accepted: Path
    score: float | None = None
    new: Path | None = None
    heatmap: Path | None = None
    problems: list[str] = field(default_factory=list)
    """Console errors, page errors and failed requests of this render."""
    error: str | None = None


class VisualWatch:
    """Renders the registered pages and compares each with its accepted screenshot."""

    def __init__(self, root: Path, pages: list[str]) -> None:
        self.root = root
        self.pages = list(dict.fromkeys(p.strip().removeprefix("./") for p in pages if p.strip()))
        self.state_dir = root / STATE_DIR

    def paths(self, page: str) -> tuple[Path, Path, Path]:
        """(accepted, new, heat map) for `page`."""
        name = page.replace("/", "__").replace("\\", "__")
        base = self.state_dir / name
        return (
            base.with_name(name + ".png"),
            base.with_name(name + ".new.png"),
            base.with_name(name + ".diff.png"),
        )

    async def check_all(self) -> list[PageCheck]:
        return [await self.check(page) for page in self.pages]

    async def check(self, page: str) -> PageCheck:
        accepted, _, _ = self.paths(page)
        try:
            png, problems = await self._render(page)
        except ToolError as exc:
            return PageCheck(page, "error", accepted, error=str(exc))
        except Exception as exc:  # the browser died mid-render: report it, keep watching
            return PageCheck(page, "error", accepted, error=f"{type(exc).__name__}: {exc}")
        check = await asyncio.to_thread(self._compare, page, png)
        check.problems = problems
        return check

    async def _render(self, page: str) -> tuple[bytes, list[str]]:
        from kimicode.tools.workspace import Workspace
        from kimicode.vision.page_options import PRESETS, resolve_target
        from kimicode.vision.render import render

        url = await resolve_target(Workspace(self.root), page)
        report = await render(url, PRESETS["desktop"], full_page=True)
        return report.png, report.problems

    def _compare(self, page: str, png: bytes) -> PageCheck:
        from PIL import Image

        from kimicode.vision.imagediff import compare_images

        accepted, new, heatmap = self.paths(page)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not accepted.is_file():
            accepted.write_bytes(png)
            return PageCheck(page, "accepted", accepted)
        with Image.open(accepted) as ref_file, Image.open(io.BytesIO(png)) as shot:
            ref = ref_file.copy()
            same_size = shot.size == ref.size
            diff = compare_images(shot, ref)
        if same_size and diff.pixel_score < CHANGE_THRESHOLD:  # any change, not forgiven
            new.unlink(missing_ok=True)
            heatmap.unlink(missing_ok=True)
            return PageCheck(page, "unchanged", accepted, score=diff.score)
        new.write_bytes(png)
        diff.heatmap.save(heatmap, format="PNG")
        return PageCheck(page, "changed", accepted, score=diff.score, new=new, heatmap=heatmap)
