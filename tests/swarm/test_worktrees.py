from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from swarm_helpers import git, make_worktree, on_disk, write

from kimicode.config import SwarmSettings
from kimicode.errors import ToolError
from kimicode.swarm import manifest
from kimicode.swarm.snapshot import prepare_base
from kimicode.swarm.workspace import SparseWorkspace
from kimicode.swarm.worktrees import create_worktree, expand_owned, remove_worktree


def test_expand_owned_matches_like_workspace_ownership() -> None:
    files = ["a/x.py", "a/b/y.py", "a/z.txt", "b/x.py", "top.py"]
    assert expand_owned(["a/*.py"], files) == ["a/x.py"]
    assert expand_owned(["a/**/*.py"], files) == ["a/b/y.py", "a/x.py"]
    assert expand_owned(["a"], files) == ["a/b/y.py", "a/x.py", "a/z.txt"]
    assert expand_owned(["top.py", "missing.py", "b/*"], files) == ["b/x.py", "top.py"]


async def test_worktree_lives_in_cache_with_only_owned_files(repo: Path, cache_dir: Path) -> None:
    wt = await make_worktree(repo, "alpha", ["src/mod1.py", "docs/*.md"])
    assert cache_dir in wt.path.parents and repo not in wt.path.parents
    assert wt.branch == "kimicode/run1/alpha"
    assert git(repo, "rev-parse", wt.branch).strip() == wt.base
    assert on_disk(wt.path) == {"src/mod1.py", "docs/guide.md"}
    assert git(wt.path, "status", "--porcelain") == ""
    assert git(repo, "status", "--porcelain") == ""  # the user's tree sees nothing


async def test_sparse_workspace_serves_dirty_base(repo: Path) -> None:
    write(repo, {"src/mod5.py": "VALUE = 'uncommitted'\n", "notes.txt": "new\n"})
    base = await prepare_base(repo, "run1")
    wt = await make_worktree(repo, "alpha", ["src/mod1.py"], base=base)
    ws = SparseWorkspace(wt, sandbox=None)
    try:
        assert not ws.materialized
        assert on_disk(wt.path) == {"src/mod1.py"}
        assert await ws.read_bytes(ws.resolve("src/mod5.py")) == b"VALUE = 'uncommitted'\n"
        assert await ws.read_bytes(ws.resolve("notes.txt")) == b"new\n"
        assert await ws.exists(ws.resolve("docs/guide.md"))
        with pytest.raises(ToolError, match="does not exist"):
            await ws.read_bytes(ws.resolve("nope.txt"))
        with pytest.raises(ToolError, match="directory"):
            await ws.read_bytes(ws.resolve("docs"))
        base_files = git(repo, "ls-tree", "-r", "--name-only", base.commit).split()
        assert await ws.list_files() == sorted(base_files)
        ws.check_writable(ws.resolve("src/mod1.py"))
        with pytest.raises(ToolError, match="not one of your files"):
            ws.check_writable(ws.resolve("src/mod2.py"))
        (wt.path / "src/mod1.py").unlink()
        (wt.path / "src/extra.py").write_text("x\n")
        listed = await ws.list_files()
        assert "src/mod1.py" not in listed and "src/extra.py" in listed
    finally:
        await ws.close()


async def test_prepare_shell_completes_tree_and_keeps_edits(repo: Path) -> None:
    wt = await make_worktree(repo, "alpha", ["src/mod1.py", "src/mod2.py", "src/new.py"])
    ws = SparseWorkspace(wt, sandbox=None)
    (wt.path / "src/mod1.py").write_text("VALUE = 'agent'\n")
    (wt.path / "src/mod2.py").unlink()
    (wt.path / "src/new.py").write_text("NEW = 1\n")
    await ws.prepare_shell()
    assert ws.materialized
    expected = set(git(repo, "ls-files").split()) - {"src/mod2.py"} | {"src/new.py"}
    assert on_disk(wt.path) == expected
    assert (wt.path / "src/mod1.py").read_text() == "VALUE = 'agent'\n"
    assert os.access(wt.path / "run.sh", os.X_OK)
    status = git(wt.path, "status", "--porcelain").splitlines()
    assert sorted(status) == [" D src/mod2.py", " M src/mod1.py", "?? src/new.py"]
    await ws.close()


async def test_link_copy_and_setup(repo: Path) -> None:
    write(repo, {"node_modules/pkg/index.js": "module.exports = 1\n", ".env": "TOKEN=1\n"})
    write(repo, {".gitignore": "*.log\nnode_modules/\n.env\n"})
    git(repo, "commit", "-qam", "ignore build state")
    setup = "echo ran >> setup.out"
    settings = SwarmSettings(link=["node_modules", ".venv"], copy=[".env"], setup=setup)
    wt = await make_worktree(repo, "alpha", ["src/mod1.py"])
    ws = SparseWorkspace(wt, settings=settings, sandbox=None)
    await ws.prepare_shell()
    await ws.prepare_shell()
    linked = wt.path / "node_modules"
    assert linked.is_symlink() and linked.resolve() == (repo / "node_modules").resolve()
    assert (linked / "pkg/index.js").read_text() == "module.exports = 1\n"
    assert not (wt.path / ".venv").exists()  # absent in the project: nothing to link
    assert (wt.path / ".env").read_text() == "TOKEN=1\n" and not (wt.path / ".env").is_symlink()
    assert (wt.path / "setup.out").read_text() == "ran\n"
    await remove_worktree(wt)
    assert not wt.path.exists()
    assert (repo / "node_modules/pkg/index.js").exists()  # the link's target survives


async def test_failed_setup_is_reported(repo: Path) -> None:
    wt = await make_worktree(repo, "alpha", ["src/mod1.py"])
    ws = SparseWorkspace(wt, settings=SwarmSettings(setup="echo broken; exit 3"), sandbox=None)
    with pytest.raises(ToolError, match="exit 3"):
        await ws.prepare_shell()


async def test_twenty_worktrees_created_concurrently(repo: Path) -> None:
    base = await prepare_base(repo, "run1")
    owned = {f"agent{i}": [f"src/mod{i % 10}.py", f"docs/a{i}.md"] for i in range(20)}
    wts = await asyncio.gather(
        *(create_worktree(repo, base, "run1", n, o, SwarmSettings()) for n, o in owned.items())
    )
    listed = git(repo, "worktree", "list", "--porcelain")
    for wt in wts:
        assert f"worktree {wt.path}\n" in listed
        assert on_disk(wt.path) == {owned[wt.agent][0]}
        assert git(wt.path, "rev-parse", "HEAD").strip() == base.commit
        assert git(wt.path, "status", "--porcelain") == ""
    [run] = manifest.list_manifests(repo)  # an interrupted run can be found from here
    assert run.run_id == "run1" and run.base == base.commit and len(run.agents) == 20
    assert run.agents["agent3"].branch == "kimicode/run1/agent3"
    await asyncio.gather(*(remove_worktree(wt) for wt in wts))
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert all(r.removed for r in manifest.list_manifests(repo)[0].agents.values())


async def test_reading_many_files_at_once_agrees_with_reading_each(repo: Path) -> None:
    write(repo, {"src/mod5.py": "VALUE = 'uncommitted'\n"})
    base = await prepare_base(repo, "run1")
    wt = await make_worktree(repo, "alpha", ["src/mod1.py", "src/mod2.py", "src/new.py"], base=base)
    ws = SparseWorkspace(wt, sandbox=None)
    (wt.path / "src/mod1.py").write_text("VALUE = 'agent'\n")
    (wt.path / "src/mod2.py").unlink()
    (wt.path / "src/new.py").write_text("NEW = 1\n")
    names = ["src/mod1.py", "src/mod2.py", "src/new.py", "src/mod5.py", "docs/guide.md", "docs"]
    names += ["nope.txt", "run.sh"]
    try:
        for materialized in (False, True):
            if materialized:
                await ws.prepare_shell()
            each = []
            for name in names:
                try:
                    each.append(await ws.read_bytes(ws.resolve(name)))
                except ToolError:
                    each.append(None)
            assert await ws.read_many([ws.resolve(n) for n in names]) == each
            assert each[0] == b"VALUE = 'agent'\n" and each[1] is None
            assert each[3] == b"VALUE = 'uncommitted'\n" and each[4] and each[5] is None
    finally:
        await ws.close()
