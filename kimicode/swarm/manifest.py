"""Where a run's worktrees live, and the small JSON record that lets it be found again.

Worktrees sit in the user's cache directory (never inside the project, so the
main agent's glob and grep do not see them), keyed by repository:
``<cache>/worktrees/<repo-key>/<run_id>/<agent>``. Each run keeps a manifest
at ``<cache>/runs/<repo-key>/<run_id>.json`` that is rewritten (atomically) as
the run progresses, so an interrupted run can be found and cleaned up. Every
read-modify-write holds a file lock beside it as well as a per-process asyncio
lock: on a Ray node several worker processes record their agents in the same
manifest, and one process's write must not drop another's agent. Agent updates
are group-committed: the changes that arrive while a write is under way go out
together in the next one, so a swarm of N agents costs a few writes per wave of
updates rather than one whole-manifest rewrite per update (which made the
manifest the swarm's largest CPU cost, quadratic in N). A caller still returns
only once its change is on disk.
`KIMICODE_CACHE_DIR` moves the whole cache (tests point it into a temp dir).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode.paths import cache_dir


def repo_key(repo_root: Path) -> str:
    """`<name>-<hash of the real path>`: readable, and unique per checkout."""
    return _repo_key(os.fspath(repo_root))


@functools.lru_cache(maxsize=256)
def _repo_key(repo_root: str) -> str:
    # cached: every manifest update asks, and resolving the path is most of the cost
    real = os.path.realpath(repo_root)
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(real).name) or "repo"
    return f"{name[:40]}-{digest}"


def worktrees_dir(repo_root: Path) -> Path:
    return cache_dir() / "worktrees" / repo_key(repo_root)


def worktree_path(repo_root: Path, run_id: str, agent: str) -> Path:
    return worktrees_dir(repo_root) / run_id / agent


def runs_dir(repo_root: Path) -> Path:
    return cache_dir() / "runs" / repo_key(repo_root)


def manifest_path(repo_root: Path, run_id: str) -> Path:
    return runs_dir(repo_root) / f"{run_id}.json"


@dataclass(slots=True)
class AgentRecord:
    branch: str
    worktree: str
    status: str = "created"
    """created · committed · unchanged · merged · conflict · failed"""
    merged: bool = False
    removed: bool = False
    """The worktree directory is gone (the branch may remain)."""
    commit: str | None = None
    outcome: str | None = None
    """How the agent ended: success · error · limit · cancelled (None: never recorded)."""
    task: dict[str, Any] | None = None
    """Its task as given (name, prompt, files), so it can be resumed."""
    transcript: str | None = None
    """Its conversation (JSONL) in the session's folder."""
    session: str | None = None

    @property
    def resumable(self) -> bool:
        """Ended unfinished, its work not merged, and its conversation kept."""
        return (
            self.outcome != "success"
            and not self.merged
            and self.task is not None
            and self.transcript is not None
        )

    @property
    def awaiting_merge(self) -> bool:
        """Finished with work on its branch that was never merged (a stopped run)."""
        return self.outcome == "success" and not self.merged and self.status == "committed"


@dataclass(slots=True)
class RunManifest:
    run_id: str
    repo: str
    base: str
    base_ref: str | None = None
    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=time.time)
    finished: bool = False
    interrupted: bool = False
    """Stopped before its merge (Ctrl-C): its agents may be resumed or merged later."""
    agents: dict[str, AgentRecord] = field(default_factory=dict)

    def to_json(self, encoded: dict[str, str] | None = None) -> str:
        """The manifest as JSON, keys sorted. `encoded` holds agents' JSON already made (it
        is filled in here), so a record that did not change is not encoded again. No
        indent: json's C encoder runs only without one."""
        cache: dict[str, str] = {} if encoded is None else encoded
        parts = []
        for name in sorted(self.agents):
            text = cache.get(name)
            if text is None:
                text = cache[name] = json.dumps(_plain(self.agents[name]), sort_keys=True)
            parts.append(f"{json.dumps(name)}: {text}")
        head = _plain(self)
        del head["agents"]  # "agents" sorts first
        return '{"agents": {' + ", ".join(parts) + "}, " + json.dumps(head, sort_keys=True)[1:]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunManifest:
        agents = {k: AgentRecord(**v) for k, v in data.get("agents", {}).items()}
        return cls(**{**data, "agents": agents})

    def active(self) -> bool:
        """The process that started the run is still alive and has not finished it."""
        if self.finished or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _plain(record: AgentRecord | RunManifest) -> dict[str, Any]:
    """A record's fields as a dict, without `asdict`'s deep copy (the values are JSON already)."""
    return {name: getattr(record, name) for name in record.__slots__}


_locks: dict[str, asyncio.Lock] = {}


def _lock(path: Path) -> asyncio.Lock:
    return _locks.setdefault(str(path), asyncio.Lock())


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Held across processes while one of them reads, changes and writes the manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(path), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(path: Path) -> RunManifest | None:
    try:
        return _parse(path.read_bytes())
    except OSError:
        return None


def _parse(raw: bytes) -> RunManifest | None:
    try:
        return RunManifest.from_dict(json.loads(raw))
    except (ValueError, TypeError):
        return None


def _write(path: Path, manifest: RunManifest, encoded: dict[str, str] | None = None) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = manifest.to_json(encoded).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


@dataclass(slots=True)
class _Written:
    """What this process last wrote to a manifest: while the file still holds exactly these
    bytes, the next update starts from `manifest` instead of parsing the file again."""

    data: bytes
    manifest: RunManifest
    encoded: dict[str, str]


_written: dict[str, _Written] = {}


async def start_run(repo_root: Path, run_id: str, base: str, base_ref: str | None) -> None:
    """Create the run's manifest if it does not exist yet."""
    path = manifest_path(repo_root, run_id)
    async with _lock(path):

        def create() -> None:
            with _file_lock(path):
                if not path.exists():
                    fresh = RunManifest(
                        run_id=run_id, repo=str(repo_root), base=base, base_ref=base_ref
                    )
                    _write(path, fresh)

        await asyncio.to_thread(create)


class _Batch:
    """Agent changes waiting for the same write, and the future their callers await."""

    __slots__ = ("changes", "done", "loop", "writer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.changes: list[tuple[str, dict[str, Any]]] = []
        self.done: asyncio.Future[None] = loop.create_future()
        self.done.add_done_callback(_retrieved)
        self.writer: asyncio.Task[None] | None = None


def _retrieved(future: asyncio.Future[None]) -> None:
    """Every caller may have been cancelled: the error is theirs, not the loop's to log."""
    if not future.cancelled():
        future.exception()


_open: dict[str, _Batch] = {}
"""Per manifest: the batch that has not started writing yet (new changes join it)."""


async def update_agent(repo_root: Path, run_id: str, agent: str, **changes: Any) -> None:
    """Set fields of one agent's record (creating it when `branch`/`worktree` are given).

    Returns once the change is on disk; changes from other agents that arrive while a
    write is running share the next write. Cancelling the caller does not drop it.
    """
    path = manifest_path(repo_root, run_id)
    key = str(path)
    loop = asyncio.get_running_loop()
    batch = _open.get(key)
    if batch is None or batch.loop is not loop:
        batch = _open[key] = _Batch(loop)
        batch.writer = loop.create_task(_flush(path, batch))
    batch.changes.append((agent, changes))
    await asyncio.shield(batch.done)


async def _flush(path: Path, batch: _Batch) -> None:
    try:
        async with _lock(path):
            if _open.get(str(path)) is batch:
                del _open[str(path)]  # from here on, new changes wait for the next write
            await asyncio.to_thread(_apply_changes, path, batch.changes)
    except asyncio.CancelledError:
        batch.done.cancel()
        raise
    except Exception as exc:
        batch.done.set_exception(exc)
    else:
        batch.done.set_result(None)


def _apply_changes(path: Path, changes: list[tuple[str, dict[str, Any]]]) -> None:
    key = str(path)
    with _file_lock(path):
        known = _written.pop(key, None)
        try:
            raw = path.read_bytes()
        except OSError:
            return
        if known is not None and known.data == raw:
            manifest, encoded = known.manifest, known.encoded
        else:  # first write here, or another process (a Ray worker) wrote since
            parsed, encoded = _parse(raw), {}
            if parsed is None:
                return
            manifest = parsed
        for agent, change in changes:
            encoded.pop(agent, None)
            record = manifest.agents.get(agent)
            if record is None:
                if "branch" not in change:
                    continue  # never laid out (its worktree failed): nothing to resume
                record = AgentRecord(branch=change["branch"], worktree=change["worktree"])
                manifest.agents[agent] = record
            for name, value in change.items():
                setattr(record, name, value)
        _written[key] = _Written(_write(path, manifest, encoded), manifest, encoded)


async def finish_run(repo_root: Path, run_id: str, *, interrupted: bool = False) -> None:
    """The run's process is done with it; `interrupted`: stopped before its merge."""
    path = manifest_path(repo_root, run_id)
    async with _lock(path):

        def apply() -> None:
            with _file_lock(path):
                _written.pop(str(path), None)
                manifest = read_manifest(path)
                if manifest is not None:
                    manifest.finished = True
                    manifest.interrupted = interrupted
                    _write(path, manifest)

        await asyncio.to_thread(apply)


def list_manifests(repo_root: Path) -> list[RunManifest]:
    found = []
    folder = runs_dir(repo_root)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        manifest = read_manifest(path)
        if manifest is not None:
            found.append(manifest)
    return found
