"""A sub-agent's workspace over a sparse worktree: the whole repo visible, few files on disk.

Only the agent's own files are checked out when its worktree is created.
Reads of any other base file are answered from the base commit, and
`list_files` reports the base's files, so `read_file`, `glob` and `grep` see
the complete repository. Before the first shell command `prepare_shell`
completes the checkout (keeping the agent's edits) and shares the configured
build state, because a build or a test run needs a real tree.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kimicode.config import SwarmSettings
from kimicode.errors import ToolError
from kimicode.git.catfile import CatFile, release, shared_reader
from kimicode.git.run import git
from kimicode.swarm.gitops import split_z, tree_entries
from kimicode.swarm.shared import link_targets, share_state
from kimicode.swarm.worktrees import AgentWorktree, complete_checkout, files_on_disk, pinned
from kimicode.tools.workspace import Workspace

if TYPE_CHECKING:
    from kimicode.trust.sandbox import Sandbox


class SparseWorkspace(Workspace):
    def __init__(
        self,
        worktree: AgentWorktree,
        *,
        owned: list[str] | None = None,
        settings: SwarmSettings | None = None,
        sandbox: Sandbox | None,
    ) -> None:
        super().__init__(worktree.path, owned=worktree.owned if owned is None else owned)
        self.worktree = worktree
        self.settings = settings or SwarmSettings()
        self.sandbox = sandbox
        """The run's sandbox, for `[swarm] setup`; None only when the run has none."""
        self._read_only: tuple[Path, ...] = ()
        self.materialized = False
        self._checked_out = frozenset(worktree.checked_out)
        self._blobs: CatFile | None = None
        """The swarm's shared object reader, taken at the first read of a base file."""
        self._shell_lock = asyncio.Lock()
        self._dirs: frozenset[str] | None = None

    async def _base(self) -> dict[str, tuple[str, str]]:
        return await tree_entries(self.worktree.repo_root, self.worktree.base)

    async def _base_only(self, rel: str) -> tuple[str, str] | None:
        """The base entry of a file that was never written to disk, if `rel` is one."""
        if self.materialized or rel in self._checked_out:
            return None
        return (await self._base()).get(rel)

    async def _is_base_dir(self, rel: str) -> bool:
        if self._dirs is None:
            dirs = set()
            for path in await self._base():
                parts = path.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    dirs.add("/".join(parts[:i]))
            self._dirs = frozenset(dirs)
        return rel in self._dirs

    async def read_bytes(self, path: Path) -> bytes:
        if not self.materialized and not await asyncio.to_thread(path.exists):
            rel = self.rel(path)
            entry = await self._base_only(rel)
            if entry is not None:
                if self._blobs is None:
                    self._blobs = shared_reader(self.worktree.repo_root)
                data = await self._blobs.read(entry[1])
                if data is not None:
                    return data
            elif await self._is_base_dir(rel):
                raise ToolError(f"{rel} is a directory")
        return await super().read_bytes(path)

    async def read_many(self, paths: list[Path]) -> list[bytes | None]:
        """Files on disk read in one hop to a thread, base-only files in one batch from the
        shared object reader."""
        if self.materialized:
            return await super().read_many(paths)
        present = await asyncio.to_thread(lambda: [os.path.lexists(p) for p in paths])
        base = await self._base()
        from_base: dict[int, str] = {}
        for i, path in enumerate(paths):
            rel = self.rel(path)
            if not present[i] and rel not in self._checked_out and rel in base:
                from_base[i] = base[rel][1]
        found: list[bytes | None] = [None] * len(paths)
        if from_base:
            if self._blobs is None:
                self._blobs = shared_reader(self.worktree.repo_root)
            blobs = await self._blobs.read_many(list(from_base.values()))
            for i, data in zip(from_base, blobs, strict=True):
                found[i] = data
        on_disk = [i for i in range(len(paths)) if present[i]]
        if on_disk:
            read = await super().read_many([paths[i] for i in on_disk])
            for i, data in zip(on_disk, read, strict=True):
                found[i] = data
        return found

    async def exists(self, path: Path) -> bool:
        if await asyncio.to_thread(os.path.lexists, path):
            return True
        if self.materialized:
            return False
        rel = self.rel(path)
        return await self._base_only(rel) is not None or await self._is_base_dir(rel)

    async def list_files(self) -> list[str]:
        """The base's files, minus those the agent deleted, plus new files on disk.

        Until a shell runs, only the agent's own files are on disk, so a walk of
        the worktree answers; git is asked (to apply .gitignore) only once the
        agent has created a file.
        """
        if self.materialized:
            return await super().list_files()
        base = await self._base()
        on_disk = set(await asyncio.to_thread(files_on_disk, self.root))
        deleted = self._checked_out - on_disk
        created = on_disk - set(base)
        if created:
            args = ("ls-files", "-z", "--others", "--exclude-standard")
            created = set(split_z(await git(self.root, *args, env=pinned(self.worktree))))
        return sorted((set(base) - deleted) | created)

    async def prepare_shell(self) -> None:
        """Complete the checkout and share build state, once, before the first command."""
        async with self._shell_lock:
            if self.materialized:
                return
            await complete_checkout(self.worktree)
            await self._release()
            self.materialized = True
            await share_state(self.worktree, self.settings, self.sandbox)
            self._read_only = await asyncio.to_thread(link_targets, self.worktree)

    def sandbox_read_only(self) -> tuple[Path, ...]:
        """The `[swarm] link` targets: in the user's project, perhaps under the private /tmp."""
        return self._read_only

    async def _release(self) -> None:
        blobs, self._blobs = self._blobs, None
        if blobs is not None:
            await release(blobs)

    async def close(self) -> None:
        """Let go of the shared object reader (call when the agent ends)."""
        await self._release()
