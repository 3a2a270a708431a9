"""Ctrl+C cancels the running turn and keeps the app; pressed twice it quits."""

from __future__ import annotations

from kimicode.ui.tui.widgets.notice_line import NoticeLine
from tests.tui.conftest import type_text, wait_until

SLOW = {
    "conversations": [
        {"match": "slow task", "turns": [{"content": "too late", "latency_ms": 5_000}]}
    ]
}


async def test_ctrl_c_cancels_the_turn_then_twice_quits(replay, make_app) -> None:
    app = make_app(replay(SLOW))
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "slow task")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.busy)
        notices = [n.message for n in app.query(NoticeLine)]
        assert "turn cancelled" in notices
        assert app.is_running
        await pilot.pause(1.6)  # past the double-press window: the next press only warns
        await pilot.press("ctrl+c")
        assert app.is_running
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0
