"""Several processes recording their agents in one run's manifest at once (Ray worker
processes on one node do): every agent's record survives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kimicode.swarm import manifest

WRITER = """
import asyncio, sys
from pathlib import Path
from kimicode.swarm import manifest

async def main(root, who):
    for i in range(15):
        name = f"{who}-{i}"
        await manifest.update_agent(Path(root), "run1", name, branch=f"b/{name}", worktree="w")
        await manifest.update_agent(Path(root), "run1", name, outcome="running")

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_concurrent_processes_lose_no_agent(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KIMICODE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    root.mkdir()
    import asyncio

    asyncio.run(manifest.start_run(root, "run1", "0" * 40, None))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), f"p{n}"], env=env)
        for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    run = manifest.read_manifest(manifest.manifest_path(root, "run1"))
    assert run is not None
    assert len(run.agents) == 60
    assert {r.outcome for r in run.agents.values()} == {"running"}


def test_an_outcome_for_an_agent_never_laid_out_is_dropped_not_a_crash(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("KIMICODE_CACHE_DIR", str(tmp_path / "cache"))
    import asyncio

    asyncio.run(manifest.start_run(tmp_path, "run1", "0" * 40, None))
    asyncio.run(manifest.update_agent(tmp_path, "run1", "ghost", outcome="error"))
    run = manifest.read_manifest(manifest.manifest_path(tmp_path, "run1"))
    assert run is not None and run.agents == {}
