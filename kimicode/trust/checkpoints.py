"""File checkpoints in a shadow git store, so every change set can be undone.

Before a change set (a turn's edits, a merged swarm) touches some paths,
`snapshot` records each one's bytes, mode, symlink target, or absence. The
store is a bare git repository under the data dir
(`<data>/checkpoints/<repo-key>/`), reached only through `GIT_DIR`, so the
user's `.git` (refs, index, history) never changes and projects without git
work the same. Each checkpoint is a commit whose tree holds the blobs and a
`manifest.json`; commits chain on `refs/heads/checkpoints`, newest at the tip.

`restore` undoes the newest N change sets (or everything back to a given
checkpoint): files come back byte-identical with their modes, files the change
set created are removed, deleted files return. Undone checkpoints leave the
chain (so a second undo goes one further) but stay reachable from
`refs/undone/*` in the store.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import json
import os
import re
import stat
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode.errors import KimicodeError, ToolError
from kimicode.git.catfile import read_blobs
from kimicode.git.run import GitError, git
from kimicode.paths import data_dir
from kimicode.tools import beneath
from kimicode.tools.beneath import NotBeneath

CHAIN = "refs/heads/checkpoints"
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: str
    time: float
    label: str
    paths: list[str]


@dataclass(slots=True)
class RestoreReport:
    checkpoints: list[str] = field(default_factory=list)
    """Ids undone, newest first."""
    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """`path: why` for paths that could not be put back."""


@dataclass(frozen=True, slots=True)
class UndoPreview:
    """What undoing the newest change set would do, to show before doing it."""

    checkpoint: Checkpoint
    restore: list[str]
    """Paths put back to their bytes at the checkpoint."""
    remove: list[str]
    """Paths the change set created: undo deletes them."""


class CheckpointError(KimicodeError):
    """The shadow store could not record or restore a checkpoint."""


class CheckpointStore:
    def __init__(self, project_root: Path, *, store_dir: Path | None = None) -> None:
        self.root = Path(os.path.realpath(project_root))
        self.store = store_dir or data_dir() / "checkpoints" / repo_key(self.root)

    @property
    def _lock(self) -> asyncio.Lock:
        """One lock per store and event loop: snapshots of one project never interleave."""
        per_loop = _locks.setdefault(asyncio.get_running_loop(), {})
        return per_loop.setdefault(str(self.store), asyncio.Lock())

    # --- public ------------------------------------------------------------------

    async def snapshot(self, paths: list[str], label: str) -> Checkpoint:
        """Record `paths` (relative to the root; directories taken whole) before they change."""
        async with self._lock:
            await self._init()
            rels = await asyncio.to_thread(self._expand, paths)
            entries = await asyncio.to_thread(self._describe, rels)
            files = [e for e in entries if e["state"] != "absent"]
            blobs = await self._hash([e.pop("source") for e in files])
            for entry, blob in zip(files, blobs, strict=True):
                entry["blob"] = blob
            now = time.time()
            manifest = {"label": label, "time": now, "root": str(self.root), "entries": entries}
            manifest_blob = await self._git("hash-object", "-w", "--stdin", data=_json(manifest))
            lines = [f"100644 blob {manifest_blob.strip()}\tmanifest.json"]
            lines += [f"100644 blob {b}\t{i}" for i, b in enumerate(blobs)]
            tree = await self._git("mktree", data=("\n".join(lines) + "\n").encode())
            parent = await self._tip()
            commit_args = ["commit-tree", tree.strip(), "-m", label or "checkpoint"]
            if parent:
                commit_args += ["-p", parent]
            commit = (await self._git(*commit_args)).strip()
            await self._git("update-ref", CHAIN, commit, parent or "")
            return Checkpoint(commit[:12], now, label, [e["path"] for e in entries])

    async def list(self) -> list[Checkpoint]:
        """Checkpoints on the chain, newest first."""
        async with self._lock:
            return [c for c, _ in await self._chain()]

    async def restore(self, checkpoint_id: str | None = None, *, count: int = 1) -> RestoreReport:
        """Undo the newest `count` change sets, or every one back to `checkpoint_id`."""
        async with self._lock:
            chain = await self._chain()
            if not chain:
                raise CheckpointError("no checkpoints to undo in this project")
            if checkpoint_id is not None:
                ids = [c.id for c, _ in chain]
                hits = [i for i, cid in enumerate(ids) if cid.startswith(checkpoint_id)]
                if not checkpoint_id or len(hits) != 1:
                    raise CheckpointError(
                        f"no single checkpoint {checkpoint_id!r}; `kimicode checkpoints` lists them"
                    )
                count = hits[0] + 1
            if count < 1:
                raise CheckpointError("undo needs a count of at least 1")
            undone = chain[: min(count, len(chain))]
            report = RestoreReport(checkpoints=[c.id for c, _ in undone])
            states: dict[str, dict[str, Any]] = {}
            for _, manifest in undone:  # newest first: older states overwrite newer ones
                for entry in manifest["entries"]:
                    states[entry["path"]] = entry
            contents = await self._read_blobs([e["blob"] for e in states.values() if "blob" in e])
            await asyncio.to_thread(self._apply, states, contents, report)
            tip = await self._tip()
            oldest = await self._full_id(undone[-1][0].id)
            parent = (await self._git("rev-list", "--parents", "-n", "1", oldest)).split()[1:]
            await self._git("update-ref", f"refs/undone/{int(time.time() * 1000)}", tip or "")
            if parent:
                await self._git("update-ref", CHAIN, parent[0], tip or "")
            else:
                await self._git("update-ref", "-d", CHAIN)
            return report

    async def preview(self) -> UndoPreview | None:
        """What `undo()` would do now (None: nothing to undo); it changes nothing."""
        async with self._lock:
            chain = await self._chain()
        if not chain:
            return None
        checkpoint, manifest = chain[0]
        entries = manifest["entries"]
        restore = [e["path"] for e in entries if e["state"] != "absent"]
        created = [e["path"] for e in entries if e["state"] == "absent"]
        present = await asyncio.to_thread(lambda: [p for p in created if self._exists(p)])
        return UndoPreview(checkpoint, sorted(restore), sorted(present))

    def _exists(self, rel: str) -> bool:
        try:
            return beneath.lstat(self.root, rel) is not None
        except (NotBeneath, OSError):
            return False

    async def undo(self, n: int = 1) -> RestoreReport:
        return await self.restore(None, count=n)

    # --- snapshot helpers ------------------------------------------------------------

    def _expand(self, paths: builtins.list[str]) -> builtins.list[str]:
        out: dict[str, None] = {}
        for raw in paths:
            rel = self._rel(raw)
            full = self.root / rel
            if full.is_dir() and not full.is_symlink():
                for dirpath, dirnames, filenames in os.walk(full):
                    dirnames[:] = [d for d in dirnames if d != ".git"]
                    for name in filenames:
                        out[Path(dirpath, name).relative_to(self.root).as_posix()] = None
            else:
                out[rel] = None
        return list(out)

    def _rel(self, raw: str) -> str:
        candidate = Path(raw) if os.path.isabs(raw) else self.root / raw
        parent = Path(beneath.settled_realpath(str(candidate.parent)))
        full = parent / candidate.name
        if parent != self.root and self.root not in parent.parents:
            raise ToolError(f"cannot checkpoint {raw!r}: it is outside {self.root}")
        rel = full.relative_to(self.root).as_posix()
        if rel in (".", "") or rel == ".git" or rel.startswith(".git/"):
            raise ToolError(f"cannot checkpoint {raw!r}")
        return rel

    def _describe(self, rels: builtins.list[str]) -> builtins.list[dict[str, Any]]:
        """Each path's state, read beneath the root: a symlinked parent is never followed."""
        entries: builtins.list[dict[str, Any]] = []
        for rel in rels:
            try:
                st = beneath.lstat(self.root, rel)
                if st is None:
                    created = _first_missing(self.root, rel)
                    entries.append({"path": rel, "state": "absent", "created": created})
                elif stat.S_ISLNK(st.st_mode):
                    source = beneath.readlink(self.root, rel).encode("utf-8", "surrogateescape")
                    entries.append({"path": rel, "state": "symlink", "source": source})
                elif stat.S_ISREG(st.st_mode):
                    mode = stat.S_IMODE(st.st_mode)
                    data = beneath.read_bytes(self.root, rel)
                    entries.append({"path": rel, "state": "file", "mode": mode, "source": data})
                else:
                    raise ToolError(f"cannot checkpoint {rel}: not a regular file or symlink")
            except NotBeneath as exc:
                raise ToolError(f"cannot checkpoint {rel}: {exc}") from None
        return entries

    async def _hash(self, sources: builtins.list[bytes]) -> builtins.list[str]:
        blobs = []
        for data in sources:
            out = await self._git("hash-object", "-w", "--stdin", data=data)
            blobs.append(out.strip())
        return blobs

    # --- restore helpers -----------------------------------------------------------

    def _apply(
        self, states: dict[str, dict[str, Any]], contents: dict[str, bytes], report: RestoreReport
    ) -> None:
        """Put each path back, beneath the root only.

        Every parent must be a real directory inside the root when it is
        opened (`beneath`): a symlink planted after the checkpoint makes that
        path skipped, never followed, so undo cannot delete or write outside.
        """
        for rel, entry in sorted(states.items()):
            try:
                self._apply_one(rel, entry, contents, report)
            except NotBeneath as exc:
                report.skipped.append(f"{rel}: {exc}")
            except OSError as exc:
                report.skipped.append(f"{rel}: {exc.strerror or exc}")

    def _apply_one(
        self, rel: str, entry: dict[str, Any], contents: dict[str, bytes], report: RestoreReport
    ) -> None:
        now = beneath.lstat(self.root, rel)
        if now is not None and stat.S_ISDIR(now.st_mode):
            report.skipped.append(f"{rel}: a directory is there now")
            return
        if entry["state"] == "absent":
            if now is not None:
                beneath.remove(self.root, rel)
                report.removed.append(rel)
            if entry.get("created") and "/" in rel:
                beneath.remove_empty_dirs(self.root, rel.rsplit("/", 1)[0], entry["created"])
            return
        data = contents[entry["blob"]]
        if entry["state"] == "symlink":
            beneath.make_symlink(self.root, rel, data.decode("utf-8", "surrogateescape"))
        else:
            beneath.write_bytes(self.root, rel, data, mode=entry["mode"])
        report.restored.append(rel)

    async def _read_blobs(self, blobs: builtins.list[str]) -> dict[str, bytes]:
        try:
            return await read_blobs(self._cwd, sorted(set(blobs)), env=self._env)
        except KeyError as exc:
            raise CheckpointError(f"shadow store: {exc.args[0]}") from None

    # --- the store -----------------------------------------------------------------

    async def _chain(self) -> builtins.list[tuple[Checkpoint, dict[str, Any]]]:
        if not (self.store / "HEAD").exists() or not await self._tip():
            return []
        ids = (await self._git("rev-list", CHAIN)).split()
        manifests = await self._read_blobs([f"{c}:manifest.json" for c in ids])
        chain = []
        for commit in ids:
            manifest = json.loads(manifests[f"{commit}:manifest.json"])
            paths = [e["path"] for e in manifest["entries"]]
            checkpoint = Checkpoint(commit[:12], manifest["time"], manifest["label"], paths)
            chain.append((checkpoint, manifest))
        return chain

    async def _tip(self) -> str | None:
        try:
            return (await self._git("rev-parse", "--verify", "-q", CHAIN)).strip() or None
        except CheckpointError:
            return None

    async def _full_id(self, short: str) -> str:
        return (await self._git("rev-parse", "--verify", f"{short}^{{commit}}")).strip()

    async def _init(self) -> None:
        if (self.store / "HEAD").exists():
            return
        self.store.mkdir(parents=True, exist_ok=True)
        await self._git("init", "--bare", "-q")
        await self._git("config", "gc.auto", "0")
        (self.store / "kimicode-project").write_text(str(self.root) + "\n", encoding="utf-8")

    async def _git(self, *args: str, data: bytes | None = None) -> str:
        return (await self._git_bytes(*args, data=data)).decode("utf-8", "surrogateescape")

    @property
    def _env(self) -> dict[str, str]:
        return {
            "GIT_DIR": str(self.store),
            "GIT_AUTHOR_NAME": "kimicode",
            "GIT_AUTHOR_EMAIL": "kimicode@localhost",
            "GIT_COMMITTER_NAME": "kimicode",
            "GIT_COMMITTER_EMAIL": "kimicode@localhost",
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    @property
    def _cwd(self) -> Path:
        return self.root if self.root.is_dir() else self.store

    async def _git_bytes(self, *args: str, data: bytes | None = None) -> bytes:
        try:
            return await git(self._cwd, *args, input=data, env=self._env, retries=0)
        except GitError as exc:
            message = exc.stderr.strip()
            raise CheckpointError(f"checkpoint store: git {args[0]} failed: {message}") from None


def repo_key(root: Path) -> str:
    """`<dir name>-<hash of the real path>`: readable, and unique per project."""
    real = os.path.realpath(root)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(real) or "root")[:40]
    return f"{name}-{hashlib.sha256(real.encode()).hexdigest()[:16]}"


def _first_missing(root: Path, rel: str) -> str | None:
    """The highest missing ancestor directory of `rel` (to tidy away on undo), relative."""
    parts = rel.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        ancestor = "/".join(parts[:i])
        if beneath.lstat(root, ancestor) is None:
            return ancestor
    return None


def _json(value: object) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True).encode("utf-8")
