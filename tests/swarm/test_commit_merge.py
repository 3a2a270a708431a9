from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from swarm_helpers import branches, git, make_worktree, temp_files, write

from kimicode.swarm.commit import commit_agent_work
from kimicode.swarm.merge import apply_merge, plan_merge
from kimicode.swarm.snapshot import prepare_base
from kimicode.swarm.workspace import SparseWorkspace


async def test_commit_reports_outside_changes(repo: Path) -> None:
    wt = await make_worktree(repo, "alpha", ["src/mod1.py", "src/new_*.py"])
    ws = SparseWorkspace(wt, sandbox=None)
    await ws.prepare_shell()  # a shell could now touch anything
    write(wt.path, {"src/mod1.py": "VALUE = 'alpha'\n", "src/new_a.py": "A = 1\n"})
    write(wt.path, {"src/mod2.py": "VALUE = 'not mine'\n", "stray.txt": "oops\n"})
    result = await commit_agent_work(wt, wt.owned, "alpha: change mod1")
    assert result.commit is not None
    assert result.changed == ["src/mod1.py", "src/new_a.py"]
    assert result.outside == ["src/mod2.py", "stray.txt"]
    assert "src/mod1.py" in result.diffstat and "2 files changed" in result.diffstat
    committed = git(repo, "diff", "--name-only", wt.base, wt.branch).split()
    assert committed == ["src/mod1.py", "src/new_a.py"]
    assert git(repo, "log", "-1", "--format=%s", wt.branch).strip() == "alpha: change mod1"
    await ws.close()


async def test_commit_without_changes(repo: Path) -> None:
    wt = await make_worktree(repo, "alpha", ["src/mod1.py"])
    result = await commit_agent_work(wt, wt.owned, "nothing")
    assert result.commit is None and result.changed == [] and result.diffstat == ""
    assert git(repo, "rev-parse", wt.branch).strip() == wt.base


async def _agents(repo: Path, n: int) -> list:
    base = await prepare_base(repo, "run1")
    commits = []
    for i in range(n):
        wt = await make_worktree(
            repo, f"agent{i}", [f"src/mod{i}.py", f"src/added{i}.py"], base=base
        )
        write(wt.path, {f"src/mod{i}.py": f"VALUE = 'agent {i}'\n", f"src/added{i}.py": "NEW\n"})
        commits.append(await commit_agent_work(wt, wt.owned, f"task {i}"))
    return [base, commits]


async def test_merge_applies_disjoint_edits_creations_deletions(repo: Path) -> None:
    base = await prepare_base(repo, "run1")
    edit = await make_worktree(repo, "edit", ["src/mod1.py", "src/mod2.py"], base=base)
    write(edit.path, {"src/mod1.py": "VALUE = 'edited'\n"})
    (edit.path / "src/mod2.py").unlink()
    create = await make_worktree(repo, "create", ["lib/**", "lib/*"], base=base)
    write(create.path, {"lib/deep/util.py": "U = 1\n"})
    remove = await make_worktree(repo, "remove", ["docs/*", "run.sh"], base=base)
    (remove.path / "docs/guide.md").unlink()
    (remove.path / "run.sh").write_text("#!/bin/sh\necho changed\n")
    commits = [
        await commit_agent_work(w, w.owned, f"task {w.agent}") for w in (edit, create, remove)
    ]

    plan = await plan_merge(repo, base, commits)
    assert [a.agent for a in plan.clean] == ["edit", "create", "remove"]
    report = await apply_merge(repo, plan)

    assert set(report.merged) == {"edit", "create", "remove"}
    assert (repo / "src/mod1.py").read_text() == "VALUE = 'edited'\n"
    assert not (repo / "src/mod2.py").exists()
    assert (repo / "lib/deep/util.py").read_text() == "U = 1\n"
    assert not (repo / "docs").exists()
    assert (repo / "run.sh").read_text().endswith("changed\n")
    assert os.access(repo / "run.sh", os.X_OK)
    assert not temp_files(repo)
    for w in (edit, create, remove):
        assert not w.path.exists()
    assert branches(repo) == []
    assert git(repo, "log", "--oneline").count("\n") == 1  # nothing committed


async def test_user_edit_after_base_is_never_overwritten(repo: Path) -> None:
    base, commits = await _agents(repo, 3)
    write(repo, {"src/mod1.py": "VALUE = 'the user was here'\n"})  # edited during the run

    plan = await plan_merge(repo, base, commits)
    assert [a.agent for a in plan.conflicted] == ["agent1"]
    report = await apply_merge(repo, plan)

    assert (repo / "src/mod1.py").read_text() == "VALUE = 'the user was here'\n"
    assert not (repo / "src/added1.py").exists()
    assert (repo / "src/mod0.py").read_text() == "VALUE = 'agent 0'\n"
    assert (repo / "src/mod2.py").read_text() == "VALUE = 'agent 2'\n"
    [conflict] = report.conflicts
    assert conflict.agent == "agent1" and conflict.files == ["src/mod1.py"]
    assert conflict.inspect == f"git diff {base.commit}..kimicode/run1/agent1"
    assert branches(repo) == ["kimicode/run1/agent1"]
    assert "agent 1" in git(repo, *conflict.inspect.split()[1:])


async def test_user_created_file_and_agent_overlap_are_conflicts(repo: Path) -> None:
    base = await prepare_base(repo, "run1")
    a = await make_worktree(repo, "a", ["shared.txt", "a.txt"], base=base)
    b = await make_worktree(repo, "b", ["shared.txt"], base=base)
    write(a.path, {"shared.txt": "from a\n", "a.txt": "a\n"})
    write(b.path, {"shared.txt": "from b\n"})
    commits = [await commit_agent_work(w, w.owned, w.agent) for w in (a, b)]
    plan = await plan_merge(repo, base, commits)
    assert [x.agent for x in plan.clean] == ["a"] and "also changed by a" in plan.conflicted[
        0
    ].reason
    write(repo, {"a.txt": "the user made this meanwhile\n"})
    report = await apply_merge(repo, plan)  # re-checked before writing
    assert report.merged == {} and {c.agent for c in report.conflicts} == {"a", "b"}
    assert not (repo / "shared.txt").exists()


async def test_merge_with_commit_makes_one_commit_per_agent(repo: Path) -> None:
    write(repo, {"staged_by_user.txt": "keep me staged\n"})
    base, commits = await _agents(repo, 2)
    git(repo, "add", "staged_by_user.txt")
    plan = await plan_merge(repo, base, commits)
    report = await apply_merge(repo, plan, commit=True, messages={"agent0": "translate page 0"})
    assert set(report.commits) == {"agent0", "agent1"} and not report.errors
    log = git(repo, "log", "--format=%s", "-3").splitlines()
    assert log[:2] == ["task 1", "translate page 0"]
    shown = git(repo, "show", "--name-only", "--format=", report.commits["agent0"]).split()
    assert sorted(shown) == ["src/added0.py", "src/mod0.py"]
    assert "A  staged_by_user.txt" in git(repo, "status", "--porcelain")


@pytest.mark.parametrize("cancel_at", [0, 3])
async def test_cancel_during_apply_leaves_tree_untouched_or_fully_merged(
    repo: Path, monkeypatch: pytest.MonkeyPatch, cancel_at: int
) -> None:
    base, commits = await _agents(repo, 4)
    plan = await plan_merge(repo, base, commits)
    before = {p: p.read_bytes() for p in (repo / "src").iterdir()}
    loop = asyncio.get_running_loop()
    holder: dict[str, asyncio.Task] = {}
    calls = 0
    real_replace = os.replace

    def replace_then_cancel(src, dst):  # a Ctrl-C arriving in the middle of the writes
        nonlocal calls
        calls += 1
        if calls == cancel_at:
            loop.call_soon_threadsafe(holder["task"].cancel)
            import time

            time.sleep(0.05)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_cancel)
    holder["task"] = task = asyncio.ensure_future(apply_merge(repo, plan))
    if cancel_at == 0:
        await asyncio.sleep(0)
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(os, "replace", real_replace)

    after = {p: p.read_bytes() for p in (repo / "src").iterdir()}
    merged = {repo / f"src/mod{i}.py": f"VALUE = 'agent {i}'\n".encode() for i in range(4)}
    merged |= {repo / f"src/added{i}.py": b"NEW\n" for i in range(4)}
    assert after == before or after == before | merged
    if cancel_at:
        assert after == before | merged
    assert not temp_files(repo)
