from __future__ import annotations

from pathlib import Path

from swarm_helpers import git, write

from kimicode.swarm.snapshot import prepare_base


def user_state(repo: Path) -> tuple[str, str, bytes]:
    status = git(repo, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all")
    stash = git(repo, "stash", "list")
    return status, stash, (repo / ".git" / "index").read_bytes()


async def test_clean_tree_uses_head(repo: Path) -> None:
    base = await prepare_base(repo, "r1")
    assert base.commit == git(repo, "rev-parse", "HEAD").strip()
    assert not base.dirty and base.ref is None


async def test_dirty_tree_snapshot_keeps_user_state_identical(repo: Path) -> None:
    write(repo, {"src/mod1.py": "VALUE = 'stashed'\n"})
    git(repo, "stash", "-q")
    write(repo, {"src/mod2.py": "VALUE = 'staged'\n"})
    git(repo, "add", "src/mod2.py")
    write(repo, {"src/mod3.py": "VALUE = 'unstaged edit'\n", "notes/new.txt": "untracked\n"})
    write(repo, {"debug.log": "ignored\n"})
    (repo / "docs/guide.md").unlink()
    before = user_state(repo)

    base = await prepare_base(repo, "r1")

    assert user_state(repo) == before
    assert base.dirty and base.ref == "refs/kimicode/snapshots/r1"
    assert git(repo, "rev-parse", base.ref).strip() == base.commit
    assert (
        git(repo, "rev-parse", f"{base.commit}^").strip() == git(repo, "rev-parse", "HEAD").strip()
    )
    show = lambda rel: git(repo, "show", f"{base.commit}:{rel}")  # noqa: E731
    assert show("src/mod3.py") == "VALUE = 'unstaged edit'\n"
    assert show("src/mod2.py") == "VALUE = 'staged'\n"
    assert show("notes/new.txt") == "untracked\n"
    files = git(repo, "ls-tree", "-r", "--name-only", base.commit).split()
    assert "debug.log" not in files and "docs/guide.md" not in files
    assert show("src/mod1.py") == "VALUE = 1\n"  # the stash is not part of the tree


async def test_repo_without_commits(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {"a.txt": "hello\n"})
    base = await prepare_base(root, "r1")
    assert base.dirty and base.ref
    assert git(root, "show", f"{base.commit}:a.txt") == "hello\n"
    assert git(root, "status", "--porcelain") == "?? a.txt\n"
