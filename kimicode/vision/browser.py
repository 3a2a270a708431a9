"""One headless Chromium per process, found once, started on first use, shared.

Starting Chromium costs about half a second; a render in an open browser costs
a new context (cheap, isolated: no cookies or cache leak between renders).
So every `render_page` call, from any agent of a swarm, asks `get_browser()`
for the same browser and opens its own context. Playwright objects belong to
the event loop that started them; a call from another loop starts afresh.

Discovery order: `KIMICODE_CHROMIUM`, Playwright's own download, a system
Chromium on PATH.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kimicode.errors import ToolError

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

CHROMIUM_ENV = "KIMICODE_CHROMIUM"
SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
)


class BrowserNotFound(ToolError):
    def __init__(self) -> None:
        super().__init__(
            "no Chromium found for render_page. Either run `playwright install chromium`, "
            "or install your distribution's chromium (e.g. `apt install chromium`) and set "
            f"{CHROMIUM_ENV}=/usr/bin/chromium"
        )


@dataclass(frozen=True, slots=True)
class BrowserChoice:
    executable: str
    source: str
    """Where it was found: "KIMICODE_CHROMIUM", "playwright" or "PATH"."""


def discover_chromium(playwright_executable: str | None = None) -> BrowserChoice:
    """The Chromium to launch, in the documented order, or BrowserNotFound."""
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        found = shutil.which(configured) or (configured if os.path.isfile(configured) else None)
        if not found:
            raise ToolError(
                f"{CHROMIUM_ENV}={configured} is not an executable file; point it at a Chromium "
                "(e.g. /usr/bin/chromium) or unset it to use Playwright's browser"
            )
        return BrowserChoice(found, CHROMIUM_ENV)
    if playwright_executable and os.path.isfile(playwright_executable):
        return BrowserChoice(playwright_executable, "playwright")
    for name in SYSTEM_CHROMIUMS:
        found = shutil.which(name)
        if found:
            return BrowserChoice(found, "PATH")
    raise BrowserNotFound()


class SharedBrowser:
    """The process's browser: lazily started, restarted if it died, closed once."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.choice: BrowserChoice | None = None
        self.launches = 0
        """How many times a browser was started (tests and benchmarks read it)."""

    async def get(self) -> Browser:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._forget()
            self._loop = loop
            self._lock = asyncio.Lock()
        browser = self._browser
        if browser is not None and browser.is_connected():
            return browser
        assert self._lock is not None
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                await self._start()
            assert self._browser is not None
            return self._browser

    async def close(self) -> None:
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            self._forget()
            return
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        if browser is not None:
            with contextlib.suppress(Exception):
                await browser.close()
        if playwright is not None:
            with contextlib.suppress(Exception):
                await playwright.stop()

    async def _start(self) -> None:
        from playwright.async_api import Error, async_playwright

        if self._playwright is None:
            self._playwright = await async_playwright().start()
        try:
            bundled = self._playwright.chromium.executable_path
        except Exception:
            bundled = None
        self.choice = discover_chromium(bundled)
        try:
            # Signals are kimicode's to handle: with Playwright's own handlers, Ctrl-C in a
            # terminal made the driver close the browser and exit under us, and the pending
            # calls died as "Future exception was never retrieved" noise.
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.choice.executable,
                headless=True,
                args=list(LAUNCH_ARGS),
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
            )
        except Error as exc:
            raise ToolError(
                f"could not start Chromium at {self.choice.executable} "
                f"(found via {self.choice.source}): {str(exc).splitlines()[0]}"
            ) from None
        self.launches += 1
        _register_exit_close()

    def _forget(self) -> None:
        """Drop objects of a loop that is gone; its driver exits when its pipe closes."""
        self._browser = self._playwright = None
        self._loop = None


_shared = SharedBrowser()
_exit_registered = False


def shared_browser() -> SharedBrowser:
    return _shared


async def get_browser() -> Browser:
    """The process's Chromium, started on first use."""
    return await _shared.get()


async def close_browser() -> None:
    """Close the browser and Playwright; call before the event loop ends."""
    await _shared.close()


def _register_exit_close() -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(_close_at_exit)


def _close_at_exit() -> None:
    """Best effort: close through the loop when it still exists and is idle."""
    loop: Any = _shared._loop
    if loop is None or loop.is_closed() or loop.is_running():
        return
    with contextlib.suppress(Exception):
        loop.run_until_complete(_shared.close())
