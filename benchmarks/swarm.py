"""Swarm speedup, memory and client CPU against a replay model with real latency.

Each model call takes 300 ms (15 SSE chunks, 20 ms apart: 50 chunks a second per
agent); each sub-agent makes 6 model calls and 5 tool calls. For N = 1, 8, 32, 100
the same N tasks run with `--max-agents N` and with `--max-agents 1`, each in a
fresh process against a replay server in another process, in one run of this
script. The model client is built (the openai import, ~0.4 s once per process)
before the clock starts, in both configurations. Reported: whole-run wall times
and their ratio ("run x"), the ratio of the swarm phase alone (spawn_agents,
without the orchestrator's own turns: "swarm x"), the swarm's own figure (sum
of agent times over the phase's wall), critical vs total steps, peak RSS, and
the client's CPU share (CPU seconds / wall).
Targets: speedup >= 7x (N=8), 25x (N=32), 60x (N=100); peak RSS at N=100
under 600 MB; client CPU under half a core.

Usage: python benchmarks/swarm.py [--sizes 1,8,32,100] [--django]
  --django also runs benchmarks/swarm_setup.py (setup + merge cost per agent on
  Django's source).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build_script(n: int) -> dict:
    tasks = [
        {
            "name": f"t{i:03d}",
            "prompt": f"Bench task t{i:03d}: write out/t{i:03d}.txt",
            "files": [f"out/t{i:03d}.txt"],
        }
        for i in range(n)
    ]
    slow = {"chunks": 15, "chunk_delay_ms": 20}

    def call(name: str, **args: object) -> dict:
        return {"name": name, "arguments": args}

    sub_turns = [
        {**slow, "tool_calls": [call("read_file", path="src/app.py")]},
        {**slow, "tool_calls": [call("glob", pattern="src/*.py")]},
        {**slow, "tool_calls": [call("grep", pattern="def ", path="src")]},
        {**slow, "tool_calls": [call("write_file", path="out/{1}.txt", content="{1} done\n")]},
        {**slow, "tool_calls": [call("read_file", path="out/{1}.txt")]},
        {**slow, "content": "Wrote out/{1}.txt."},
    ]
    return {
        "conversations": [
            {
                "match": "^Run the benchmark tasks",
                "turns": [
                    {"tool_calls": [call("spawn_agents", tasks=tasks)]},
                    {"content": "All tasks ran."},
                ],
            },
            {"match": r"^Bench task (t\d+):", "turns": sub_turns},
        ]
    }


def make_repo(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    for i in range(20):
        (root / "src" / f"mod{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n")
    (root / "src" / "app.py").write_text("def main():\n    print('app')\n")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)


async def one_run(root: Path, url: str, max_agents: int) -> dict:
    from kimicode import events as ev
    from kimicode.config import load_settings
    from kimicode.session import Session

    settings = load_settings(
        root,
        {
            "model.base_url": url,
            "model.api_key": "sk-bench",
            "model.thinking": False,
            "swarm.enabled": True,
            "swarm.max_agents": max_agents,
            "permissions.mode": "yolo",
            "sandbox.mode": "off",
        },
        env={},
        user_file=root / ".none",
    )
    session = Session(settings)
    session.model.prepare()  # the openai import, once per process: not part of what is compared
    finished: list[ev.SwarmFinished] = []
    session.bus.subscribe(lambda e: finished.append(e) if isinstance(e, ev.SwarmFinished) else None)
    cpu0 = time.process_time()
    start = time.perf_counter()
    outcome = await session.run("Run the benchmark tasks")
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    await session.aclose()
    result = session.result_event(outcome)
    assert result.status == "success", result.error
    s = finished[-1]
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "swarm_wall": s.wall_s,
        "swarm_speedup": s.speedup,
        "critical": result.critical_steps,
        "total": result.steps,
    }


def child(n: int, max_agents: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        os.environ["KIMICODE_DATA_DIR"] = str(tmpdir / "data")
        os.environ["KIMICODE_CACHE_DIR"] = str(tmpdir / "cache")
        root = tmpdir / "repo"
        make_repo(root)
        script = tmpdir / "script.json"
        script.write_text(json.dumps(build_script(n)))
        server = subprocess.Popen(
            [sys.executable, "-m", "kimicode.replay", str(script), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            print(json.dumps(asyncio.run(one_run(root, url, max_agents))))
        finally:
            server.terminate()
            server.wait(timeout=10)


def measure(n: int, max_agents: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", f"{n},{max_agents}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"run N={n} max-agents={max_agents} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,8,32,100")
    parser.add_argument("--django", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        n, m = map(int, opts.child.split(","))
        child(n, m)
        return
    sizes = [int(x) for x in opts.sizes.split(",")]
    print(
        f"{'N':>4} {'serial s':>9} {'parallel s':>11} {'run x':>7} {'swarm x':>8} "
        f"{'agent/wall':>11} {'crit/total':>11} {'RSS MB':>7} {'CPU cores':>10}"
    )
    for n in sizes:
        par = measure(n, n)
        ser = measure(n, 1) if n > 1 else par
        print(
            f"{n:>4} {ser['wall']:>9.1f} {par['wall']:>11.2f} {ser['wall'] / par['wall']:>6.1f}x "
            f"{ser['swarm_wall'] / par['swarm_wall']:>7.1f}x {par['swarm_speedup']:>10.1f}x "
            f"{par['critical']:>5}/{par['total']:<5} {par['rss_mb']:>7.0f} "
            f"{par['cpu'] / par['wall']:>10.2f}",
            flush=True,
        )
    if opts.django:
        subprocess.run([sys.executable, str(HERE / "swarm_setup.py")], check=False)


if __name__ == "__main__":
    main()
