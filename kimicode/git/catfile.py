"""Reading git objects through one long-lived `git cat-file --batch`.

A sparse worktree serves every file it has not checked out from the base
commit, a merge reads every agent's new blobs, the checkpoint store reads its
manifests and saved files: spawning `git show` per object would cost a
process each time, so a `CatFile` keeps one `cat-file --batch` open and
answers requests in order. `read_many` writes all requests while it reads the
answers, so a large batch never stalls on a full pipe.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from kimicode.git.run import git_argv, git_env, git_result
from kimicode.spawn import spawn


class CatFile:
    def __init__(self, cwd: Path, *, env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = env
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def read(self, spec: str) -> bytes | None:
        """The content of blob `spec` (`<sha>` or `<commit>:<path>`), or None when missing."""
        if "\n" in spec:
            code, out, _ = await git_result(self.cwd, "cat-file", "blob", spec, env=self.env)
            return out if code == 0 else None
        return (await self.read_many([spec]))[0]

    async def read_many(self, specs: Sequence[str]) -> list[bytes | None]:
        """Each blob's content in order; None for a missing object or one that is not a blob."""
        if any("\n" in s for s in specs):
            return [await self.read(s) for s in specs]
        async with self._lock:
            proc = await self._start()
            assert proc.stdin is not None and proc.stdout is not None
            stdin, stdout = proc.stdin, proc.stdout

            async def send() -> None:
                for spec in specs:
                    stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
                    await stdin.drain()

            sender = asyncio.ensure_future(send())
            answers: list[bytes | None] = []
            try:
                for _ in specs:
                    header = await stdout.readline()
                    if not header:  # the reader died: what is left reads as missing
                        sender.cancel()
                        await self._kill()
                        return answers + [None] * (len(specs) - len(answers))
                    answers.append(await self._answer(header, stdout))
                await sender
            except (BrokenPipeError, ConnectionResetError, asyncio.IncompleteReadError):
                sender.cancel()
                await self._kill()
                raise
            except asyncio.CancelledError:
                # A half-read answer would desynchronise the stream: start afresh next time.
                sender.cancel()
                await self._kill()
                raise
            return answers

    @staticmethod
    async def _answer(header: bytes, stdout: asyncio.StreamReader) -> bytes | None:
        if header.endswith(b" missing\n") or header.count(b" ") != 2:
            return None
        _sha, kind, size = header.split()
        data = await stdout.readexactly(int(size) + 1)
        return data[:-1] if kind == b"blob" else None

    async def _start(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            env = git_env(self.env)
            self._proc = await spawn(
                *await git_argv(self.cwd, ["cat-file", "--batch"], env),
                cwd=str(self.cwd), env=env,
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


async def read_blobs(
    cwd: Path, specs: Sequence[str], *, env: Mapping[str, str] | None = None
) -> dict[str, bytes]:
    """Every blob in `specs` through one short-lived reader; KeyError names a missing one."""
    unique = list(dict.fromkeys(specs))
    if not unique:
        return {}
    reader = CatFile(cwd, env=env)
    try:
        found = await reader.read_many(unique)
    finally:
        await reader.close()
    for spec, data in zip(unique, found, strict=True):
        if data is None:
            raise KeyError(f"object {spec} is missing")
    return {spec: data for spec, data in zip(unique, found, strict=True) if data is not None}


_shared: dict[tuple[int, str], tuple[CatFile, int]] = {}


def shared_reader(repo_root: Path) -> CatFile:
    """The one `cat-file --batch` of `repo_root` in this event loop; pair with `release`.

    Worktrees share their repository's objects, so every sub-agent of a swarm
    reads base files through one process instead of one each.
    """
    key = (id(asyncio.get_running_loop()), str(repo_root))
    reader, users = _shared.get(key, (None, 0))
    if reader is None:
        reader = CatFile(Path(repo_root))
    _shared[key] = (reader, users + 1)
    return reader


async def release(reader: CatFile) -> None:
    """One user of a shared reader is done; the last one stops the process."""
    key = (id(asyncio.get_running_loop()), str(reader.cwd))
    found, users = _shared.get(key, (None, 0))
    if found is not reader:
        await reader.close()
        return
    if users > 1:
        _shared[key] = (reader, users - 1)
        return
    del _shared[key]
    await reader.close()
