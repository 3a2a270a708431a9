"""How the chat, the approval modal and the dashboard look (pytest-textual-snapshot).

Everything drawn is fixed: the replay script gives the usage, the clock is
frozen, the project is a tmp repo named `project` on branch `main`.
Update after looking at the report: pytest tests/tui --snapshot-update.
"""

from __future__ import annotations

from kimicode.ui.tui.screens.approval import ApprovalScreen
from kimicode.ui.tui.screens.dashboard import DashboardScreen
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.prompt_input import PromptInput
from tests.tui import swarm_events as swarm
from tests.tui.conftest import (
    README_EDIT,
    type_text,
    wait_for_screen,
    wait_for_text,
    wait_until,
)

USAGE = {"prompt_tokens": 2400, "completion_tokens": 350}
CHAT = {
    "conversations": [
        {
            "match": "describe the project",
            "turns": [
                {
                    "reasoning_content": "I should look at the README first.",
                    "tool_calls": [README_EDIT],
                    "usage": USAGE,
                },
                {
                    "content": "## Done\n\nThe README now says what the project is:\n\n"
                    "- `cli.py` parses arguments\n- **README.md** describes it\n",
                    "usage": USAGE,
                },
            ],
        }
    ]
}
SHELL = {
    "conversations": [
        {
            "match": "run the tests",
            "turns": [
                {
                    "tool_calls": [
                        {"name": "run_shell", "arguments": {"command": "pytest -q tests/"}}
                    ],
                    "usage": USAGE,
                },
                {"content": "ok"},
            ],
        }
    ]
}


async def _still_cursor(pilot) -> None:
    pilot.app.query_one(PromptInput).cursor_blink = False


def test_chat_with_thinking_a_diff_and_markdown(snap_compare, replay, make_app) -> None:
    app = make_app(replay(CHAT))

    async def run_before(pilot) -> None:
        await _still_cursor(pilot)
        await type_text(pilot, "describe the project")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Done" in _answers(app) and not app.busy)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 34), run_before=run_before)


def test_approval_modal_for_a_shell_command(snap_compare, replay, make_app) -> None:
    app = make_app(replay(SHELL))

    async def run_before(pilot) -> None:
        await _still_cursor(pilot)
        await type_text(pilot, "run the tests")
        await pilot.press("enter")
        await wait_for_screen(pilot, ApprovalScreen, "#approval-subject")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_dashboard_of_an_eight_agent_swarm(snap_compare, make_app) -> None:
    app = make_app()

    async def run_before(pilot) -> None:
        await _still_cursor(pilot)
        emit = app.session.bus
        emit(swarm.planned(8))
        for i in range(8):
            for event in swarm.working(i):
                emit(event)
        for i in (0, 1, 5):
            for event in swarm.finished(i, "error" if i == 5 else "success"):
                emit(event)
        table = (await wait_for_screen(pilot, DashboardScreen, AgentTable)).query_one(AgentTable)
        await wait_until(pilot, lambda: table.row_count == 8)
        table.move_cursor(row=2)
        await pilot.press("enter")
        await wait_for_text(pilot, "following agent-2", "agent-2 step 2: reading the page.")
        await wait_for_text(pilot, "conflicts 1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def _answers(app) -> str:
    from kimicode.ui.tui.widgets.assistant_reply import AssistantReply

    return "\n".join(r.text for r in app.query(AssistantReply))


def test_help_on_a_45_row_terminal_in_plan_mode(snap_compare, make_app, repo) -> None:
    folder = repo / ".kimicode" / "commands"
    folder.mkdir(parents=True)
    (folder / "review.md").write_text(
        "---\ndescription: review a file\nargument-hint: FILE\n---\nx\n"
    )
    (folder / "release-notes.md").write_text("Write the release notes.\n")
    app = make_app()

    async def run_before(pilot) -> None:
        await _still_cursor(pilot)
        await pilot.press("shift+tab", "shift+tab")
        await type_text(pilot, "/help")
        await pilot.press("enter")
        await wait_for_text(pilot, "/review FILE", "? / f1", " plan ")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 45), run_before=run_before)


def test_dashboard_at_sixty_columns(snap_compare, make_app) -> None:
    app = make_app()

    async def run_before(pilot) -> None:
        await _still_cursor(pilot)
        swarm.play(app.session.bus, 6, {2: "success"})
        table = (await wait_for_screen(pilot, DashboardScreen, AgentTable)).query_one(AgentTable)
        await wait_until(pilot, lambda: table.row_count == 6 and not len(app._buffer))
        await wait_for_text(pilot, "agent-2  success", "agent-5")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(60, 30), run_before=run_before)


def test_dashboard_of_a_stopped_swarm(snap_compare, make_app) -> None:
    app = make_app()

    async def run_before(pilot) -> None:
        await _still_cursor(pilot)
        emit = app.session.bus
        emit(swarm.planned(6))
        for i in range(3):
            for event in swarm.working(i):
                emit(event)
        for event in swarm.finished(0, "success")[:1]:
            emit(event)
        table = (await wait_for_screen(pilot, DashboardScreen, AgentTable)).query_one(AgentTable)
        await wait_until(pilot, lambda: table.row_count == 6 and not len(app._buffer))
        await wait_for_text(pilot, "agent-0  success", "agent-5")
        app.note_swarm_stopped()  # what a cancelled turn does (Ctrl+C mid-swarm)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)


def test_undo_asks_first_and_lists_the_files(snap_compare, replay, make_app) -> None:
    app = make_app(replay(CHAT), flags={"permissions.mode": "yolo"})

    async def run_before(pilot) -> None:
        from kimicode.ui.tui.screens.undo_confirm import UndoConfirm

        await _still_cursor(pilot)
        await type_text(pilot, "describe the project")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Done" in _answers(app) and not app.busy)
        await type_text(pilot, "/undo")
        await pilot.press("enter")
        await wait_for_screen(pilot, UndoConfirm, "#undo-yes")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


async def _paste_a_log(pilot) -> None:
    """Type a question and paste a 300-line log after it, as a terminal sends a paste."""
    from textual import events

    await _still_cursor(pilot)
    await type_text(pilot, "why does this fail? ")
    pilot.app.post_message(events.Paste("".join(f"log line {i}\n" for i in range(300))))
    prompt = pilot.app.query_one(PromptInput)
    await wait_until(pilot, lambda: "[pasted" in prompt.text)


def test_a_large_paste_is_a_chip_in_the_prompt(snap_compare, make_app) -> None:
    app = make_app()

    async def run_before(pilot) -> None:
        await _paste_a_log(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 12), run_before=run_before)


def test_a_long_pasted_prompt_is_collapsed_in_the_chat(snap_compare, replay, make_app) -> None:
    app = make_app(replay({"conversations": [{"match": "^why", "turns": [{"content": "ok"}]}]}))

    async def run_before(pilot) -> None:
        await _paste_a_log(pilot)
        await pilot.press("enter")
        await wait_for_text(pilot, "more lines (click to show them)", "ok")
        await wait_until(pilot, lambda: not app.busy)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 20), run_before=run_before)
