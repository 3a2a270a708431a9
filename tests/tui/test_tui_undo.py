"""`/undo` shows what it will restore and delete and asks first; a change set older than the
last prompt is named as such, and the modal says shell commands' changes are not undone."""

from __future__ import annotations

from pathlib import Path

from helpers import git

from kimicode.trust.checkpoints import CheckpointStore
from kimicode.ui.tui.screens.undo_confirm import UndoConfirm
from kimicode.ui.tui.widgets.assistant_reply import AssistantReply
from kimicode.ui.tui.widgets.notice_line import NoticeLine
from tests.tui.conftest import README_EDIT, screen_text, type_text, wait_for_screen, wait_until

EDIT = {
    "conversations": [
        {
            "match": "describe the project",
            "turns": [{"tool_calls": [README_EDIT]}, {"content": "Described."}],
        }
    ]
}


def notices(app) -> list[str]:
    return [n.message for n in app.query(NoticeLine)]


async def test_undo_shows_the_files_asks_and_names_an_older_change_set(
    replay, make_app, repo: Path
) -> None:
    # an earlier session's swarm merge created docs/merged.md; it was committed since
    await CheckpointStore(repo).snapshot(["docs/merged.md"], "swarm run1: merge")
    (repo / "docs").mkdir()
    (repo / "docs" / "merged.md").write_text("merged by the swarm\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "merged")
    app = make_app(replay(EDIT), flags={"permissions.mode": "yolo"})
    async with app.run_test(size=(120, 40)) as pilot:
        await type_text(pilot, "describe the project")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantReply)) and not app.busy)
        assert (repo / "README.md").read_text() == "# project\n\nA tiny CLI.\n"

        await type_text(pilot, "/undo")
        await pilot.press("enter")
        await wait_for_screen(pilot, UndoConfirm, "#undo-yes")
        await wait_until(pilot, lambda: "restore  README.md" in screen_text(app))
        shown = screen_text(app)
        assert "Undo the last change set (1 file)?" in shown
        assert "older than" not in shown  # this one is the last prompt's own
        assert "shell commands are not in checkpoints" in shown
        await pilot.press("y")
        await wait_until(pilot, lambda: any(n.startswith("undone:") for n in notices(app)))
        assert (repo / "README.md").read_text() == "# project\n"
        assert "undone: restored README.md" in notices(app)

        await type_text(pilot, "/undo")  # the next one back is the old swarm merge
        await pilot.press("enter")
        modal = await wait_for_screen(pilot, UndoConfirm, "#undo-warning")
        await wait_until(pilot, lambda: "delete   docs/merged.md" in screen_text(app))
        warning = str(modal.query_one("#undo-warning").render())
        assert "older than your last prompt" in warning and "swarm run1: merge" in warning
        await pilot.press("n")
        await wait_until(pilot, lambda: "nothing undone" in notices(app))
        assert not isinstance(app.screen, UndoConfirm)
    assert (repo / "docs" / "merged.md").read_text() == "merged by the swarm\n"
    assert [c.label for c in await CheckpointStore(repo).list()] == ["swarm run1: merge"]


async def test_undo_with_no_change_sets_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await type_text(pilot, "/undo")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(notices(app)))
        [notice] = notices(app)
        assert notice.startswith("nothing to undo") and "shell commands" in notice
        assert not isinstance(app.screen, UndoConfirm)
