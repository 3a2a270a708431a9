"""What the swarm benchmarks share: one measured run in a scratch process.

Each run gets its own data and cache folders, a fresh repository and the
replay server playing its script, so runs never share state or warm caches.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any


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
        path = tmpdir / "script.json"
        path.write_text(json.dumps(script))
        server = subprocess.Popen(
            [sys.executable, "-m", "kimicode.replay", str(path), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            print(json.dumps(asyncio.run(run(root, url))))
        finally:
            server.terminate()
            server.wait(timeout=10)
