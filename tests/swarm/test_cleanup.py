from __future__ import annotations

from pathlib import Path

from swarm_helpers import branches, git, make_worktree, write

from kimicode.swarm import manifest
from kimicode.swarm.cleanup import clean, find_leftovers
from kimicode.swarm.commit import commit_agent_work
from kimicode.swarm.snapshot import prepare_base


async def _interrupted_run(repo: Path) -> dict:
    """What a run killed before its merge leaves: worktrees, branches, a snapshot ref."""
    write(repo, {"wip.txt": "user's uncommitted work\n"})
    base = await prepare_base(repo, "r1")
    wts = {}
    for name in ("merged", "empty", "unmerged", "editing"):
        wts[name] = await make_worktree(repo, name, [f"{name}.txt"], run_id="r1", base=base)
    for name in ("merged", "unmerged"):
        write(wts[name].path, {f"{name}.txt": f"{name}\n"})
        await commit_agent_work(wts[name], wts[name].owned, name)
    # merged into the user's tree, but the run died before tidying up
    await manifest.update_agent(repo, "r1", "merged", merged=True)
    write(wts["editing"].path, {"editing.txt": "not committed yet\n"})
    return wts


async def test_clean_keeps_unmerged_work_without_force(repo: Path, cache_dir: Path) -> None:
    wts = await _interrupted_run(repo)
    left = await find_leftovers(repo)
    assert len(left.worktrees) == 4 and len(left.branches) == 4
    assert left.snapshots == ["refs/kimicode/snapshots/r1"]
    by_name = {b.agent: b for b in left.branches}
    assert by_name["merged"].removable and by_name["empty"].removable
    assert not by_name["unmerged"].removable and by_name["unmerged"].ahead == 1

    report = await clean(repo)

    assert branches(repo) == ["kimicode/r1/editing", "kimicode/r1/unmerged"]
    assert not wts["merged"].path.exists() and not wts["unmerged"].path.exists()
    assert wts["editing"].path.exists()  # uncommitted edits are not thrown away
    assert git(repo, "rev-parse", "refs/kimicode/snapshots/r1")  # its run still has work
    text = report.render()
    assert "kimicode/r1/unmerged" in text and "git diff" in text and "--force" in text
    inspect = next(b.inspect for b in report.kept_branches if b.agent == "unmerged")
    assert "unmerged" in git(repo, *inspect.split()[1:])
    assert (repo / "wip.txt").read_text() == "user's uncommitted work\n"

    forced = await clean(repo, force=True)

    assert branches(repo) == []
    assert not wts["editing"].path.exists()
    assert git(repo, "for-each-ref", "refs/kimicode/") == ""
    assert git(repo, "worktree", "list").count("\n") == 1
    assert not list((cache_dir / "runs").rglob("*.json"))
    assert "Deleted 2 branch(es)" in forced.render()
    assert (await find_leftovers(repo)).empty


async def test_clean_with_nothing_left(repo: Path) -> None:
    report = await clean(repo)
    assert report.render() == "Nothing to remove."
