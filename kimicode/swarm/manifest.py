"""Where a run's worktrees live, and the small JSON record that lets it be found again.

Worktrees sit in the user's cache directory (never inside the project, so the
main agent's glob and grep do not see them), keyed by repository:
``<cache>/worktrees/<repo-key>/<run_id>/<agent>``. Each run keeps a manifest
at ``<cache>/runs/<repo-key>/<run_id>.json`` that is rewritten (atomically) as
the run progresses, so an interrupted run can be found and cleaned up. Every
read-modify-write holds a file lock beside it as well as a per-process asyncio
lock: on a Ray node several worker processes record their agents in the same
manifest, and one process's write must not drop another's agent.
`KIMICODE_CACHE_DIR` moves the whole cache (tests point it into a temp dir).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kimicode.paths import cache_dir


def repo_key(repo_root: Path) -> str:
    """`<name>-<hash of the real path>`: readable, and unique per checkout."""
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

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

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
        return RunManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _write(path: Path, manifest: RunManifest) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(tmp, path)


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


async def update_agent(repo_root: Path, run_id: str, agent: str, **changes: Any) -> None:
    """Set fields of one agent's record (creating it when `branch`/`worktree` are given)."""
    path = manifest_path(repo_root, run_id)
    async with _lock(path):

        def apply() -> None:
            with _file_lock(path):
                manifest = read_manifest(path)
                if manifest is None:
                    return
                record = manifest.agents.get(agent)
                if record is None:
                    if "branch" not in changes:
                        return  # never laid out (its worktree failed): nothing to resume
                    record = AgentRecord(branch=changes["branch"], worktree=changes["worktree"])
                    manifest.agents[agent] = record
                for key, value in changes.items():
                    setattr(record, key, value)
                _write(path, manifest)

        await asyncio.to_thread(apply)


async def finish_run(repo_root: Path, run_id: str, *, interrupted: bool = False) -> None:
    """The run's process is done with it; `interrupted`: stopped before its merge."""
    path = manifest_path(repo_root, run_id)
    async with _lock(path):

        def apply() -> None:
            with _file_lock(path):
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
