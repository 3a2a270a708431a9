"""Custom commands from `.kimicode/commands/`: typed in the TUI they start a turn with their
prompt; /help lists them and Tab completes them."""

from __future__ import annotations

from pathlib import Path

from kimicode.ui.tui.widgets.completion_menu import CompletionMenu
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from kimicode.ui.tui.widgets.prompt_input import PromptInput
from tests.tui.conftest import screen_text, type_text, wait_until


async def test_a_custom_command_runs_its_expanded_prompt(repo: Path, replay, make_app) -> None:
    folder = repo / ".kimicode" / "commands"
    folder.mkdir(parents=True)
    (folder / "review.md").write_text("Review $ARGUMENTS for bugs.\n")
    (folder / "broken.md").write_text("Fix ${ARGUMENTS\n")
    server = replay(
        {"conversations": [{"match": "^Review cli.py for bugs", "turns": [{"content": "ok"}]}]}
    )
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await type_text(pilot, "/broken x")
        await pilot.press("enter")
        notices = lambda: [n.message for n in app.query(NoticeLine)]  # noqa: E731
        await wait_until(pilot, lambda: any("broken.md" in m for m in notices()))
        await type_text(pilot, "/review cli.py")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(server.requests) >= 1 and not app.busy)
    sent = server.requests[0]["body"]["messages"][1]["content"]
    assert sent == "Review cli.py for bugs."


async def test_custom_commands_are_in_help_and_slash_completion(repo: Path, make_app) -> None:
    folder = repo / ".kimicode" / "commands"
    folder.mkdir(parents=True)
    (folder / "review.md").write_text(
        "---\ndescription: review a file for bugs\nargument-hint: FILE\n---\nReview $ARGUMENTS.\n"
    )
    (folder / "release-notes.md").write_text("Write the release notes.\n")
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        prompt = app.query_one(PromptInput)
        menu = app.query_one(CompletionMenu)
        await wait_until(pilot, lambda: len(prompt.custom) == 2)
        await type_text(pilot, "/re")
        assert menu.values == ["/resume", "/release-notes", "/review"]
        await type_text(pilot, "v")
        assert menu.values == ["/review"]
        await pilot.press("tab")
        assert prompt.text == "/review "
        prompt.clear()
        await type_text(pilot, "/help")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Custom commands" in screen_text(app))
        shown = screen_text(app)
        assert app.query_one("#chat").max_scroll_y == 0  # still one 45-row screen
    assert "/review FILE      review a file for bugs" in shown
    assert "/release-notes    custom command (release-notes.md)" in shown
