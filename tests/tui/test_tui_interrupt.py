"""Ctrl+C cancels the running turn (and closes its approval modal) and keeps the app;
pressed twice it quits."""

from __future__ import annotations

import time

from kimicode.ui.tui.app import QUIT_WINDOW_S
from kimicode.ui.tui.screens.approval import ApprovalScreen
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.prompt_input import PromptInput
from kimicode.ui.tui.widgets.tool_call_block import ToolCallBlock
from tests.tui.conftest import type_text, wait_for_screen, wait_until

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
        # past the double-press window (the app's own clock): the next press only warns
        await wait_until(pilot, lambda: time.monotonic() - app.last_interrupt > QUIT_WINDOW_S)
        await pilot.press("ctrl+c")
        assert app.is_running
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0


SHELL_THEN_HELLO = {
    "conversations": [
        {
            "match": "list the files",
            "turns": [
                {"tool_calls": [{"name": "run_shell", "arguments": {"command": "ls [x=1"}}]},
                {"content": "hello again"},  # the next prompt continues this conversation
            ],
        },
    ]
}


async def test_ctrl_c_with_the_approval_modal_up_closes_it_and_the_app_stays(
    replay, make_app
) -> None:
    server = replay(SHELL_THEN_HELLO)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "list the files")
        await pilot.press("enter")
        await wait_for_screen(pilot, ApprovalScreen, "#approve")
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.busy and not isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")  # what crashed the app: an answer to a question already gone
        prompt = app.query_one(PromptInput)
        await wait_until(pilot, lambda: prompt.text == "y")  # the key went to the prompt
        assert app.is_running
        assert "turn cancelled" in [n.message for n in app.query(NoticeLine)]
        assert app.query_one(ToolCallBlock).title.plain.startswith("⊘ run_shell ls [x=1")
        assert app.focused is prompt
        prompt.clear()
        await type_text(pilot, "say hello")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "hello again" in [r.text for r in app.query(AssistantReply)]
        )
    tool_results = [m for m in server.requests[1]["body"]["messages"] if m["role"] == "tool"]
    assert len(tool_results) == 1 and "ls [x=1" not in tool_results[0]["content"]
