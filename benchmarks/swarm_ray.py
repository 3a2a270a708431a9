"""The swarm on Ray against the local backend, and what a cluster agent costs on top.

Starts a two-node local Ray cluster on loopback addresses (a head with no
CPUs for tasks, one worker node), then for each N runs the same swarm as
`benchmarks/swarm.py` (300 ms model calls, 6 calls and 5 tool calls per
agent) with `[swarm] backend = "local"` and `"ray"`, each in a fresh process.
First it times the per-agent pieces the cluster adds: the base bundle (once a
run), a Ray task's round trip, unpacking the base on a node (first time and
cached), the agent's worktree, bundling its branch and fetching it back here.
"extra/agent" is the whole-run difference divided by N.

Usage: python benchmarks/swarm_ray.py [--sizes 8,32,100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "swarm"))

from _common import run_child  # noqa: E402
from ray_cluster import Cluster  # noqa: E402
from swarm import build_script, make_repo  # noqa: E402


async def one_run(root: Path, url: str, n: int, address: str | None) -> dict:
    from kimicode import events as ev
    from kimicode.config import load_settings
    from kimicode.session import Session

    flags = {
        "model.base_url": url,
        "model.api_key": "sk-bench",
        "model.thinking": False,
        "swarm.enabled": True,
        "swarm.max_agents": n,
        "permissions.mode": "yolo",
        "sandbox.mode": "off",
    }
    if address:
        flags.update({"swarm.backend": "ray", "swarm.ray.address": address,
                      "swarm.ray.num_cpus": 0.05})  # fmt: skip
    settings = load_settings(root, flags, env={}, user_file=root / ".none")
    session = Session(settings)
    session.model.prepare()
    finished: list[ev.SwarmFinished] = []
    session.bus.subscribe(lambda e: finished.append(e) if isinstance(e, ev.SwarmFinished) else None)
    start = time.perf_counter()
    outcome = await session.run("Run the benchmark tasks")
    wall = time.perf_counter() - start
    await session.aclose()
    result = session.result_event(outcome)
    failed = [a["name"] for a in result.agents if a["status"] != "success"]
    return {"wall": wall, "swarm_wall": finished[-1].wall_s, "failed": len(failed),
            "error": (result.error or "")[:1500]}  # fmt: skip


def child(n: int, address: str | None) -> None:
    run_child(build_script(n), make_repo, lambda root, url: one_run(root, url, n, address))


def measure(n: int, address: str | None) -> dict:
    argv = [sys.executable, __file__, "--child", str(n), "--address", address or ""]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"N={n} address={address} failed:\n{out.stderr[-3000:]}")
    figures = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not figures:  # Ray writes its own lines to stdout too: the figures are the JSON one
        raise SystemExit(f"N={n} address={address} printed no figures:\n{out.stdout[-3000:]}")
    return json.loads(figures[-1])


def overheads(address: str, workdir: Path) -> dict[str, float]:
    """Median seconds of each piece a cluster agent adds, measured on the real cluster."""
    import ray

    from kimicode.swarm.bundles import bundle_base, bundle_branch, fetch_branch, unpack_base

    root = workdir / "overhead-repo"
    make_repo(root)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    ray.init(address=address, log_to_driver=False)

    @ray.remote(num_cpus=0.05)
    def on_node(
        data: bytes, commit: str, cache: str, branch: str
    ) -> tuple[dict[str, float], bytes]:
        import asyncio as aio
        import subprocess as sp

        took: dict[str, float] = {}
        t0 = time.perf_counter()
        repo = aio.run(unpack_base(data, commit, Path(cache)))
        took["unpack first"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        aio.run(unpack_base(data, commit, Path(cache)))
        took["unpack cached"] = time.perf_counter() - t0
        wt = Path(cache) / "wt"
        t0 = time.perf_counter()
        sp.run(["git", "branch", "-f", branch, commit], cwd=repo, check=True)
        sp.run(["git", "worktree", "add", "-q", "-f", str(wt), branch], cwd=repo, check=True)
        took["worktree"] = time.perf_counter() - t0
        (wt / "out.txt").write_text("done\n")
        sp.run(["git", "add", "out.txt"], cwd=wt, check=True)
        sp.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "w"],
               cwd=wt, check=True)  # fmt: skip
        t0 = time.perf_counter()
        back = aio.run(bundle_branch(repo, branch, commit))
        took["bundle back"] = time.perf_counter() - t0
        sp.run(["git", "worktree", "remove", "--force", str(wt)], cwd=repo, check=True)
        return took, back

    @ray.remote(num_cpus=0.05)
    def nothing() -> None:
        return None

    ray.get(nothing.remote())  # a warm worker
    names = ("base bundle", "task round trip", "unpack first", "unpack cached", "worktree",
             "bundle back", "fetch back")  # fmt: skip
    rows: dict[str, list[float]] = {k: [] for k in names}
    for i in range(5):
        t0 = time.perf_counter()
        data = asyncio.run(bundle_base(root, base))
        rows["base bundle"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ray.get(nothing.remote())
        rows["task round trip"].append(time.perf_counter() - t0)
        branch = f"kimicode/bench/agent{i}"
        took, back = ray.get(on_node.remote(data, base, str(workdir / f"node-cache{i}"), branch))
        for name, seconds in took.items():
            rows[name].append(seconds)
        t0 = time.perf_counter()
        asyncio.run(fetch_branch(root, back, branch))
        rows["fetch back"].append(time.perf_counter() - t0)
    ray.shutdown()
    return {k: statistics.median(v) for k, v in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="8,32,100")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(int(opts.child), opts.address or None)
        return
    with tempfile.TemporaryDirectory(prefix="kimicode-raybench-") as tmp:
        workdir = Path(tmp)
        cluster = Cluster(workdir)
        try:
            cluster.start_head("127.0.0.2", num_cpus=0)
            cluster.add_worker("127.0.0.3", num_cpus=5)  # 100 agents at 0.05 CPU each
            print("per-agent pieces on the cluster (median of 5, seconds):")
            for name, value in overheads(cluster.address, workdir).items():
                print(f"  {name:<16} {value:.3f}", flush=True)
            print(f"\n{'N':>4} {'local s':>8} {'ray s':>8} {'ray/local':>10} "
                  f"{'extra/agent s':>14} {'failed':>7}")  # fmt: skip
            for n in (int(x) for x in opts.sizes.split(",")):
                local = measure(n, None)
                on_ray = measure(n, cluster.address)
                extra = (on_ray["wall"] - local["wall"]) / n
                print(f"{n:>4} {local['wall']:>8.2f} {on_ray['wall']:>8.2f} "
                      f"{on_ray['wall'] / local['wall']:>9.2f}x {extra:>14.3f} "
                      f"{local['failed'] + on_ray['failed']:>7}", flush=True)  # fmt: skip
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
