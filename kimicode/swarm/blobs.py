"""Reading many objects through one long-lived `git cat-file --batch`.

A sparse worktree serves every file it has not checked out from the base
commit; spawning `git show` per read would cost a process each time, so one
`cat-file --batch` per reader stays open and answers requests in order.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from kimicode.swarm.gitops import git_env


class CatFile:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def read(self, spec: str) -> bytes | None:
        """The content of `spec` (`<sha>` or `<commit>:<path>`), or None when missing."""
        if "\n" in spec:
            return await self._show(spec)
        async with self._lock:
            proc = await self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
                await proc.stdin.drain()
                header = await proc.stdout.readline()
                if not header or header.endswith(b" missing\n") or b" " not in header:
                    if not header:
                        self._proc = None
                    return None
                _sha, kind, size = header.split()
                data = await proc.stdout.readexactly(int(size) + 1)
            except (BrokenPipeError, ConnectionResetError, asyncio.IncompleteReadError):
                self._proc = None
                raise
            except asyncio.CancelledError:
                # A half-read answer would desynchronise the stream: start afresh next time.
                await self._kill()
                raise
            if kind != b"blob":
                return None
            return data[:-1]

    async def _show(self, spec: str) -> bytes | None:
        proc = await asyncio.create_subprocess_exec(
            "git", "cat-file", "blob", spec, cwd=str(self.cwd), env=git_env(None),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        out, _ = await proc.communicate()
        return out if proc.returncode == 0 else None

    async def _start(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            self._proc = await asyncio.create_subprocess_exec(
                "git", "cat-file", "--batch", cwd=str(self.cwd), env=git_env(None),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                limit=1 << 20,
            )  # fmt: skip
        return self._proc

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def read_blobs_sync(cwd: Path, shas: list[str]) -> dict[str, bytes]:
    """Every blob in `shas` through a single `cat-file --batch` (for worker threads)."""
    if not shas:
        return {}
    unique = list(dict.fromkeys(shas))
    out = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=str(cwd),
        env=git_env(None),
        input=("\n".join(unique) + "\n").encode(),
        capture_output=True,
        check=True,
    ).stdout
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            raise KeyError(f"object {sha} is missing")
        size = int(header[2])
        blobs[sha] = out[pos : pos + size]
        pos += size + 1
    return blobs
