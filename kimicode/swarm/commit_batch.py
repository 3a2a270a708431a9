"""Many agents' work committed at once: a handful of git processes for the whole batch.

Until a shell command completes its checkout, a worktree holds only what the
agent's tools wrote: its own files (and any new ones). What changed is then
read straight off the disk and compared with the base tree, and the commits
of every agent that ended together are made by one `git fast-import` (blobs,
trees, commits and branch updates, each commit the base plus the agent's
changes to its own files), their diff stats by one `git diff-tree --stdin`.
New files pass through .gitignore as `git add -A` would pass them: one
`git check-ignore` reads the base's ignore files from an index of the base
(skip-worktree, nothing on disk), unless the agent changed an ignore file,
when git is asked in its worktree. Content is taken as it is on disk (no
end-of-line conversion or filters), as the worktree was written.

A worktree a shell ran in, one this process did not lay out (a resumed
agent's), or one whose branch moved (its hooks committed) goes the per-agent
way (`commit.commit_in_worktree`, passed in), as does the whole batch if anything here
fails: that way is slower, never different in what it keeps.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.git.batch import Batcher, batcher_for
from kimicode.git.index import IndexEntry, blob_id, write_index
from kimicode.git.run import GitError, git, git_result
from kimicode.swarm import manifest
from kimicode.swarm.gitops import common_dir, identity_env, split_z, tree_entries, tree_listing
from kimicode.swarm.records import AgentCommit, AgentWorktree, files_on_disk, pinned
from kimicode.swarm.shared import is_shared, shared_paths
from kimicode.tools.workspace import Workspace

WINDOW = 0.005
IGNORE_FILE = ".gitignore"


@dataclass(frozen=True, slots=True)
class CommitRequest:
    worktree: AgentWorktree
    owned: list[str]
    message: str


@dataclass(slots=True)
class _Scan:
    """A worktree's files against its base: what changed, and what is new."""

    changes: dict[str, tuple[str, bytes] | None] = field(default_factory=dict)
    """path -> (mode, content), or None for a deleted file."""
    new: set[str] = field(default_factory=set)


OneByOne = Callable[[AgentWorktree, list[str], str], Awaitable[AgentCommit]]
"""The per-agent way (`commit.commit_in_worktree`)."""


async def commit_batched(request: CommitRequest, *, slow: OneByOne) -> AgentCommit:
    """The request's commit, made with the others that arrive together."""
    root = request.worktree.repo_root

    async def serve(requests: Sequence[CommitRequest]) -> list[AgentCommit | BaseException]:
        return await commit_many(requests, slow=slow)

    batcher: Batcher[CommitRequest, AgentCommit] = batcher_for(
        ("commits", str(root)), lambda: Batcher(serve, window=WINDOW)
    )
    return await batcher.submit(request)


async def commit_many(
    requests: Sequence[CommitRequest], *, slow: OneByOne
) -> list[AgentCommit | BaseException]:
    fast = [r for r in requests if r.worktree.laid_out and not r.worktree.completed]
    done: dict[int, AgentCommit | BaseException] = {}
    if fast:
        try:
            for req, made in zip(fast, await _commit_fast(fast), strict=True):
                if made is not None:
                    done[id(req)] = made
        except Exception:  # the slow way gets the same answer
            pass

    async def one(req: CommitRequest) -> AgentCommit | BaseException:
        try:
            return await slow(req.worktree, req.owned, req.message)
        except Exception as exc:
            return exc

    rest = [r for r in requests if id(r) not in done]
    for req, answer in zip(rest, await asyncio.gather(*(one(r) for r in rest)), strict=True):
        done[id(req)] = answer
    return [done[id(r)] for r in requests]


async def _commit_fast(requests: Sequence[CommitRequest]) -> list[AgentCommit | None]:
    """Each request's commit, or None where the per-agent way must decide."""
    root = requests[0].worktree.repo_root
    # what does not depend on anything else goes at once: the branch tips, the identity
    # the commits are made with, and every worktree's scan
    idents = asyncio.ensure_future(_idents(root))
    try:
        tips, every_scan = await asyncio.gather(
            _branch_tips(root, [r.worktree.branch for r in requests]),
            asyncio.gather(*(_scan(r.worktree) for r in requests)),
        )
        return await _commit_scanned(root, requests, tips, every_scan, idents)
    finally:
        if not idents.done():
            idents.cancel()
        await asyncio.gather(idents, return_exceptions=True)


async def _commit_scanned(
    root: Path,
    requests: Sequence[CommitRequest],
    tips: dict[str, str],
    every_scan: list[_Scan],
    idents: asyncio.Future[tuple[bytes, bytes]],
) -> list[AgentCommit | None]:
    usable, scans = [], []
    for req, scan in zip(requests, every_scan, strict=True):
        if tips.get(req.worktree.branch) == req.worktree.base:
            usable.append(req)
            scans.append(scan)
    await _drop_ignored(root, usable, scans)
    commits: dict[str, list[tuple[str, tuple[str, bytes] | None]]] = {}
    results: dict[int, AgentCommit] = {}
    for req, scan in zip(usable, scans, strict=True):
        wt = req.worktree
        ownership = Workspace(wt.path, owned=req.owned)
        shared = shared_paths(wt)
        changed: list[str] = []
        outside: list[str] = []
        for rel in sorted(scan.changes):
            if is_shared(rel, shared):
                continue
            (changed if ownership.is_owned(rel) else outside).append(rel)
        if changed:
            commits[wt.branch] = [(rel, scan.changes[rel]) for rel in changed]
        results[id(req)] = AgentCommit(wt, None, req.message, changed, outside)
    by_branch = {r.worktree.branch: r for r in usable}
    made: dict[str, str] = {}
    if commits:
        branches = {b: (by_branch[b], c) for b, c in commits.items()}
        made = await _fast_import(root, branches, await idents)
        for branch, sha in made.items():
            results[id(by_branch[branch])].commit = sha
    # then, at once: the diff stats, each worktree's index, the manifest (one write)
    stats, _ = await asyncio.gather(
        _diffstats(root, [(sha, by_branch[b].worktree.base) for b, sha in made.items()]),
        asyncio.gather(
            *(_index_after(results[id(by_branch[b])].worktree, commits[b]) for b in made),
            *(
                manifest.update_agent(
                    root,
                    req.worktree.run_id,
                    req.worktree.agent,
                    status="committed" if results[id(req)].commit else "unchanged",
                    commit=results[id(req)].commit,
                )
                for req in usable
            ),
        ),
    )
    for branch, sha in made.items():
        results[id(by_branch[branch])].diffstat = stats.get(sha, "")
    return [results.get(id(r)) for r in requests]


async def _index_after(
    wt: AgentWorktree, changes: list[tuple[str, tuple[str, bytes] | None]]
) -> None:
    """The worktree's index as `git commit` leaves it: the new commit's tree, the files
    on disk with their stat data, everything else still served from the objects."""
    assert wt.admin_dir is not None
    listing = await tree_listing(wt.repo_root, wt.base)
    sha_len = len(wt.base)

    def write() -> None:
        files = dict(listing.files)
        for rel, change in changes:
            if change is None:
                files.pop(rel, None)
            else:
                files[rel] = (change[0], blob_id(change[1], sha_len))
        wanted = set(wt.checked_out) | {rel for rel, change in changes if change is not None}
        on_disk = {rel: info for rel in wanted if (info := _lstat(wt.path / rel)) is not None}
        entries = [
            IndexEntry(rel, mode, sha, skip_worktree=rel not in on_disk, stat=on_disk.get(rel))
            for rel, (mode, sha) in files.items()
        ]
        entries += [
            IndexEntry(rel, "160000", sha, skip_worktree=True)
            for rel, sha in listing.gitlinks.items()
        ]
        write_index(wt.admin_dir / "index", entries)  # type: ignore[operator]

    await asyncio.to_thread(write)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


async def _branch_tips(root: Path, branches: list[str]) -> dict[str, str]:
    refs = [f"refs/heads/{b}" for b in branches]
    out = await git(root, "for-each-ref", "--format=%(objectname) %(refname)", *refs)
    tips = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, ref = line.partition(" ")
        tips[ref.removeprefix("refs/heads/")] = sha
    return tips


async def _scan(wt: AgentWorktree) -> _Scan:
    base = await tree_entries(wt.repo_root, wt.base)
    return await asyncio.to_thread(_scan_disk, wt, base)


def _scan_disk(wt: AgentWorktree, base: dict[str, tuple[str, str]]) -> _Scan:
    scan = _Scan()
    sha_len = len(wt.base)
    on_disk = files_on_disk(wt.path)
    for rel in on_disk:
        target = wt.path / rel
        info = os.lstat(target)
        if stat.S_ISLNK(info.st_mode):
            mode, data = "120000", os.fsencode(os.readlink(target))
        elif stat.S_ISREG(info.st_mode):
            mode = "100755" if info.st_mode & stat.S_IXUSR else "100644"
            data = target.read_bytes()
        else:
            continue
        known = base.get(rel)
        if known is None:
            scan.new.add(rel)
        elif known == (mode, blob_id(data, sha_len)):
            continue
        scan.changes[rel] = (mode, data)
    present = set(on_disk)
    for rel in wt.checked_out:
        if rel not in present:
            scan.changes[rel] = None
    return scan


async def _drop_ignored(root: Path, requests: list[CommitRequest], scans: list[_Scan]) -> None:
    """Leave out new files .gitignore keeps from `git add -A`."""
    asked: list[tuple[CommitRequest, _Scan]] = []
    for req, scan in zip(requests, scans, strict=True):
        if not scan.new:
            continue
        if any(p.rsplit("/", 1)[-1] == IGNORE_FILE for p in scan.changes):
            wt = req.worktree
            args = ("ls-files", "-z", "--others", "--exclude-standard")
            kept = set(split_z(await git(wt.path, *args, env=pinned(wt))))
            _drop(scan, scan.new - kept)
        else:
            asked.append((req, scan))
    for base in {req.worktree.base for req, _ in asked}:
        group = [scan for req, scan in asked if req.worktree.base == base]
        ignored = await _ignored(root, base, sorted({p for s in group for p in s.new}))
        for scan in group:
            _drop(scan, scan.new & ignored)


def _drop(scan: _Scan, paths: set[str]) -> None:
    for rel in paths:
        scan.changes.pop(rel, None)
        scan.new.discard(rel)


async def _ignored(root: Path, base: str, paths: list[str]) -> set[str]:
    """The paths the base's ignore rules (and the repository's own) exclude."""
    entries = [
        IndexEntry(rel, mode, sha, skip_worktree=True)
        for rel, (mode, sha) in (await tree_entries(root, base)).items()
    ]
    common = await common_dir(root)
    with tempfile.TemporaryDirectory(prefix="kimicode-ignore-") as tmp:
        empty, index = Path(tmp) / "tree", Path(tmp) / "index"
        empty.mkdir()
        await asyncio.to_thread(write_index, index, entries)
        env = {
            "GIT_DIR": str(common), "GIT_WORK_TREE": str(empty),
            "GIT_INDEX_FILE": str(index),
        }  # fmt: skip
        listing = ("\0".join(paths) + "\0").encode("utf-8", "surrogateescape")
        out = await _check_ignore(empty, listing, env)
    return set(split_z(out))


async def _check_ignore(cwd: Path, listing: bytes, env: dict[str, str]) -> bytes:
    """Exit 1 means "nothing is ignored"; anything else that is not 0 is a failure."""
    args = ("check-ignore", "--stdin", "-z")
    code, out, err = await git_result(cwd, *args, env=env, input=listing)
    if code not in (0, 1):
        raise GitError(list(args), code, err.decode("utf-8", "replace"))
    return out


_UNSAFE = re.compile(r'[\x00-\x1f"\\]')


def _path(rel: str) -> bytes:
    """A path as fast-import reads it: C-quoted when it has to be."""
    raw = rel.encode("utf-8", "surrogateescape")
    if not _UNSAFE.search(rel):
        return raw
    out = bytearray(b'"')
    for byte in raw:
        if byte in (0x22, 0x5C):
            out += b"\\" + bytes([byte])
        elif byte < 0x20:
            out += f"\\{byte:03o}".encode()
        else:
            out.append(byte)
    return bytes(out + b'"')


def _data(content: bytes) -> bytes:
    return b"data %d\n" % len(content) + content + b"\n"


async def _fast_import(
    root: Path,
    commits: dict[str, tuple[CommitRequest, list[tuple[str, tuple[str, bytes] | None]]]],
    idents: tuple[bytes, bytes],
) -> dict[str, str]:
    """branch -> new commit, every branch moved from its base in one `git fast-import`."""
    author, committer = idents
    stream = bytearray(b"feature done\n")
    marks: dict[int, str] = {}
    for number, (branch, (req, changes)) in enumerate(commits.items(), start=1):
        marks[number] = branch
        stream += f"commit refs/heads/{branch}\nmark :{number}\n".encode()
        stream += b"author " + author + b"\ncommitter " + committer + b"\n"
        stream += _data(req.message.encode("utf-8", "surrogateescape"))
        stream += f"from {req.worktree.base}\n".encode()
        for rel, change in changes:
            if change is None:
                stream += b"D " + _path(rel) + b"\n"
        for rel, change in changes:
            if change is not None:
                mode, content = change
                stream += f"M {mode} inline ".encode() + _path(rel) + b"\n" + _data(content)
        stream += b"\n"
    stream += b"done\n"
    with tempfile.TemporaryDirectory(prefix="kimicode-import-") as tmp:
        marks_file = Path(tmp) / "marks"
        await git(root, "fast-import", "--quiet", f"--export-marks={marks_file}",
                  input=bytes(stream), env=await identity_env(root))  # fmt: skip
        text = await asyncio.to_thread(marks_file.read_text, encoding="utf-8")
    made = {}
    for line in text.splitlines():
        mark, _, sha = line.partition(" ")
        made[marks[int(mark.lstrip(":"))]] = sha
    return made


async def _idents(root: Path) -> tuple[bytes, bytes]:
    """Author and committer as `git commit` would write them now ("Name <mail> time tz")."""
    out = await git(root, "var", "-l", env=await identity_env(root))
    found: dict[bytes, bytes] = {}
    for line in out.splitlines():
        key, _, value = line.partition(b"=")
        if key in (b"GIT_AUTHOR_IDENT", b"GIT_COMMITTER_IDENT"):
            found[key] = value  # the last one: git prints them after the config
    now = f"{int(time.time())} +0000".encode()
    fallback = b"kimicode <kimicode@localhost> " + now
    return found.get(b"GIT_AUTHOR_IDENT", fallback), found.get(b"GIT_COMMITTER_IDENT", fallback)


async def _diffstats(root: Path, pairs: list[tuple[str, str]]) -> dict[str, str]:
    """commit -> `git diff --stat base commit`, for every pair in one process."""
    if not pairs:
        return {}
    lines = "".join(f"{commit} {base}\n" for commit, base in pairs).encode()
    out = await git(root, "diff-tree", "--stdin", "--stat", input=lines)
    stats: dict[str, list[str]] = {}
    current: list[str] | None = None
    wanted = {commit for commit, _ in pairs}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        if line in wanted:
            current = stats.setdefault(line, [])
        elif current is not None:
            current.append(line)
    return {sha: "\n".join(text).strip() for sha, text in stats.items()}
