"""The base to a node and an agent's work back, as git bundles between real repositories."""

from __future__ import annotations

from pathlib import Path

from swarm_helpers import git

from kimicode.swarm.bundles import bundle_base, bundle_branch, fetch_branch, unpack_base


async def test_a_base_travels_once_and_work_comes_back_as_its_branch(
    repo: Path, tmp_path: Path
) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    data = await bundle_base(repo, base)
    assert data.startswith(b"# v2 git bundle") or data.startswith(b"# v3 git bundle")
    assert "refs/kimicode/bundle" not in git(repo, "for-each-ref")  # no ref left behind

    node_cache = tmp_path / "node-cache"
    node_repo = await unpack_base(data, base, node_cache)
    assert git(node_repo, "cat-file", "-t", base).strip() == "commit"
    assert git(node_repo, "show", f"{base}:src/mod3.py") == "VALUE = 3\n"
    marker = node_repo / ".git" / "reused"
    marker.write_text("x")
    assert await unpack_base(data, base, node_cache) == node_repo and marker.exists()

    branch = "kimicode/run1/alpha"
    assert await bundle_branch(node_repo, branch, base) == b""  # no such branch yet
    git(node_repo, "branch", branch, base)
    assert await bundle_branch(node_repo, branch, base) == b""  # nothing after the base
    work = tmp_path / "wt"
    git(node_repo, "worktree", "add", "-q", str(work), branch)
    (work / "src" / "mod3.py").write_text("VALUE = 33\n")
    git(work, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qam", "alpha: edit")
    back = await bundle_branch(node_repo, branch, base)
    assert back

    tip = await fetch_branch(repo, back, branch)
    assert tip == git(node_repo, "rev-parse", branch).strip()
    assert git(repo, "show", f"{branch}:src/mod3.py") == "VALUE = 33\n"
    assert git(repo, "rev-parse", f"{branch}^").strip() == base
    assert git(repo, "status", "--porcelain") == ""  # the user's tree is untouched
