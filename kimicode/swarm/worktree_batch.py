"""Many agents' worktrees made at once: one `update-ref --stdin`, no git process per agent.

`git worktree add` plus a sparse `read-tree` cost four processes per agent
(with each one's config listing) and contend on the repository's locks. A
batch instead creates every branch in one ref transaction, reads every owned
file through the swarm's one `cat-file --batch`, and lays each worktree out
as `git worktree add` does: `<common>/worktrees/<name>/` holding `gitdir`,
`commondir`, `HEAD` and an index (written by `kimicode.git.index`: the base
tree, skip-worktree except for the files on disk), a `locked` file while it
is half made so a concurrent `git worktree prune` leaves it alone, and the
worktree's `.git` file naming it. Files are written as stored in git (no
end-of-line conversion or filters), as the merge writes them back.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kimicode.errors import KimicodeError
from kimicode.git.batch import Batcher, batcher_for
from kimicode.git.catfile import release, shared_reader
from kimicode.git.index import IndexEntry, index_bytes
from kimicode.git.run import GitError, git
from kimicode.swarm import manifest
from kimicode.swarm.gitops import TreeListing, common_dir, tree_listing
from kimicode.swarm.records import AgentWorktree, branch_name, expand_owned
from kimicode.swarm.snapshot import Base

WINDOW = 0.01
"""How long a batch waits for more agents (they start within milliseconds)."""


@dataclass(frozen=True, slots=True)
class WorktreeRequest:
    repo_root: Path
    base: Base
    run_id: str
    agent: str
    owned: list[str]


async def create_batched(
    request: WorktreeRequest, *, on_abandoned: Callable[[AgentWorktree], Awaitable[None]]
) -> AgentWorktree:
    """The request's worktree, made with the others that arrive together.

    `on_abandoned` takes back one whose caller was cancelled while it was made.
    """
    batcher: Batcher[WorktreeRequest, AgentWorktree] = batcher_for(
        ("worktrees", str(request.repo_root)),
        lambda: Batcher(create_many, window=WINDOW, on_abandoned=on_abandoned),
    )
    return await batcher.submit(request)


async def create_many(
    requests: Sequence[WorktreeRequest],
) -> list[AgentWorktree | BaseException]:
    """Every request's worktree, or the error that kept it from being made."""
    results: list[AgentWorktree | BaseException | None] = [None] * len(requests)
    planned: list[tuple[int, AgentWorktree]] = []
    for i, req in enumerate(requests):
        path = manifest.worktree_path(req.repo_root, req.run_id, req.agent)
        if path.exists() or any(wt.path == path for _, wt in planned):
            results[i] = KimicodeError(
                f"worktree {path} already exists: agent names must be unique"
            )
            continue
        listing = await tree_listing(req.repo_root, req.base.commit)
        files = expand_owned(req.owned, listing.files)
        wt = AgentWorktree(
            repo_root=req.repo_root, run_id=req.run_id, agent=req.agent, path=path,
            branch=branch_name(req.run_id, req.agent), base=req.base.commit,
            owned=list(req.owned), checked_out=files,
        )  # fmt: skip
        planned.append((i, wt))
    for run in {(r.repo_root, r.run_id, r.base) for r in requests}:
        await manifest.start_run(run[0], run[1], run[2].commit, run[2].ref)
    by_repo: dict[Path, list[tuple[int, AgentWorktree]]] = {}
    for i, wt in planned:
        by_repo.setdefault(wt.repo_root, []).append((i, wt))
    for repo_root, group in by_repo.items():
        made = await _create_in(repo_root, [wt for _, wt in group])
        for (i, _), result in zip(group, made, strict=True):
            results[i] = result
    return [r if r is not None else KimicodeError("not created") for r in results]


async def _create_in(
    repo_root: Path, wts: list[AgentWorktree]
) -> list[AgentWorktree | BaseException]:
    common = await common_dir(repo_root)
    # the branches are made while the worktrees are laid out (nothing in a layout needs
    # them to exist yet); a worktree whose branch could not be made is taken back
    branching = asyncio.ensure_future(_create_branches(repo_root, wts))
    try:
        contents = await _read_owned(repo_root, wts)
        listings = {base: await tree_listing(repo_root, base) for base in {wt.base for wt in wts}}
        jobs = [(wt, listings[wt.base]) for wt in wts]
        for folder in {wt.path.parent for wt in wts} | {common / "worktrees"}:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        # a few worker-thread calls for the whole batch: one per worktree cost the event
        # loop a wake-up each while 300 agents' first answers were streaming in
        chunks = [jobs[i : i + LAYOUT_CHUNK] for i in range(0, len(jobs), LAYOUT_CHUNK)]
        failures = await asyncio.gather(
            *(asyncio.to_thread(_lay_out_each, common, chunk, contents) for chunk in chunks)
        )
    finally:
        errors = await branching
    laid: dict[str, AgentWorktree | BaseException] = {wt.agent: wt for wt in wts}
    for failed in failures:
        laid.update(failed)
    unbranched = [wt for wt, err in zip(wts, errors, strict=True) if err is not None]
    if unbranched:
        await asyncio.to_thread(_undo_each, [wt for wt in unbranched if wt.laid_out])
    ready = [wt for wt, err in zip(wts, errors, strict=True) if err is None]
    await asyncio.gather(
        *(
            manifest.update_agent(
                repo_root, wt.run_id, wt.agent, branch=wt.branch, worktree=str(wt.path)
            )
            for wt in ready
            if laid[wt.agent] is wt
        )
    )
    return [err if err is not None else laid[wt.agent] for wt, err in zip(wts, errors, strict=True)]


LAYOUT_CHUNK = 50


def _lay_out_each(
    common: Path, jobs: list[tuple[AgentWorktree, TreeListing]], contents: dict[str, bytes]
) -> dict[str, BaseException]:
    """Lay out each worktree; the error of any that failed (it is taken back)."""
    failed: dict[str, BaseException] = {}
    for wt, listing in jobs:
        try:
            _lay_out(common, wt, listing, contents)
        except Exception as exc:
            _undo(wt)
            failed[wt.agent] = exc
    return failed


async def _create_branches(repo_root: Path, wts: list[AgentWorktree]) -> list[GitError | None]:
    """One transaction for all branches; if it fails, one per branch to tell who failed."""
    lines = "".join(f"create refs/heads/{wt.branch} {wt.base}\n" for wt in wts)
    try:
        await git(repo_root, "update-ref", "--stdin", input=lines.encode())
        return [None] * len(wts)
    except GitError:
        pass
    errors: list[GitError | None] = []
    for wt in wts:
        try:
            await git(repo_root, "update-ref", f"refs/heads/{wt.branch}", wt.base, "")
            errors.append(None)
        except GitError as exc:
            errors.append(exc)
    return errors


async def _read_owned(repo_root: Path, wts: list[AgentWorktree]) -> dict[str, bytes]:
    """blob sha -> content of every file any of these agents owns, in one pass."""
    shas: list[str] = []
    for wt in wts:
        files = (await tree_listing(repo_root, wt.base)).files
        shas += [files[p][1] for p in wt.checked_out]
    unique = list(dict.fromkeys(shas))
    if not unique:
        return {}
    reader = shared_reader(repo_root)
    try:
        found = await reader.read_many(unique)
    finally:
        await release(reader)
    missing = [sha for sha, data in zip(unique, found, strict=True) if data is None]
    if missing:
        raise KimicodeError(f"object {missing[0]} is missing from the repository")
    return {sha: data for sha, data in zip(unique, found, strict=True) if data is not None}


def _lay_out(
    common: Path, wt: AgentWorktree, listing: TreeListing, contents: dict[str, bytes]
) -> None:
    """The worktree's directories and files, in the order `git worktree add` makes them
    (their parent folders exist already). Plain os calls: under 300 streaming agents each
    system call here waits its turn for the interpreter, and pathlib's text writes make
    twice as many."""
    os.mkdir(wt.path)
    wt.admin_dir = admin = _new_admin_dir(common / "worktrees", wt.path.name)
    _put(admin / "locked", b"initializing\n")
    _put(admin / "commondir", b"../..\n")
    _put(admin / "HEAD", f"ref: refs/heads/{wt.branch}\n".encode())
    _put(admin / "gitdir", os.fsencode(f"{wt.path / '.git'}\n"))
    _put(wt.path / ".git", os.fsencode(f"gitdir: {admin}\n"))
    on_disk = set(wt.checked_out)
    stats: dict[str, os.stat_result] = {}
    for rel in wt.checked_out:
        mode, sha = listing.files[rel]
        stats[rel] = _write_file(wt.path / rel, mode, contents[sha])
    entries = [
        IndexEntry(path, mode, sha, skip_worktree=path not in on_disk, stat=stats.get(path))
        for path, (mode, sha) in listing.files.items()
    ]
    entries += [
        IndexEntry(path, "160000", sha, skip_worktree=True)
        for path, sha in listing.gitlinks.items()
    ]
    _put(admin / "index", index_bytes(entries))  # a new file: nobody reads it half-written
    os.unlink(admin / "locked")
    wt.laid_out = True


def _put(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) holding `data`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _new_admin_dir(parent: Path, name: str) -> Path:
    """`worktrees/<name>`, or `<name>1`, `<name>2`... when taken (as git numbers them)."""
    for counter in range(10_000):
        candidate = parent / (name if counter == 0 else f"{name}{counter}")
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            continue
    raise KimicodeError(f"no free worktree name for {name} under {parent}")


def _write_file(target: Path, mode: str, data: bytes) -> os.stat_result:
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "120000":
        os.symlink(os.fsdecode(data), target)
    else:
        fd = os.open(
            target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777 if mode == "100755" else 0o666
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    return os.lstat(target)


def _undo_each(wts: list[AgentWorktree]) -> None:
    for wt in wts:
        _undo(wt)


def _undo(wt: AgentWorktree) -> None:
    """Take back a half-made worktree (its branch stays, as with a failed checkout)."""
    shutil.rmtree(wt.path, ignore_errors=True)
    if wt.admin_dir is not None:
        shutil.rmtree(wt.admin_dir, ignore_errors=True)
