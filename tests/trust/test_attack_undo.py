"""Turning undo against the user: symlinks planted after the checkpoint.

The model writes a new file and rewrites a user's file (both checkpointed),
then swaps their directories for symlinks to places outside the project.
Undo would delete the new file and put the old content back, through the
symlinks: deleting a file outside and writing outside. It must skip both
and say so.
"""

from __future__ import annotations

from pathlib import Path

from helpers import call, script, turn
from hostile import files_under


def test_undo_never_follows_a_symlink_planted_after_the_checkpoint(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    (repo / "lib").mkdir()
    (repo / "lib" / "data.txt").write_text("user data\n")
    victims = tmp_path / "victims"
    victims.mkdir()
    (victims / "new.txt").write_text("precious, outside the project\n")
    landing = tmp_path / "landing"
    landing.mkdir()
    plant = f"mv sub sub.moved && ln -s {victims} sub && mv lib lib.moved && ln -s {landing} lib"
    server = replay(
        script(
            (
                "plant",
                [
                    turn(
                        tool_calls=[
                            call("write_file", path="sub/new.txt", content="model\n"),
                            call("write_file", path="lib/data.txt", content="model data\n"),
                        ]
                    ),
                    turn(tool_calls=[call("run_shell", command=plant)]),
                    turn("Planted."),
                ],
            )
        )
    )
    res = kimicode("-p", "plant", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    assert (repo / "sub").is_symlink() and (repo / "lib").is_symlink()

    undo = kimicode("undo", cwd=repo)
    assert (victims / "new.txt").read_text() == "precious, outside the project\n"
    assert files_under(landing) == []
    assert undo.code == 1, undo  # not everything could be put back, and it says what
    skipped = [line for line in undo.stdout.splitlines() if "skipped" in line]
    assert any("sub/new.txt" in line for line in skipped), undo
    assert any("lib/data.txt" in line for line in skipped), undo
    assert "not a real directory" in undo.stdout
    # what the model moved aside is left for the user; nothing else was touched
    assert (repo / "lib.moved" / "data.txt").read_text() == "model data\n"


def test_undo_still_restores_through_real_directories(repo: Path, replay, kimicode) -> None:
    (repo / "lib").mkdir()
    (repo / "lib" / "data.txt").write_text("user data\n")
    server = replay(
        script(
            (
                "edit",
                [
                    turn(
                        tool_calls=[
                            call("write_file", path="lib/data.txt", content="model data\n"),
                            call("write_file", path="deep/er/new.txt", content="x\n"),
                        ]
                    ),
                    turn("Edited."),
                ],
            )
        )
    )
    assert kimicode("-p", "edit", cwd=repo, server=server).code == 0
    undo = kimicode("undo", cwd=repo)
    assert undo.code == 0, undo
    assert (repo / "lib" / "data.txt").read_text() == "user data\n"
    assert not (repo / "deep").exists()
