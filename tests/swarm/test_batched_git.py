"""Many agents' worktrees and commits in a handful of git processes, and nothing different.

Each test counts the git processes started (every `subprocess.Popen` of git,
asyncio's included) and checks the result with git itself: the worktrees git
lists, the index git reads, the commits and trees git shows.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from swarm_helpers import git, on_disk, write

from kimicode.git.index import IndexEntry, index_bytes
from kimicode.swarm import commit_batch
from kimicode.swarm.commit import commit_agent_work, commit_in_worktree
from kimicode.swarm.merge import apply_merge, plan_merge
from kimicode.swarm.snapshot import prepare_base
from kimicode.swarm.workspace import SparseWorkspace
from kimicode.swarm.worktrees import complete_checkout, create_worktree, remove_worktree


@pytest.fixture
def git_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The subcommand of every git process started while the test runs."""
    started: list[str] = []
    original = subprocess.Popen.__init__

    def counting(self, args, *a, **kw):  # type: ignore[no-untyped-def]
        argv = [str(x) for x in args] if not isinstance(args, str | bytes) else [str(args)]
        if argv and os.path.basename(argv[0]) == "git":
            rest = argv[1:]
            i = 0
            while i < len(rest) and rest[i].startswith("-"):
                i += 2 if rest[i] in ("-c", "-C") else 1
            started.append(rest[i] if i < len(rest) else "?")
        original(self, args, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", counting)
    yield started


def test_the_index_written_directly_is_the_one_git_reads(repo: Path, tmp_path: Path) -> None:
    listing = git(repo, "ls-tree", "-r", "HEAD").splitlines()
    entries = []
    for line in listing:
        meta, path = line.split("\t")
        mode, _kind, sha = meta.split()
        entries.append(IndexEntry(path, mode, sha, skip_worktree=path != "README.md"))
    index = tmp_path / "index"
    index.write_bytes(index_bytes(entries))
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    shown = subprocess.run(
        ["git", "ls-files", "-s", "-v"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == len(entries)
    assert [ln.split("\t")[1] for ln in lines] == sorted(e.path for e in entries)
    assert all(ln.startswith("S ") for ln in lines if not ln.endswith("\tREADME.md"))
    assert next(ln for ln in lines if ln.endswith("\tREADME.md")).startswith("H ")
    tree = subprocess.run(["git", "write-tree"], cwd=repo, env=env, capture_output=True, text=True)
    assert tree.stdout.strip() == git(repo, "rev-parse", "HEAD^{tree}").strip()


async def test_forty_worktrees_cost_a_handful_of_git_processes(
    repo: Path, git_processes: list[str]
) -> None:
    base = await prepare_base(repo, "run1")
    before = len(git_processes)
    wts = await asyncio.gather(
        *(create_worktree(repo, base, "run1", f"a{i:02d}", [f"src/mod{i % 10}.py"] if i < 10
                          else [f"new/{i}.txt"]) for i in range(40))
    )  # fmt: skip
    assert len(git_processes) - before <= 12, git_processes[before:]
    listed = git(repo, "worktree", "list", "--porcelain")
    assert all(f"worktree {wt.path}\n" in listed for wt in wts)
    assert all(f"branch refs/heads/{wt.branch}" in listed for wt in wts)
    assert on_disk(wts[3].path) == {"src/mod3.py"} and on_disk(wts[20].path) == set()
    assert git(wts[3].path, "status", "--porcelain") == ""
    assert git(wts[3].path, "rev-parse", "HEAD").strip() == base.commit
    # a shell needs the whole tree: the checkout completes, keeping the agent's edit
    (wts[3].path / "src/mod3.py").write_text("VALUE = 'edited'\n")
    await complete_checkout(wts[3])
    assert "README.md" in on_disk(wts[3].path)
    assert (wts[3].path / "src/mod3.py").read_text() == "VALUE = 'edited'\n"
    assert git(wts[3].path, "status", "--porcelain") == " M src/mod3.py\n"
    for wt in wts:
        await remove_worktree(wt)
    assert git(repo, "worktree", "list").count("\n") == 1
    assert not any(wt.path.exists() or (wt.admin_dir and wt.admin_dir.exists()) for wt in wts)


async def test_an_agent_whose_branch_cannot_be_made_gets_no_worktree_and_the_rest_do(
    repo: Path,
) -> None:
    base = await prepare_base(repo, "run1")
    git(repo, "branch", "kimicode/run1/b02", base.commit)  # taken: b02's branch cannot be made
    made = await asyncio.gather(
        *(create_worktree(repo, base, "run1", f"b{i:02d}", [f"new/{i}.txt"]) for i in range(5)),
        return_exceptions=True,
    )
    assert isinstance(made[2], Exception) and "kimicode/run1/b02" in str(made[2])
    good = [wt for i, wt in enumerate(made) if i != 2]
    assert all(not isinstance(wt, BaseException) for wt in good)
    listed = git(repo, "worktree", "list", "--porcelain")
    assert listed.count("worktree ") == 5  # the project and the four that were made
    assert "b02" not in listed
    run_dir = good[0].path.parent  # type: ignore[union-attr]
    assert sorted(p.name for p in run_dir.iterdir()) == ["b00", "b01", "b03", "b04"]
    for wt in good:
        assert git(wt.path, "rev-parse", "--abbrev-ref", "HEAD").strip() == wt.branch  # type: ignore[union-attr]
        await remove_worktree(wt)  # type: ignore[arg-type]


async def test_batched_commits_keep_what_the_slow_way_keeps(
    repo: Path, git_processes: list[str]
) -> None:
    write(repo, {"build/.keep": "", ".gitignore": "*.log\nbuild/\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "ignore build")
    base = await prepare_base(repo, "run1")
    owned = ["src/mod1.py", "src/mod2.py", "out/**", "run.sh"]

    async def act(name: str) -> object:
        wt = await create_worktree(repo, base, "run1", name, owned)
        write(wt.path, {"src/mod1.py": "VALUE = 'one'\n", "out/new.txt": "new\n"})
        write(wt.path, {"out/debug.log": "ignored\n", "out/build/x": "ignored too\n"})
        write(wt.path, {"stray.txt": "not owned\n"})
        (wt.path / "src/mod2.py").unlink()
        (wt.path / "run.sh").chmod(0o644)
        os.symlink("new.txt", wt.path / "out/link")
        return wt

    fast_wts = await asyncio.gather(*(act(f"f{i}") for i in range(10)))
    slow_wt = await act("slow")
    before = len(git_processes)
    fast = await asyncio.gather(
        *(commit_agent_work(wt, owned, f"{wt.agent}: work") for wt in fast_wts)
    )  # type: ignore[attr-defined]
    # for-each-ref, check-ignore, var, fast-import, diff-tree, the identity (once per
    # process), each with its config listing: 16 at most, for 10 agents as for 300
    assert len(git_processes) - before <= 16, git_processes[before:]
    assert "add" not in git_processes[before:]
    slow = await commit_in_worktree(slow_wt, owned, "slow: work")  # type: ignore[arg-type]
    for made in fast:
        assert made.commit and made.commit != base.commit
        assert git(repo, "rev-parse", f"{made.commit}^{{tree}}") == git(
            repo, "rev-parse", f"{slow.commit}^{{tree}}"
        )
        assert made.changed == slow.changed == [
            "out/link", "out/new.txt", "run.sh", "src/mod1.py", "src/mod2.py"
        ]  # fmt: skip
        assert made.outside == slow.outside == ["stray.txt"]
        assert made.diffstat == slow.diffstat and "5 files changed" in made.diffstat
        assert git(repo, "rev-parse", f"{made.commit}^").strip() == base.commit
        assert git(made.worktree.path, "status", "--porcelain") == "?? stray.txt\n"
    assert git(repo, "log", "-1", "--format=%an <%ae>|%s", fast[0].commit) == (
        "Test User <test@example.com>|f0: work\n"
    )
    plan = await plan_merge(repo, base, [fast[0]])
    assert [c.path for c in plan.agents[0].changes] == fast[0].changed
    report = await apply_merge(repo, plan)
    assert report.merged["f0"] == fast[0].changed
    assert (repo / "out/new.txt").read_text() == "new\n" and not (repo / "src/mod2.py").exists()
    assert os.readlink(repo / "out/link") == "new.txt" and not os.access(repo / "run.sh", os.X_OK)


async def test_a_worktree_a_shell_completed_or_whose_branch_moved_goes_the_slow_way(
    repo: Path, git_processes: list[str]
) -> None:
    base = await prepare_base(repo, "run1")
    shell = await create_worktree(repo, base, "run1", "shell", ["src/mod1.py"])
    moved = await create_worktree(repo, base, "run1", "moved", ["src/mod2.py"])
    await SparseWorkspace(shell, sandbox=None).prepare_shell()
    write(shell.path, {"src/mod1.py": "VALUE = 'shell'\n"})
    write(moved.path, {"src/mod2.py": "VALUE = 'committed by a hook'\n"})
    git(moved.path, "commit", "-qam", "the hook's own commit")
    before = len(git_processes)
    done = await commit_batch.commit_many(
        [commit_batch.CommitRequest(shell, ["src/mod1.py"], "shell"),
         commit_batch.CommitRequest(moved, ["src/mod2.py"], "moved")],
        slow=commit_in_worktree,
    )  # fmt: skip
    assert "add" in git_processes[before:]  # git decided what changed
    shell_commit, moved_commit = done
    assert not isinstance(shell_commit, BaseException)
    assert not isinstance(moved_commit, BaseException)
    assert shell_commit.changed == ["src/mod1.py"] and moved_commit.changed == ["src/mod2.py"]
    assert moved_commit.commit == git(repo, "rev-parse", moved.branch).strip()
