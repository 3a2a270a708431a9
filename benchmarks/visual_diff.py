"""The visual self-check's words for five renders of one design, and what they cost.

Renders the design of tests/pages.py in Chromium, then each of its five
variants (identical, shifted by a pixel, a missing button, a wrong hero
colour, a reordered section) through the self-check round the agent gets
(`visual_check`), and prints each round's scores and the words the model
receives, with the time the comparison took.

Usage: KIMICODE_CHROMIUM=/usr/bin/chromium python benchmarks/visual_diff.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pages import PAIRS, landing_page, render_design
from PIL import Image

from kimicode.config import VisionSettings
from kimicode.tools.workspace import Workspace
from kimicode.vision.imagediff import compare_images
from kimicode.vision.selfcheck import visual_check
from kimicode.vision.shutdown import close_all


async def rounds(root: Path, design: Path) -> None:
    try:
        for number, (name, html) in enumerate(PAIRS.items(), start=1):
            (root / "index.html").write_text(html)
            result = await visual_check(
                Workspace(root), "index.html", design, VisionSettings(), root / "out", number
            )
            shot = Image.open(result.screenshot_path)
            started = time.perf_counter()
            compare_images(shot, Image.open(design))
            took = time.perf_counter() - started
            print(f"\n## {name}  (comparison {took * 1000:.0f} ms)")
            print(result.words)
    finally:
        await close_all()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        design = render_design(root / "..", landing_page(), name=f"{root.name}-design")
        try:
            asyncio.run(rounds(root, design))
        finally:
            design.unlink(missing_ok=True)
            design.with_suffix(".html").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
