"""Finding and removing what swarm runs left behind (`kimicode swarm clean`).

A run interrupted by Ctrl-C, a crash or a kill can leave worktrees in the
cache dir, `kimicode/<run>/<agent>` branches and a snapshot ref. Cleaning
removes worktrees (their committed work lives on in the branch) and the
branches whose work was merged or that have no commits beyond their base;
branches holding unmerged commits, and worktrees with uncommitted edits,
are kept and listed with the command to inspect them, unless `force`.
Runs whose process is still alive are left alone.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.git.run import git, git_text
from kimicode.swarm import manifest
from kimicode.swarm.gitops import resolve_commit
from kimicode.swarm.shared import SHARED_RECORD, is_shared
from kimicode.swarm.snapshot import SNAPSHOT_PREFIX
from kimicode.swarm.worktrees import BRANCH_PREFIX, admin_dir_of


@dataclass(slots=True)
class LeftWorktree:
    path: Path
    branch: str | None
    run_id: str | None
    dirty: bool
    """Uncommitted edits in it (shared links and copies aside)."""


@dataclass(slots=True)
class LeftBranch:
    name: str
    run_id: str
    agent: str
    base: str | None
    ahead: int
    """Commits beyond the base."""
    merged: bool

    @property
    def removable(self) -> bool:
        return self.merged or self.ahead == 0

    @property
    def inspect(self) -> str:
        return f"git diff {self.base}..{self.name}" if self.base else f"git log {self.name}"


@dataclass(slots=True)
class Leftovers:
    worktrees: list[LeftWorktree] = field(default_factory=list)
    branches: list[LeftBranch] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    active_runs: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.worktrees or self.branches or self.snapshots)


@dataclass(slots=True)
class CleanReport:
    removed_worktrees: list[str] = field(default_factory=list)
    deleted_branches: list[str] = field(default_factory=list)
    deleted_refs: list[str] = field(default_factory=list)
    kept_branches: list[LeftBranch] = field(default_factory=list)
    kept_worktrees: list[str] = field(default_factory=list)
    active_runs: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = []
        if not (self.removed_worktrees or self.deleted_branches or self.deleted_refs):
            lines.append("Nothing to remove.")
        if self.removed_worktrees:
            lines.append(f"Removed {len(self.removed_worktrees)} worktree(s).")
        if self.deleted_branches:
            lines.append(f"Deleted {len(self.deleted_branches)} branch(es):")
            lines += [f"  {b}" for b in self.deleted_branches]
        if self.deleted_refs:
            lines.append(f"Deleted {len(self.deleted_refs)} snapshot ref(s).")
        if self.kept_branches:
            lines.append(
                "Kept branches with unmerged work (`kimicode swarm clean --force` deletes them):"
            )
            for b in self.kept_branches:
                lines.append(f"  {b.name}  ({b.ahead} commit(s))  inspect: {b.inspect}")
        if self.kept_worktrees:
            lines.append("Kept worktrees with uncommitted edits:")
            lines += [f"  {p}" for p in self.kept_worktrees]
        if self.active_runs:
            lines.append(f"Left alone, still running: {', '.join(self.active_runs)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def _split_branch(ref: str) -> tuple[str, str] | None:
    short = ref.removeprefix("refs/heads/")
    if not short.startswith(BRANCH_PREFIX):
        return None
    rest = short[len(BRANCH_PREFIX) :]
    if "/" not in rest:
        return None
    run_id, agent = rest.split("/", 1)
    return run_id, agent


async def find_leftovers(repo_root: Path) -> Leftovers:
    """Worktrees, branches and snapshot refs of swarm runs that are not running now."""
    repo_root = Path(repo_root)
    runs = {m.run_id: m for m in manifest.list_manifests(repo_root)}
    active = {run_id for run_id, m in runs.items() if m.active()}
    found = Leftovers(active_runs=sorted(active))
    cache = manifest.worktrees_dir(repo_root)
    for path, branch in await _worktrees(repo_root):
        parsed = _split_branch(branch) if branch else None
        if parsed is None and cache not in path.parents:
            continue
        run_id = parsed[0] if parsed else path.parent.name
        if run_id in active:
            continue
        found.worktrees.append(LeftWorktree(path, branch, run_id, await _dirty(path)))
    refs = await git_text(
        repo_root, "for-each-ref", "--format=%(refname)", "refs/heads/" + BRANCH_PREFIX
    )
    for ref in refs.splitlines():
        parsed = _split_branch(ref)
        if parsed is None or parsed[0] in active:
            continue
        run_id, agent = parsed
        found.branches.append(await _branch(repo_root, ref, run_id, agent, runs.get(run_id)))
    snaps = await git_text(repo_root, "for-each-ref", "--format=%(refname)", SNAPSHOT_PREFIX)
    found.snapshots = [
        r for r in snaps.splitlines() if r.removeprefix(SNAPSHOT_PREFIX) not in active
    ]
    return found


async def _worktrees(repo_root: Path) -> list[tuple[Path, str | None]]:
    out = await git_text(repo_root, "worktree", "list", "--porcelain")
    found: list[tuple[Path, str | None]] = []
    for block in out.split("\n\n"):
        fields = dict(line.split(" ", 1) for line in block.splitlines() if " " in line)
        if "worktree" in fields:
            found.append((Path(fields["worktree"]), fields.get("branch")))
    return found[1:]  # the first is the main worktree


async def _dirty(path: Path) -> bool:
    if not await asyncio.to_thread(path.is_dir):
        return False
    out = await git_text(path, "status", "--porcelain", "--untracked-files=normal", check=False)
    try:
        shared = (admin_dir_of(path) / SHARED_RECORD).read_text(encoding="utf-8").split()
    except OSError:
        shared = []
    changed = [line[3:].strip('"').rstrip("/") for line in out.splitlines()]
    return any(not is_shared(rel, shared) for rel in changed)


async def _branch(
    repo_root: Path, ref: str, run_id: str, agent: str, run: manifest.RunManifest | None
) -> LeftBranch:
    base = None
    merged = False
    if run is not None:
        base = run.base
        record = run.agents.get(agent)
        merged = bool(record and record.merged)
    if base is None:
        base = await resolve_commit(repo_root, SNAPSHOT_PREFIX + run_id)
    if base is None:
        out = await git(repo_root, "merge-base", "HEAD", ref, check=False)
        base = out.decode().strip() or None
    ahead = 1
    if base is not None:
        count = await git(repo_root, "rev-list", "--count", f"{base}..{ref}", check=False)
        ahead = int(count.strip() or b"1")
    name = ref.removeprefix("refs/heads/")
    return LeftBranch(name, run_id, agent, base, ahead, merged)


async def clean(repo_root: Path, *, force: bool = False) -> CleanReport:
    """Remove leftovers; unmerged branches and dirty worktrees only with `force`."""
    repo_root = Path(repo_root)
    left = await find_leftovers(repo_root)
    report = CleanReport(active_runs=left.active_runs)
    keep_branches = {b.name for b in left.branches if not (force or b.removable)}
    for wt in left.worktrees:
        if wt.dirty and not force:
            report.kept_worktrees.append(str(wt.path))
            continue
        args = ("worktree", "remove", "--force", "--force", str(wt.path))
        await git(repo_root, *args, check=False)
        await asyncio.to_thread(shutil.rmtree, wt.path, ignore_errors=True)
        report.removed_worktrees.append(str(wt.path))
    await git(repo_root, "worktree", "prune", check=False)
    kept_tree_branches = {
        wt.branch.removeprefix("refs/heads/")
        for wt in left.worktrees
        if wt.branch and str(wt.path) in report.kept_worktrees
    }
    delete = []
    for b in left.branches:
        if b.name in keep_branches or b.name in kept_tree_branches:
            report.kept_branches.append(b)
        else:
            delete.append(b.name)
    if delete:
        lines = "".join(f"delete refs/heads/{name}\n" for name in delete)
        await git(repo_root, "update-ref", "--stdin", input=lines.encode())
        report.deleted_branches = delete
    remaining_runs = {b.run_id for b in report.kept_branches} | set(left.active_runs)
    remaining_runs |= {
        wt.run_id
        for wt in left.worktrees
        if wt.run_id is not None and str(wt.path) in report.kept_worktrees
    }
    drop_refs = [r for r in left.snapshots if r.removeprefix(SNAPSHOT_PREFIX) not in remaining_runs]
    if drop_refs:
        lines = "".join(f"delete {r}\n" for r in drop_refs)
        await git(repo_root, "update-ref", "--stdin", input=lines.encode())
        report.deleted_refs = drop_refs
    _drop_finished_manifests(repo_root, remaining_runs)
    return report


def _drop_finished_manifests(repo_root: Path, remaining_runs: set[str]) -> None:
    for run in manifest.list_manifests(repo_root):
        if run.run_id in remaining_runs:
            continue
        path = manifest.manifest_path(repo_root, run.run_id)
        path.unlink(missing_ok=True)
        manifest.lock_path(path).unlink(missing_ok=True)
        folder = manifest.worktrees_dir(repo_root) / run.run_id
        shutil.rmtree(folder, ignore_errors=True)
