"""Render a page in the shared Chromium: screenshot plus everything that went wrong.

A fresh browser context per render (nothing leaks between renders or
agents). The report collects what a person would look for in devtools:
console errors and warnings, uncaught exceptions, requests that failed or
answered 400 and above. An optional recording gives frames for animations:
Playwright's video when its ffmpeg is installed, else screenshots taken at
the frame rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kimicode.errors import ToolError
from kimicode.vision import page_network
from kimicode.vision.browser import get_browser
from kimicode.vision.page_options import PageAction, Viewport

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from kimicode.config import VisionSettings
    from kimicode.vision.diffwords import Element

NAV_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 5_000
MAX_WAIT_MS = 10_000
MAX_MESSAGES = 40
_CONSOLE_ORDER = {"error": 0, "warning": 1}
BLOCKED_FAILURE = "net::ERR_BLOCKED_BY_CLIENT"


@dataclass(slots=True)
class PageReport:
    png: bytes
    title: str
    url: str
    console: list[tuple[str, str]] = field(default_factory=list)
    """(type, text), errors and warnings first."""
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    """URLs off the page's origin that were refused (`[sandbox] network = false`)."""
    action_errors: list[str] = field(default_factory=list)
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    """(timestamp_s, image part) from a recording."""
    elements: list[Element] = field(default_factory=list)
    """The visible elements' boxes in the screenshot, when asked for (to name a diff)."""

    @property
    def problems(self) -> list[str]:
        """Everything that looks like a bug in the page, one line each."""
        out = [f"console {kind}: {text}" for kind, text in self.console if kind == "error"]
        out += [f"page error: {e}" for e in self.page_errors]
        out += [f"failed request: {r}" for r in self.failed_requests]
        return out

    def text(self) -> str:
        lines = [f"title: {self.title or '(none)'}", f"url: {self.url}"]
        lines += _section("page errors (uncaught exceptions)", self.page_errors)
        lines += _section("failed requests", self.failed_requests)
        lines += _section(
            "blocked requests (pages reach only their own origin; [sandbox] network = true "
            "lifts this)",
            self.blocked_requests,
        )
        lines += _section("console", [f"[{kind}] {text}" for kind, text in self.console])
        lines += _section("actions that failed", self.action_errors)
        if not (self.page_errors or self.failed_requests or self.console):
            lines.append("no console messages, page errors or failed requests")
        return "\n".join(lines)


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    shown = items[:MAX_MESSAGES]
    more = [f"  … {len(items) - len(shown)} more"] if len(items) > len(shown) else []
    return [f"{title} ({len(items)}):", *(f"  {i}" for i in shown), *more]


async def render(
    url: str,
    viewport: Viewport,
    *,
    full_page: bool = False,
    actions: list[PageAction] | None = None,
    record_seconds: float = 0.0,
    scroll_while_recording: bool = False,
    settings: VisionSettings | None = None,
    collect_elements: bool = False,
    network: bool = False,
) -> PageReport:
    """Open `url` in a new context, apply `actions`, take the screenshot (and the layout).

    Without `network` the page reaches only its own origin (see `page_network`)."""
    browser = await get_browser()
    context = await browser.new_context(
        **viewport.context_options(), **page_network.context_options(network)
    )
    try:
        report = PageReport(b"", "", url)
        if not network:
            await page_network.confine(context, url, report.blocked_requests)
        page = await context.new_page()
        _listen(page, report)
        try:
            await page.goto(url, wait_until="load", timeout=NAV_TIMEOUT_MS)
        except Exception as exc:
            raise ToolError(f"could not load {url}: {_first_line(exc)}") from None
        for action in actions or []:
            try:
                await _apply(page, action)
            except Exception as exc:
                report.action_errors.append(f"{action.describe()}: {_first_line(exc)}")
        if record_seconds > 0 and settings is not None:
            report.frames = await _record(
                page, record_seconds, scroll_while_recording, settings, network
            )
        report.png = await page.screenshot(full_page=full_page, type="png")
        if collect_elements:
            report.elements = await _elements(page, full_page)
        report.title = await page.title()
        report.url = page.url
        await asyncio.sleep(0)  # let console events of the last moment arrive
        report.console.sort(key=lambda m: _CONSOLE_ORDER.get(m[0], 2))
        return report
    finally:
        with contextlib.suppress(Exception):
            await context.close()


async def _elements(page: Page, full_page: bool) -> list[Element]:
    from kimicode.vision.diffwords import ELEMENTS_JS, MAX_ELEMENTS, parse_elements

    try:
        return parse_elements(await page.evaluate(ELEMENTS_JS, [full_page, MAX_ELEMENTS]))
    except Exception:  # a page that broke its own DOM API: no names, still a diff
        return []


def _listen(page: Page, report: PageReport) -> None:
    def on_console(msg: Any) -> None:
        kind = msg.type
        if _is_favicon((msg.location or {}).get("url", "")):
            return
        if kind in ("error", "warning", "log", "info", "assert") and len(report.console) < 500:
            loc = msg.location or {}
            where = f" ({loc.get('url', '')}:{loc.get('lineNumber', 0) + 1})" if loc else ""
            report.console.append((kind, f"{msg.text}{where if kind == 'error' else ''}"))

    def on_page_error(exc: Any) -> None:
        report.page_errors.append(str(getattr(exc, "message", exc) or exc))

    def on_request_failed(request: Any) -> None:
        if _is_favicon(request.url) or request.failure == BLOCKED_FAILURE:
            return  # blocked requests have their own list
        report.failed_requests.append(f"{request.url} ({request.failure or 'failed'})")

    def on_response(response: Any) -> None:
        if response.status >= 400 and not _is_favicon(response.url):
            report.failed_requests.append(f"{response.url} (HTTP {response.status})")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)


async def _apply(page: Page, action: PageAction) -> None:
    kind, selector = action.action, action.selector
    if kind in ("click", "fill", "hover", "wait_for") and not selector:
        raise ToolError(f"{kind} needs a selector")
    if kind == "click":
        await page.click(selector, timeout=ACTION_TIMEOUT_MS)  # type: ignore[arg-type]
    elif kind == "fill":
        await page.fill(selector, action.value or "", timeout=ACTION_TIMEOUT_MS)  # type: ignore[arg-type]
    elif kind == "hover":
        await page.hover(selector, timeout=ACTION_TIMEOUT_MS)  # type: ignore[arg-type]
    elif kind == "wait_for":
        await page.wait_for_selector(selector, timeout=MAX_WAIT_MS)  # type: ignore[arg-type]
    elif kind == "wait":
        await page.wait_for_timeout(min(max(action.ms or 500, 0), MAX_WAIT_MS))
    elif kind == "press":
        if selector:
            await page.press(selector, action.value or "Enter", timeout=ACTION_TIMEOUT_MS)
        else:
            await page.keyboard.press(action.value or "Enter")
    elif kind == "scroll":
        if selector:
            await page.locator(selector).first.scroll_into_view_if_needed(timeout=ACTION_TIMEOUT_MS)
        else:
            await page.evaluate("dy => window.scrollBy(0, dy)", action.dy or 600)


async def _record(
    page: Page, seconds: float, scroll: bool, settings: VisionSettings, network: bool
) -> list[tuple[float, dict[str, Any]]]:
    """Frames over `seconds`: from a Playwright video when possible, else screenshots."""
    seconds = min(seconds, 10.0)
    frames = await _record_video(page, seconds, scroll, settings, network)
    if frames is not None:
        return frames
    return await _record_screenshots(page, seconds, scroll, settings)


async def _record_video(
    page: Page, seconds: float, scroll: bool, settings: VisionSettings, network: bool
) -> list[tuple[float, dict[str, Any]]] | None:
    """A real recording in a second context with record_video_dir; None without ffmpeg."""
    from kimicode.vision.video import sample_video

    browser = await get_browser()
    viewport = page.viewport_size or {"width": 1280, "height": 800}
    with tempfile.TemporaryDirectory(prefix="kimicode-rec-") as tmp:
        context: BrowserContext | None = None
        try:
            context = await browser.new_context(
                viewport=viewport,
                record_video_dir=tmp,
                record_video_size=viewport,
                **page_network.context_options(network),
            )
            if not network:
                await page_network.confine(context, page.url, [])
            rec = await context.new_page()
            await rec.goto(page.url, wait_until="load", timeout=NAV_TIMEOUT_MS)
            await _play(rec, seconds, scroll)
            video = rec.video
            await context.close()
            context = None
            if video is None:
                return None
            path = await video.path()
        except Exception:
            return None
        finally:
            if context is not None:
                with contextlib.suppress(Exception):
                    await context.close()
        return await asyncio.to_thread(sample_video, Path(path), settings)


async def _play(page: Page, seconds: float, scroll: bool) -> None:
    steps = max(1, int(seconds * 4))
    height = await page.evaluate("document.documentElement.scrollHeight - innerHeight")
    for i in range(steps):
        if scroll and height > 0:
            await page.evaluate("y => window.scrollTo(0, y)", int(height * (i + 1) / steps))
        await page.wait_for_timeout(seconds * 1000 / steps)


async def _record_screenshots(
    page: Page, seconds: float, scroll: bool, settings: VisionSettings
) -> list[tuple[float, dict[str, Any]]]:
    from kimicode.vision.images import image_part_from_bytes
    from kimicode.vision.video import sample_times

    times = sample_times(seconds, settings.video_fps, settings.video_max_frames)
    height = await page.evaluate("document.documentElement.scrollHeight - innerHeight")
    start = time.monotonic()
    frames = []
    for t in times:
        delay = t - (time.monotonic() - start)
        if delay > 0:
            await asyncio.sleep(delay)
        if scroll and height > 0:
            await page.evaluate("y => window.scrollTo(0, y)", int(height * t / seconds))
        png = await page.screenshot(type="png")
        frames.append((t, image_part_from_bytes(png, f"frame-{t}.png", settings)))
    return frames


def _is_favicon(url: str) -> bool:
    """Browsers ask for /favicon.ico on their own; its absence is not the page's bug."""
    return urlsplit(url).path == "/favicon.ico"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
