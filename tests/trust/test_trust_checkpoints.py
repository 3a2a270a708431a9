from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from trust_helpers import git

from kimicode.errors import ToolError
from kimicode.trust.checkpoints import CheckpointError, CheckpointStore


def repo_state(root: Path) -> tuple[str, bytes, str, str]:
    """What must not change in the user's repository: refs, index bytes, status, log."""
    refs = git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    return (
        refs,
        (root / ".git" / "index").read_bytes(),
        git(root, "status", "--porcelain"),
        git(root, "log", "--all", "--oneline"),
    )


async def test_undo_restores_files_exactly(project: Path, data_dir: Path) -> None:
    app = project / "src" / "app.py"
    binary = project / "logo.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    os.chmod(binary, 0o751)
    before = {p: p.read_bytes() for p in (app, binary)}
    before_state = repo_state(project)

    store = CheckpointStore(project)
    await store.snapshot(["src/app.py", "logo.bin", "new/deep/file.txt"], "turn 1")
    app.write_text("print('broken')\r\n")
    binary.unlink()
    (project / "new" / "deep").mkdir(parents=True)
    (project / "new" / "deep" / "file.txt").write_text("created")

    report = await store.undo()
    assert {p: p.read_bytes() for p in (app, binary)} == before
    assert stat.S_IMODE(binary.stat().st_mode) == 0o751
    assert not (project / "new").exists()  # created file and the directories made for it
    assert sorted(report.restored) == ["logo.bin", "src/app.py"]
    assert report.removed == ["new/deep/file.txt"]
    assert repo_state(project) == before_state
    assert store.store.parent == data_dir / "checkpoints"  # KIMICODE_DATA_DIR, not the repo


async def test_the_users_git_never_changes(project: Path) -> None:
    (project / "src" / "app.py").write_text("dirty but uncommitted\n")
    git(project, "add", "src/app.py")
    (project / "untracked.txt").write_text("u")
    before = repo_state(project)
    store = CheckpointStore(project)
    await store.snapshot(["src/app.py", "untracked.txt"], "t")
    (project / "src" / "app.py").write_text("changed again\n")
    mid = repo_state(project)
    await store.undo()
    assert repo_state(project) == before
    assert mid[0] == before[0] and mid[1] == before[1]  # refs and index untouched meanwhile


async def test_undo_n_goes_back_n_change_sets_and_list_shrinks(project: Path) -> None:
    app = project / "src" / "app.py"
    store = CheckpointStore(project)
    versions = [app.read_text()]
    for n in range(3):
        await store.snapshot(["src/app.py"], f"turn {n}")
        app.write_text(f"version {n}\n")
        versions.append(app.read_text())
    listed = await store.list()
    assert [c.label for c in listed] == ["turn 2", "turn 1", "turn 0"]
    assert listed[0].paths == ["src/app.py"]

    await store.undo()
    assert app.read_text() == versions[2]
    await store.undo(2)
    assert app.read_text() == versions[0]
    assert await store.list() == []
    with pytest.raises(CheckpointError):
        await store.undo()


async def test_restore_to_a_checkpoint_id(project: Path) -> None:
    app = project / "src" / "app.py"
    original = app.read_text()
    store = CheckpointStore(project)
    first = await store.snapshot(["src/app.py"], "one")
    app.write_text("1")
    await store.snapshot(["src/app.py", "other.txt"], "two")
    app.write_text("2")
    (project / "other.txt").write_text("o")
    report = await store.restore(first.id)
    assert app.read_text() == original and not (project / "other.txt").exists()
    assert len(report.checkpoints) == 2


async def test_symlinks_and_directories(project: Path) -> None:
    (project / "link").symlink_to("src/app.py")
    store = CheckpointStore(project)
    await store.snapshot(["link", "src"], "dir")
    (project / "link").unlink()
    (project / "link").write_text("now a file")
    (project / "src" / "app.py").unlink()
    (project / "src" / "extra.py").write_text("x")  # not recorded: never touched by undo
    await store.undo()
    assert os.readlink(project / "link") == "src/app.py"
    assert (project / "src" / "app.py").read_text() == "print('hi')\n"
    assert (project / "src" / "extra.py").exists()


async def test_works_outside_git_and_keeps_projects_apart(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "f.txt").write_text("a")
    (b / "f.txt").write_text("b")
    store_a, store_b = CheckpointStore(a), CheckpointStore(b)
    await store_a.snapshot(["f.txt"], "a")
    await store_b.snapshot(["f.txt"], "b")
    (a / "f.txt").write_text("changed")
    assert store_a.store != store_b.store
    await store_a.undo()
    assert (a / "f.txt").read_text() == "a"
    assert [c.label for c in await store_b.list()] == ["b"]
    assert not (a / ".git").exists()


async def test_paths_outside_the_root_are_refused(project: Path, tmp_path: Path) -> None:
    store = CheckpointStore(project)
    with pytest.raises(ToolError):
        await store.snapshot(["../outside.txt"], "x")
    with pytest.raises(ToolError):
        await store.snapshot([str(tmp_path / "elsewhere")], "x")
