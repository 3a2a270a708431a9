"""render_page latency next to a bare Playwright screenshot of the same page, same run.

    python benchmarks/render.py [--runs 20] [--concurrent 20]

Prints: the tool's cold call (browser start included) and warm median, a bare
Playwright screenshot (new context, page, goto, screenshot) cold and warm, and
N concurrent renders for both. Targets: warm median within 1.3x of the bare
one; N concurrent renders within 3x of one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kimicode.config import Settings
from kimicode.tools.base import ToolContext, ToolServices
from kimicode.tools.render_page import RenderPage, RenderPageParams
from kimicode.tools.workspace import Workspace
from kimicode.vision.browser import LAUNCH_ARGS, close_browser, discover_chromium
from kimicode.vision.page_options import resolve_target
from kimicode.vision.static_server import stop_servers

PAGE = (
    """<!doctype html><html><head><title>Bench</title><link rel="stylesheet" href="site.css">
</head><body><header><h1>Pricing</h1><nav><a href="#">Home</a> <a href="#">Docs</a></nav>
</header><main>"""
    + "".join(
        f"<section class='card'><h2>Plan {i}</h2><p>Everything in plan {i}, and more.</p>"
        f"<button>Choose</button></section>"
        for i in range(12)
    )
    + "</main></body></html>"
)
CSS = """body{margin:0;font-family:sans-serif;background:#f6f7fb}
header{display:flex;justify-content:space-between;padding:16px 32px;background:#222;color:#fff}
main{display:grid;grid-template-columns:repeat(4,1fr);gap:16px;padding:32px}
.card{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 4px #0002}
button{background:#3b5bdb;color:#fff;border:0;border-radius:4px;padding:8px 16px}"""


async def timed(coro) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    await coro
    return time.perf_counter() - start


async def main(runs: int, concurrent: int) -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "index.html").write_text(PAGE)
        (root / "site.css").write_text(CSS)
        ws = Workspace(root)
        ctx = ToolContext(ToolServices(workspace=ws, settings=Settings(), emit=lambda _e: None))
        tool = RenderPage()
        params = RenderPageParams(target="index.html")

        tool_cold = await timed(tool.run(params, ctx))
        tool_warm = [await timed(tool.run(params, ctx)) for _ in range(runs)]
        tool_conc = await timed(asyncio.gather(*(tool.run(params, ctx) for _ in range(concurrent))))
        await close_browser()

        url = await resolve_target(ws, "index.html")
        executable = discover_chromium().executable

        async def bare_shot(browser) -> None:  # type: ignore[no-untyped-def]
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            await page.goto(url)
            await page.screenshot()
            await context.close()

        async with async_playwright() as pw:
            start = time.perf_counter()
            browser = await pw.chromium.launch(executable_path=executable, args=list(LAUNCH_ARGS))
            launch = time.perf_counter() - start
            bare_cold = launch + await timed(bare_shot(browser))
            bare_warm = [await timed(bare_shot(browser)) for _ in range(runs)]
            bare_conc = await timed(
                asyncio.gather(*(bare_shot(browser) for _ in range(concurrent)))
            )
            await browser.close()
        await stop_servers()

    tw, bw = statistics.median(tool_warm), statistics.median(bare_warm)
    rows = [
        ("browser launch (bare)", launch, ""),
        ("cold: render_page (incl. launch)", tool_cold, ""),
        ("cold: bare screenshot (incl. launch)", bare_cold, ""),
        (f"warm median of {runs}: render_page", tw, f"{tw / bw:.2f}x bare (target 1.3x)"),
        (f"warm median of {runs}: bare screenshot", bw, ""),
        (
            f"{concurrent} concurrent: render_page",
            tool_conc,
            f"{tool_conc / tw:.1f}x one (target 3x)",
        ),
        (f"{concurrent} concurrent: bare screenshot", bare_conc, f"{bare_conc / bw:.1f}x one"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'seconds':>8}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:8.3f}  {note}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.concurrent))
