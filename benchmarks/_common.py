"""What the swarm benchmarks share: the replay server in a process of its own, and one
measured run in scratch folders.

Each run gets its own data, cache and config folders, a fresh repository and the
replay server playing its script, so runs never share state or warm caches.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def replay_server(
    script: dict[str, Any], tmpdir: Path, *options: str
) -> Iterator[tuple[str, dict[str, str]]]:
    """The replay server playing `script` (with its command-line `options`), and the
    environment a `kimicode` process needs to use it from scratch folders in `tmpdir`."""
    path = tmpdir / "script.json"
    path.write_text(json.dumps(script))
    server = subprocess.Popen(
        [sys.executable, "-m", "kimicode.replay", str(path), "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        env = {
            **os.environ,
            "KIMICODE_BASE_URL": url,
            "KIMICODE_API_KEY": "sk-bench",
            "KIMICODE_DATA_DIR": str(tmpdir / "data"),
            "KIMICODE_CACHE_DIR": str(tmpdir / "cache"),
            "XDG_CONFIG_HOME": str(tmpdir / "config"),
        }
        yield url, env
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_child(
    script: dict[str, Any],
    make_repo: Callable[[Path], None],
    run: Callable[[Path, str], Awaitable[dict[str, Any]]],
) -> None:
    """Run `run(repo, replay_url)` once in scratch folders; print its figures as one JSON line."""
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        os.environ["KIMICODE_DATA_DIR"] = str(tmpdir / "data")
        os.environ["KIMICODE_CACHE_DIR"] = str(tmpdir / "cache")
        root = tmpdir / "repo"
        make_repo(root)
        with replay_server(script, tmpdir) as (url, _env):
            print(json.dumps(asyncio.run(run(root, url))))
