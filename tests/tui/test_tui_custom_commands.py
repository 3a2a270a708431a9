"""A custom command from `.kimicode/commands/` typed in the TUI starts a turn with its prompt."""

from __future__ import annotations

from pathlib import Path

from kimicode.ui.tui.widgets.notice_line import NoticeLine
from tests.tui.conftest import type_text, wait_until


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
