"""Building the TUI against a real session: a tmp git repo and the replay server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kimicode.config import Settings, load_settings
from kimicode.replay.server import ReplayServer
from kimicode.trust.sandbox import Sandbox, probe
from kimicode.ui.tui.app import KimicodeApp
from kimicode.ui.tui.history import PromptHistory

FIXED_CLOCK = 1_000.0
README_EDIT = {
    "name": "edit_file",
    "arguments": {
        "path": "README.md",
        "old_string": "# project\n",
        "new_string": "# project\n\nA tiny CLI.\n",
    },
}
"""A scripted tool call that gives the tmp repo's README a second line (and a diff)."""


def sandbox_of(settings: Settings) -> tuple[Sandbox | None, list[str]]:
    """The sandbox probe `kimicode` runs before the app starts (in a thread: a loop runs)."""
    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(asyncio.run, probe(settings.sandbox)).result()
    return found.sandbox, [found.warning] if found.warning else []


@pytest.fixture
def make_settings(repo: Path) -> Callable[..., Settings]:
    def make(server: ReplayServer | None = None, **flags: Any) -> Settings:
        base = {"model.api_key": "sk-test-0123456789abcdef", "model.name": "kimi-k2.5"}
        if server is not None:
            base["model.base_url"] = server.url
        return load_settings(repo, {**base, **flags})

    return make


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], tmp_path: Path) -> Callable[..., KimicodeApp]:
    def make(
        server: ReplayServer | None = None, flags: dict[str, Any] | None = None, **options: Any
    ) -> KimicodeApp:
        settings = make_settings(server, **(flags or {}))
        history = PromptHistory(tmp_path / "prompt_history.jsonl")
        sandbox, warnings = sandbox_of(settings)
        return KimicodeApp(
            settings,
            sandbox=sandbox,
            warnings=warnings,
            history=history,
            clock=lambda: FIXED_CLOCK,
            **options,
        )

    return make


async def wait_until(
    pilot: Pilot, condition: Callable[[], bool], limit_s: float = 45, what: str = ""
) -> None:
    """Let the app run until `condition` holds; fails with a clear message after `limit_s`.

    Every wait in these tests is for a condition, never a fixed sleep: a loaded machine
    only makes them slower, not red.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            shown = screen_text(pilot.app)
            raise AssertionError(
                f"the app never reached the expected state {what}; the screen shows:\n{shown}"
            )
        await pilot.pause(0.02)


async def wait_for_text(pilot: Pilot, *texts: str, limit_s: float = 45) -> str:
    """Wait until the terminal shows every one of `texts`; what it shows then."""
    shown = ""

    def ready() -> bool:
        nonlocal shown
        shown = screen_text(pilot.app)
        return all(t in shown for t in texts)

    await wait_until(pilot, ready, limit_s, what=f"(showing {texts!r})")
    return shown


async def wait_for_screen(pilot: Pilot, screen_type: type, selector: str | type) -> Any:
    """Wait until a pushed screen is the active one and `selector` inside it is mounted.

    A screen becomes `app.screen` before its children are composed; asserting on it
    right away races with that under load.
    """

    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, screen_type) and bool(screen.query(selector))

    await wait_until(pilot, ready)
    return pilot.app.screen


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


def screen_text(app: Any) -> str:
    """What the terminal shows right now, as plain lines (the active screen, composited)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
