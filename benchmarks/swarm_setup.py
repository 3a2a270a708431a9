"""Swarm setup + merge cost per agent on a large real repository (Django's source).

    python benchmarks/swarm_setup.py [--agents 100] [--files 5]

Django's source distribution (from PyPI, `pip download django --no-binary
:all:`) is unpacked and committed to a git repo once, cached under the
kimicode cache dir; each run clones it into a temp dir. For N agents owning 5
files each it times: creating all worktrees at once, a one-line edit and
`commit_agent_work` per agent, `plan_merge` + `apply_merge` of all of them
(which also removes the worktrees and deletes the merged branches), and
prints a table with the per-agent setup + merge cost (target: under 150 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kimicode import paths
from kimicode.config import SwarmSettings
from kimicode.swarm.commit import commit_agent_work
from kimicode.swarm.merge import apply_merge, plan_merge
from kimicode.swarm.snapshot import prepare_base
from kimicode.swarm.workspace import SparseWorkspace
from kimicode.swarm.worktrees import create_worktree, remove_worktree

GIT_ID = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def django_repo(cache: Path) -> Path:
    """A git repo of Django's source distribution, built once and kept in the cache."""
    repo = cache / "bench" / "django-src"
    if (repo / ".git").is_dir():
        return repo
    download = cache / "bench" / "download"
    download.mkdir(parents=True, exist_ok=True)
    if not list(download.glob("[Dd]jango-*.tar.gz")):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "django", "--no-binary", ":all:",
             "--no-deps", "-d", str(download)],
            check=True, capture_output=True,
        )  # fmt: skip
    tarball = sorted(download.glob("[Dd]jango-*.tar.gz"))[-1]
    staging = Path(tempfile.mkdtemp(dir=cache / "bench"))
    with tarfile.open(tarball) as tar:
        tar.extractall(staging, filter="data")
    [top] = list(staging.iterdir())
    sh(top, "git", "init", "-q", "-b", "main")
    sh(top, "git", "add", "-A")
    sh(top, "git", *GIT_ID, "commit", "-q", "-m", f"{tarball.name} unpacked")
    top.rename(repo)
    shutil.rmtree(staging)
    return repo


def disk_kb(*paths: Path) -> int:
    out = sh(Path("/"), "du", "-sk", *[str(p) for p in paths if p.exists()])
    return sum(int(line.split()[0]) for line in out.splitlines())


async def timed(coro) -> tuple[float, object]:
    start = time.perf_counter()
    result = await coro
    return (time.perf_counter() - start) * 1000, result


async def run(agents: int, per_agent: int) -> None:
    source = django_repo(paths.cache_dir())
    tmp = Path(tempfile.mkdtemp(prefix="kimicode-bench-"))
    os.environ[paths.CACHE_ENV] = str(tmp / "cache")
    try:
        repo = tmp / "django"
        sh(tmp, "git", "clone", "-q", "--local", str(source), str(repo))
        sh(repo, "git", "config", "user.name", "bench")
        sh(repo, "git", "config", "user.email", "bench@localhost")
        files = sorted(sh(repo, "git", "ls-files", "*.py").split())
        total_files = len(sh(repo, "git", "ls-files").split())
        owned = [files[i * per_agent : (i + 1) * per_agent] for i in range(agents)]
        settings = SwarmSettings()

        base_ms, base = await timed(prepare_base(repo, "bench"))

        async def create(i: int):
            return await timed(create_worktree(repo, base, "bench", f"a{i}", owned[i], settings))

        start = time.perf_counter()
        created = await asyncio.gather(*(create(i) for i in range(agents)))
        create_wall = (time.perf_counter() - start) * 1000
        wts = [wt for _, wt in created]

        kb = [disk_kb(wt.path, wt.admin_dir) for wt in wts[:10]]
        full_kb = disk_kb(repo) - disk_kb(repo / ".git")

        ws = SparseWorkspace(wts[0], settings=settings)
        reads = []
        for rel in files[-50:]:
            ms, _ = await timed(ws.read_bytes(ws.resolve(rel)))
            reads.append(ms)
        await ws.close()

        async def edit_commit(wt):
            path = wt.path / wt.owned[0]
            await asyncio.to_thread(
                path.write_text, path.read_text(encoding="utf-8") + "# edited\n", "utf-8"
            )
            return await timed(commit_agent_work(wt, wt.owned, f"edit {wt.agent}"))

        start = time.perf_counter()
        committed = await asyncio.gather(*(edit_commit(wt) for wt in wts))
        commit_wall = (time.perf_counter() - start) * 1000
        commits = [c for _, c in committed]

        plan_ms, plan = await timed(plan_merge(repo, base, commits))
        apply_ms, report = await timed(apply_merge(repo, plan))
        assert len(report.merged) == agents, report.conflicts[:3]

        extra = await create_worktree(repo, base, "bench2", "solo", owned[0], settings)
        solo = SparseWorkspace(extra, settings=settings, sandbox=None)
        materialize_ms, _ = await timed(solo.prepare_shell())
        remove_ms, _ = await timed(remove_worktree(extra))

        rows = [
            ("prepare_base (clean tree)", base_ms, None, None),
            (f"create_worktree x{agents}, parallel", create_wall,
             statistics.median(ms for ms, _ in created), create_wall / agents),
            (f"edit + commit_agent_work x{agents}, parallel", commit_wall,
             statistics.median(ms for ms, _ in committed), commit_wall / agents),
            ("plan_merge (all agents)", plan_ms, None, plan_ms / agents),
            ("apply_merge (writes, removes worktrees)", apply_ms, None, apply_ms / agents),
        ]  # fmt: skip
        per_agent_ms = (create_wall + commit_wall + plan_ms + apply_ms) / agents
        print(f"Django source: {total_files} files; {agents} agents x {per_agent} files\n")
        print(f"{'step':44} {'wall ms':>9} {'median ms':>10} {'per agent':>10}")
        for name, wall, med, per in rows:
            med_s = f"{med:10.1f}" if med is not None else f"{'':10}"
            per_s = f"{per:10.1f}" if per is not None else f"{'':10}"
            print(f"{name:44} {wall:9.0f} {med_s} {per_s}")
        print()
        print(f"disk per sparse worktree (median of 10): {statistics.median(kb) / 1024:.2f} MB")
        print(f"disk of a full checkout:                 {full_kb / 1024:.1f} MB")
        print(f"read of a base file not on disk:         {statistics.median(reads):.2f} ms median")
        print(f"prepare_shell (complete one checkout):   {materialize_ms:.0f} ms")
        print(f"remove_worktree (a complete checkout):   {remove_ms:.0f} ms")
        verdict = "OK" if per_agent_ms < 150 else "OVER TARGET"
        print(f"\nsetup + merge per agent: {per_agent_ms:.1f} ms (target < 150 ms) {verdict}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--files", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.agents, args.files))


if __name__ == "__main__":
    main()
