"""A resumed session shows what happened (tool calls and diffs too); sessions have titles."""

from __future__ import annotations

from pathlib import Path

from kimicode.ui.tui.app import KimicodeApp
from kimicode.ui.tui.history import PromptHistory
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.diff_view import DiffView
from kimicode.ui.tui.widgets.tool_call_block import ToolCallBlock
from tests.tui.conftest import README_EDIT, screen_text, type_text, wait_for_text, wait_until

EDIT = {
    "conversations": [
        {
            "match": "describe the project",
            "turns": [
                {"tool_calls": [README_EDIT]},
                {"content": "The README now says what the project is."},
            ],
        }
    ]
}


async def test_a_resumed_session_shows_its_tool_calls_diffs_and_title(
    replay, make_app, make_settings, tmp_path: Path, kimicode, repo: Path
) -> None:
    server = replay(EDIT)
    app = make_app(server, flags={"permissions.mode": "yolo"})
    async with app.run_test(size=(120, 40)) as pilot:
        await type_text(pilot, "describe the project")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
        session_id = app.session.id
    resumed = KimicodeApp(
        make_settings(server),
        resume_id=session_id,
        history=PromptHistory(tmp_path / "h.jsonl"),
    )
    async with resumed.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(resumed.query(DiffView)))
        shown = await wait_for_text(pilot, "+A tiny CLI.", "The README now says")
        block = resumed.query_one(ToolCallBlock)
        assert block.title.plain == "✓ edit_file README.md"
        assert "› describe the project" in shown and "+A tiny CLI." in shown
        assert "The README now says what the project is." in shown
        await type_text(pilot, "/resume")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "/resume ID" in screen_text(resumed))
        assert "describe the project" in screen_text(resumed).split("| title")[-1]
    listing = kimicode("sessions", "list", cwd=repo, env={"COLUMNS": "200"})
    assert listing.code == 0, listing
    row = next(line for line in listing.stdout.splitlines() if session_id in line)
    assert row.rstrip().endswith("describe the project")
