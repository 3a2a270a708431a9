"""Read-only sub-agents: no worktree, no branch, the base snapshot read from git objects.

A task with `files: []` researches and reports. It gets only the read-only
tools; the write tools are still known by name so that a call to one comes
back as an error saying the agent is read-only (not "no such tool"), and the
URLs it fetched are listed under its report so citations come back with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from kimicode import events as ev
from kimicode.errors import ToolError
from kimicode.git.catfile import CatFile, release, shared_reader
from kimicode.protocols import Tool as ToolProtocol
from kimicode.swarm.gitops import tree_entries
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.tools.workspace import Workspace

READ_ONLY = "you are a read-only agent: you cannot write files or run commands; report instead"


class SnapshotWorkspace(Workspace):
    """The project as it was at the swarm's base commit, read-only, nothing on disk."""

    def __init__(self, root: Path, base: str) -> None:
        super().__init__(root, owned=[])
        self.base = base
        self.materialized = False
        self._blobs: CatFile | None = None
        """The swarm's shared object reader, taken at the first read."""
        self._entries: dict[str, tuple[str, str]] | None = None
        self._dirs: frozenset[str] = frozenset()

    async def _tree(self) -> dict[str, tuple[str, str]]:
        if self._entries is None:
            self._entries = await tree_entries(self.root, self.base)
            self._dirs = frozenset(
                "/".join(p.split("/")[:i])
                for p in self._entries
                for i in range(1, p.count("/") + 1)
            )
        return self._entries

    def check_writable(self, path: Path) -> None:
        raise ToolError(f"{self.rel(path)}: {READ_ONLY}")

    async def read_bytes(self, path: Path) -> bytes:
        rel = self.rel(path)
        entry = (await self._tree()).get(rel)
        if entry is not None:
            if self._blobs is None:
                self._blobs = shared_reader(self.root)
            data = await self._blobs.read(entry[1])
            if data is not None:
                return data
        if rel in self._dirs or rel == ".":
            raise ToolError(f"{rel} is a directory")
        raise ToolError(f"{rel} does not exist")

    async def exists(self, path: Path) -> bool:
        rel = self.rel(path)
        return rel in await self._tree() or rel in self._dirs or rel == "."

    async def list_files(self) -> list[str]:
        return sorted(await self._tree())

    async def prepare_shell(self) -> None:
        raise ToolError(READ_ONLY)

    async def close(self) -> None:
        blobs, self._blobs = self._blobs, None
        if blobs is not None:
            await release(blobs)


class _AnyArgs(BaseModel):
    model_config = ConfigDict(extra="allow")


class RefuseWrite(Tool[_AnyArgs]):
    """A write tool's name in a read-only agent: not offered, and refused when called."""

    Params = _AnyArgs
    read_only: ClassVar[bool] = True  # nothing to approve: it never does anything
    name: ClassVar[str] = "write"

    def __init__(self, name: str) -> None:
        self.tool_name = name

    @property
    def available(self) -> bool:
        return False

    def summary(self, params: _AnyArgs) -> str:
        return f"{self.tool_name} (refused: read-only)"

    async def run(self, params: _AnyArgs, ctx: ToolContext) -> ToolResult:
        raise ToolError(f"{self.tool_name} is not allowed: {READ_ONLY}")


def refusing(name: str) -> RefuseWrite:
    """A refusal registered under `name` (tool names are class attributes)."""
    cls: type[RefuseWrite] = type(f"Refuse_{name}", (RefuseWrite,), {"name": name})
    return cls(name)


def read_only_tools(tools: tuple[ToolProtocol, ...]) -> tuple[ToolProtocol, ...]:
    """The read-only tools of `tools`, plus refusals for the others (never offered)."""
    keep = [t for t in tools if t.read_only]
    return (*keep, *(refusing(t.name) for t in tools if not t.read_only))


class SourceLog:
    """The URLs a sub-agent fetched successfully, in order, collected from its events."""

    def __init__(self, sink: ev.EventSink) -> None:
        self.sink = sink
        self.urls: list[str] = []
        self._pending: dict[str, str] = {}

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.ToolCallStarted) and event.name == "fetch_url":
            url = event.arguments.get("url")
            if isinstance(url, str):
                self._pending[event.call_id] = url
        elif isinstance(event, ev.ToolCallFinished) and event.call_id in self._pending:
            url = self._pending.pop(event.call_id)
            if event.ok and url not in self.urls:
                self.urls.append(url)
        self.sink(event)

    def cite(self, summary: str) -> str:
        """The report with a "Sources:" list of what was fetched appended."""
        if not self.urls:
            return summary
        listed = "\n".join(f"- {u}" for u in self.urls)
        return f"{summary.rstrip()}\n\nSources:\n{listed}"
