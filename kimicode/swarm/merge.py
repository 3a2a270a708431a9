"""Merge safety, the whole story: how agents' work reaches the user's tree, or does not.

1. The base. Every agent starts from HEAD or, when the tree is dirty, a
   snapshot commit built in a temporary index (`snapshot`): the user's index,
   working tree and stash are never written.
2. What counts as an agent's work. When an agent ends, `commit.commit_agent_work`
   commits on its branch only its changes to the files it owns, measured
   against the base (not against commits it made itself through the shell);
   changes to other files are reported and never merged.
3. The plan. The orchestrator starts merging only once every agent has ended
   (a cancelled run merges nothing: each agent's work stays on its branch).
   `plan_merge` then compares every file an agent changed with the user's
   *current* file: if the user changed it since the base (content, mode,
   created, deleted, or a file where a directory is needed), or an earlier
   agent already claims that path or a parent of it, the whole agent is a
   conflict and none of its files are written.
4. The undo point. Before writing, the orchestrator checkpoints the files the
   clean agents will change (`trust.checkpoints`), so `/undo` puts them back.
5. The write. `apply_merge` re-checks the plan against the tree as it is now,
   then writes in two phases in a worker thread: each new content goes to a
   temp file beside its target, then each is swapped in with `os.replace`
   (atomic per file) and deletions follow; a failure in the first phase
   removes every temp file and directory it made. The write (and the optional
   per-agent commit in the user's repo, `[swarm] commit`) runs to its end
   under `asyncio.shield` even when Ctrl-C arrives: the tree ends up
   untouched or fully merged, never half-written.
6. What is kept. Worktrees and branches of merged or empty agents are removed;
   a conflicting agent's branch stays, with the command that shows its work,
   and so does any branch holding unmerged commits until
   `kimicode swarm clean --force` (`cleanup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.git.catfile import read_blobs
from kimicode.git.index import blob_id
from kimicode.git.run import git, git_sync
from kimicode.swarm import manifest
from kimicode.swarm.commit import AgentCommit
from kimicode.swarm.gitops import split_z
from kimicode.swarm.snapshot import Base
from kimicode.swarm.uninterruptible import uninterruptible
from kimicode.swarm.worktrees import remove_worktrees

ZERO = "0" * 40


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    old_mode: str
    old_sha: str | None
    """None when the agent created the file."""
    new_mode: str
    new_sha: str | None
    """None when the agent deleted the file."""


@dataclass(slots=True)
class AgentPlan:
    commit: AgentCommit
    changes: list[FileChange] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    """Paths that make this agent unmergeable."""
    reason: str = ""

    @property
    def agent(self) -> str:
        return self.commit.agent

    @property
    def clean(self) -> bool:
        return not self.conflicts

    @property
    def inspect(self) -> str:
        return f"git diff {self.commit.base}..{self.commit.branch}"


@dataclass(slots=True)
class MergePlan:
    repo_root: Path
    base: Base
    agents: list[AgentPlan]

    @property
    def clean(self) -> list[AgentPlan]:
        return [a for a in self.agents if a.clean]

    @property
    def conflicted(self) -> list[AgentPlan]:
        return [a for a in self.agents if not a.clean]


@dataclass(slots=True)
class Conflict:
    agent: str
    branch: str
    files: list[str]
    reason: str
    inspect: str
    """The command that shows the kept branch's work."""


@dataclass(slots=True)
class MergeReport:
    merged: dict[str, list[str]] = field(default_factory=dict)
    """Agent -> files written into the working tree."""
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    commits: dict[str, str] = field(default_factory=dict)
    """Agent -> commit made in the user's repo (with `commit=True`)."""
    errors: list[str] = field(default_factory=list)


async def plan_merge(repo_root: Path, base: Base, commits: list[AgentCommit]) -> MergePlan:
    """Decide, for every agent, whether its whole change set applies cleanly."""
    repo_root = Path(repo_root)
    agents = [AgentPlan(c) for c in commits]
    with_work = [p for p in agents if p.commit.commit is not None]
    found = await _changes(repo_root, [(p.commit.commit or "", p.commit.base) for p in with_work])
    for plan in with_work:
        plan.changes = found.get((plan.commit.commit or "", plan.commit.base), [])
    await _check(repo_root, agents)
    return MergePlan(repo_root, base, agents)


_META = re.compile(r"^:\d{6} \d{6} [0-9a-f]+ [0-9a-f]+ [A-Z]\d*$")


async def _changes(
    repo_root: Path, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], list[FileChange]]:
    """(commit, base) -> the files `commit` changed against `base`, all in one `diff-tree`."""
    wanted = list(dict.fromkeys(pairs))
    if not wanted:
        return {}
    lines = "".join(f"{commit} {base}\n" for commit, base in wanted).encode()
    out = await git(repo_root, "diff-tree", "--stdin", "-r", "-z", "--no-renames", input=lines)
    fields = split_z(out)
    by_commit: dict[str, list[FileChange]] = {}
    current: list[FileChange] = []
    i = 0
    while i < len(fields):
        token = fields[i]
        if not _META.match(token):  # the header naming the next commit
            current = by_commit.setdefault(token, [])
            i += 1
            continue
        old_mode, new_mode, old_sha, new_sha, _status = token.lstrip(":").split(" ")
        current.append(
            FileChange(
                path=fields[i + 1],
                old_mode=old_mode,
                old_sha=None if old_sha == ZERO else old_sha,
                new_mode=new_mode,
                new_sha=None if new_sha == ZERO else new_sha,
            )
        )
        i += 2
    return {(commit, base): by_commit.get(commit, []) for commit, base in wanted}


async def _check(repo_root: Path, agents: list[AgentPlan]) -> None:
    """Mark agents whose paths the user touched or another agent already claims."""
    current = await _current_state(repo_root, [c for a in agents for c in a.changes])
    claimed: dict[str, str] = {}
    claimed_dirs: set[str] = set()
    for plan in agents:
        if not plan.clean:
            continue
        user_changed, taken = [], []
        for change in plan.changes:
            if current.get(change.path) != _expected(change) or _parent_blocked(
                repo_root, change.path
            ):
                user_changed.append(change.path)
            parents = _parents(change.path)
            if (
                change.path in claimed
                or change.path in claimed_dirs
                or any(p in claimed for p in parents)
            ):
                taken.append(change.path)
        if user_changed:
            plan.conflicts = user_changed
            plan.reason = "changed in your working tree since the swarm started"
        elif taken:
            plan.conflicts = taken
            owners = sorted({claimed.get(p, "another agent") for p in taken})
            plan.reason = f"also changed by {', '.join(owners)}"
        else:
            for change in plan.changes:
                claimed[change.path] = plan.agent
                claimed_dirs.update(_parents(change.path))


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _parent_blocked(repo_root: Path, path: str) -> bool:
    """A file or symlink where the change needs a directory."""
    for parent in _parents(path):
        target = repo_root / parent
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            return True
    return False


def _expected(change: FileChange) -> tuple[str, str] | None:
    if change.old_sha is None:
        return None
    return (_kind(change.old_mode), change.old_sha)


def _kind(mode: str) -> str:
    return {"100755": "x", "120000": "l"}.get(mode, "f")


async def _current_state(repo_root: Path, changes: list[FileChange]) -> dict[str, tuple[str, str]]:
    """path -> (kind, blob sha of what is in the working tree now); absent paths left out."""
    state: dict[str, tuple[str, str]] = {}
    to_hash: list[tuple[str, str]] = []
    for change in changes:
        path = repo_root / change.path
        if path.is_symlink():
            target = os.fsencode(os.readlink(path))
            state[change.path] = ("l", blob_id(target, len(change.old_sha or ZERO)))
        elif path.is_file():
            kind = "x" if os.access(path, os.X_OK) else "f"
            to_hash.append((change.path, kind))
        elif path.exists():
            state[change.path] = ("d", "")
    if to_hash:
        paths = "".join(p + "\n" for p, _ in to_hash).encode("utf-8", "surrogateescape")
        out = await git(repo_root, "hash-object", "--stdin-paths", input=paths)
        for (rel, kind), sha in zip(to_hash, out.decode().split(), strict=True):
            state[rel] = (kind, sha)
    return state


async def apply_merge(
    repo_root: Path,
    plan: MergePlan,
    *,
    commit: bool = False,
    messages: dict[str, str] | None = None,
) -> MergeReport:
    """Write every clean agent's files; commit them per agent when `commit` is set."""
    repo_root = Path(repo_root)
    clean_before = plan.clean
    recheck = [AgentPlan(a.commit, a.changes) for a in clean_before]
    await _check(repo_root, recheck)
    for original, fresh in zip(clean_before, recheck, strict=True):
        original.conflicts, original.reason = fresh.conflicts, fresh.reason
    clean = plan.clean
    shas = [c.new_sha for a in clean for c in a.changes if c.new_sha]
    blobs = await read_blobs(repo_root, shas)
    writes = [
        FileWrite(c.path, c.new_mode, blobs[c.new_sha] if c.new_sha else None)
        for a in clean
        for c in a.changes
    ]
    messages = messages or {}
    report = MergeReport()
    for a in clean:
        if a.changes:
            report.merged[a.agent] = [c.path for c in a.changes]
        else:
            report.unchanged.append(a.agent)
    for a in plan.conflicted:
        report.conflicts.append(
            Conflict(a.agent, a.commit.branch, a.conflicts, a.reason, a.inspect)
        )

    async def write_and_record() -> None:
        await asyncio.to_thread(write_files, repo_root, writes)
        if commit:
            for a in clean:
                if not a.changes:
                    continue
                message = messages.get(a.agent) or a.commit.message
                paths = [c.path for c in a.changes]
                try:
                    sha = await asyncio.to_thread(commit_agent_files, repo_root, paths, message)
                    report.commits[a.agent] = sha
                except Exception as exc:
                    report.errors.append(f"{a.agent}: commit failed: {exc}")
        # at once, so they share the manifest's writes (one each was 300 rewrites)
        await asyncio.gather(
            *(
                manifest.update_agent(
                    repo_root,
                    a.commit.worktree.run_id,
                    a.agent,
                    status="merged" if a.changes else "unchanged",
                    merged=bool(a.changes),
                )
                for a in clean
            ),
            *(
                manifest.update_agent(
                    repo_root, a.commit.worktree.run_id, a.agent, status="conflict"
                )
                for a in plan.conflicted
            ),
        )

    await uninterruptible(write_and_record())
    await _tidy(repo_root, plan)
    return report


async def _tidy(repo_root: Path, plan: MergePlan) -> None:
    """Remove worktrees and branches of merged (or empty) agents; keep conflicts' branches."""
    done = plan.clean
    await remove_worktrees([a.commit.worktree for a in done])
    if done:
        lines = "".join(f"delete refs/heads/{a.commit.branch}\n" for a in done)
        await git(repo_root, "update-ref", "--stdin", input=lines.encode(), check=False)
    runs = {a.commit.worktree.run_id for a in plan.agents}
    if not plan.conflicted:
        if plan.base.ref:
            await git(repo_root, "update-ref", "-d", plan.base.ref, check=False)
        for run_id in runs:
            await manifest.finish_run(repo_root, run_id)


# --- the blocking half: writing files and committing them (in a worker thread) ----------


@dataclass(frozen=True, slots=True)
class FileWrite:
    path: str
    mode: str
    """git mode: 100644, 100755 or 120000 (symlink)."""
    data: bytes | None
    """None deletes the file."""


def _permissions(target: Path, mode: str) -> int:
    try:
        current = target.stat().st_mode & 0o777
    except OSError:
        current = 0o644
    if mode == "100755":
        return current | ((current & 0o444) >> 2)
    return current & ~0o111


def write_files(root: Path, writes: list[FileWrite]) -> None:
    staged: list[tuple[Path, Path]] = []
    made_dirs: list[Path] = []
    try:
        for w in writes:
            if w.data is None:
                continue
            target = root / w.path
            missing = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.extend(reversed([p for p in missing if root in p.parents]))
            tmp = target.with_name(f".{target.name}.kimicode-{secrets.token_hex(4)}")
            if w.mode == "120000":
                os.symlink(os.fsdecode(w.data), tmp)
            else:
                tmp.write_bytes(w.data)
                os.chmod(tmp, _permissions(target, w.mode))
            staged.append((tmp, target))
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for folder in reversed(made_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    for w in writes:
        if w.data is None:
            target = root / w.path
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            _prune_empty_dirs(root, target.parent)


def _prune_empty_dirs(root: Path, folder: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def commit_agent_files(root: Path, paths: list[str], message: str) -> str:
    """Commit exactly `paths` (as they are on disk) with `message`; other staged work stays."""
    literal = {"GIT_LITERAL_PATHSPECS": "1"}
    tracked = set(split_z(git_sync(root, "ls-files", "-z", "--", *paths, env=literal)))
    new = [p for p in paths if p not in tracked and (root / p).exists()]
    if new:
        git_sync(root, "add", "--", *new, env=literal)
    paths = [p for p in paths if p in tracked or p in new]
    if not paths:
        return ""
    spec = ("\0".join(paths) + "\0").encode("utf-8", "surrogateescape")
    git_sync(
        root, "commit", "-q", "--only", "-m", message,
        "--pathspec-from-file=-", "--pathspec-file-nul",
        input=spec, env=literal,
    )  # fmt: skip
    return git_sync(root, "rev-parse", "HEAD").decode().strip()
