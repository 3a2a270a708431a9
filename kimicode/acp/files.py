"""The editor's file system: reads see unsaved buffers, writes land in the editor too.

When the client offers `fs/readTextFile`, the main agent's text reads go
through it, so the agent edits what the user sees, saved or not. Confinement
still applies first (the path is resolved beneath the root before the editor
is asked). Binary files, images and anything the editor cannot read come from
disk as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from kimicode.tools.text_files import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from kimicode.tools.workspace import Workspace

ReadText = Callable[[str], Awaitable[str]]


class EditorWorkspace(Workspace):
    def __init__(self, root: Path, read_text: ReadText) -> None:
        super().__init__(root)
        self._read_text = read_text

    async def read_bytes(self, path: Path) -> bytes:
        media = path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
        if media or not await asyncio.to_thread(path.is_file):
            return await super().read_bytes(path)
        try:
            return (await self._read_text(str(path))).encode("utf-8")
        except Exception:  # the editor could not read it: the file on disk is the truth
            return await super().read_bytes(path)
