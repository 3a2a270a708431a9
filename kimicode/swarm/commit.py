"""Committing what a sub-agent did: its own files on its branch, the rest only reported.

Everything is measured against the base commit, not the branch's HEAD, so
commits the agent made itself through the shell change nothing about what
counts as its work: the committed tree is the base plus the agent's changes to
the files it owns.

Worktrees no shell ran in are committed together, without git processes of
their own (`commit_batch`); this module's `commit_in_worktree` is the way for
the rest. Git is pointed at the worktree's gitdir explicitly (`GIT_DIR`, `GIT_WORK_TREE`),
never through the worktree's `.git` file: the agent's shell may have rewritten
that file to name a gitdir it made.
"""

from __future__ import annotations

from pathlib import Path

from kimicode.git.run import git, git_text
from kimicode.swarm import manifest
from kimicode.swarm.commit_batch import CommitRequest, commit_batched
from kimicode.swarm.gitops import identity_env, split_z
from kimicode.swarm.records import AgentCommit, AgentWorktree, pinned
from kimicode.swarm.shared import is_shared, shared_paths

__all__ = ["AgentCommit", "commit_agent_work", "commit_in_worktree"]
from kimicode.tools.workspace import Workspace

NO_SIGN = ("-c", "commit.gpgSign=false")
LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}


async def commit_agent_work(wt: AgentWorktree, owned: list[str], message: str) -> AgentCommit:
    """Commit the agent's changes to its own files on its branch (with others that end now)."""
    request = CommitRequest(wt, list(owned), message)
    return await commit_batched(request, slow=commit_in_worktree)


async def commit_in_worktree(wt: AgentWorktree, owned: list[str], message: str) -> AgentCommit:
    """Stage everything, keep only owned changes, commit them on the agent's branch."""
    cwd, pin = wt.path, pinned(wt)
    await git(cwd, "add", "-A", "--", ".", env=pin)
    staged = split_z(
        await git(cwd, "diff", "--cached", "--no-renames", "--name-only", "-z", wt.base, env=pin)
    )
    ownership = Workspace(cwd, owned=owned)
    shared = shared_paths(wt)
    changed, outside, unstage = [], [], []
    for rel in staged:
        if is_shared(rel, shared):
            unstage.append(rel)
        elif ownership.is_owned(rel):
            changed.append(rel)
        else:
            outside.append(rel)
            unstage.append(rel)
    if unstage:
        # Reset those index entries to the base version (dropping ones the base lacks).
        pathspecs = ("\0".join(unstage) + "\0").encode("utf-8", "surrogateescape")
        await git(cwd, "reset", "-q", "--pathspec-from-file=-", "--pathspec-file-nul",
                  wt.base, input=pathspecs, env={**LITERAL, **pin})  # fmt: skip
    commit = None
    if changed:
        commit = await _commit_index(wt, message)
    await manifest.update_agent(
        wt.repo_root, wt.run_id, wt.agent,
        status="committed" if commit else "unchanged", commit=commit,
    )  # fmt: skip
    diffstat = await git_text(cwd, "diff", "--stat", wt.base, commit, env=pin) if commit else ""
    return AgentCommit(wt, commit, message, sorted(changed), sorted(outside), diffstat)


async def _commit_index(wt: AgentWorktree, message: str) -> str:
    cwd, pin = wt.path, pinned(wt)
    tree = await git_text(cwd, "write-tree", env=pin)
    head, head_tree = (await git_text(cwd, "rev-parse", "HEAD", "HEAD^{tree}", env=pin)).split()
    if tree == head_tree:
        return head  # the agent committed exactly this itself
    env = {**await identity_env(Path(wt.repo_root)), **pin}
    sha = await git_text(cwd, *NO_SIGN, "commit-tree", tree, "-p", head, "-m", message, env=env)
    await git(cwd, "update-ref", "-m", "kimicode: agent work", "HEAD", sha, head, env=pin)
    return sha
