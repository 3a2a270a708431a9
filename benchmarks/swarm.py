"""Swarm speedup, memory and client CPU against a replay model with real latency.

Each model call streams 15 SSE chunks plus its finish and usage events, 20 ms apart
(about 340 ms; 50 chunks a second per agent); each sub-agent makes 6 model calls and 5
tool calls. For N = 1, 8, 32, 100, 300
the same N tasks run with `--max-agents N` and with `--max-agents 1`, each in a
fresh process against a replay server in another process, in one run of this
script. The model client is built (the openai import, ~0.4 s once per process)
before the clock starts, in both configurations. Reported: whole-run wall times
and their ratio ("run x"), the ratio of the swarm phase alone (spawn_agents,
without the orchestrator's own turns: "swarm x"), the swarm's own figure (sum
of agent times over the phase's wall), critical vs total steps, peak RSS, and
the harness's cost per agent in the parallel run: CPU seconds of kimicode and
every git process it started (`RUSAGE_CHILDREN`; the replay server is not
reaped until after, so it is not counted), and git processes started (every
`subprocess.Popen` of git in the process, asyncio's included, is counted).
Targets: run x >= 7 (N=8), 25 (N=32), 50 (N=100), 100 (N=300); peak RSS at
N=300 under 600 MB.

Usage: python benchmarks/swarm.py [--sizes 1,8,32,100,300] [--no-serial 300] [--django]
  --no-serial N,...  skip the serial run at those sizes (it takes N x 2 s)
  --git-detail       print git processes per subcommand for the largest N
  --django also runs benchmarks/swarm_setup.py (setup + merge cost per agent on
  Django's source).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import run_child

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


class GitCounter:
    """Counts git processes started by this process, by subcommand."""

    def __init__(self) -> None:
        self.by_command: dict[str, int] = {}

    def install(self) -> None:
        original = subprocess.Popen.__init__
        counts = self.by_command

        def counting(popen, args, *a, **kw):
            argv = [args] if isinstance(args, str | bytes) else list(args)
            if argv and os.path.basename(str(argv[0])) == "git":
                sub = _subcommand([str(x) for x in argv[1:]])
                counts[sub] = counts.get(sub, 0) + 1
            original(popen, args, *a, **kw)

        subprocess.Popen.__init__ = counting  # type: ignore[method-assign]

    @property
    def total(self) -> int:
        return sum(self.by_command.values())


def _subcommand(args: list[str]) -> str:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-c", "-C") else 1
    if i >= len(args):
        return "?"
    if args[i] == "config" and "--list" in args:
        return "config --list"
    return args[i]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
            "agent.max_tool_calls": 10_000,  # 300 agents x 5 calls is past the default 1500
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
    counter = GitCounter()
    counter.install()
    cpu0, kids0 = time.process_time(), children_cpu()
    start = time.perf_counter()
    outcome = await session.run("Run the benchmark tasks")
    wall = time.perf_counter() - start
    cpu, kids = time.process_time() - cpu0, children_cpu() - kids0
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
        "git_cpu": kids,
        "git_procs": counter.total,
        "git_detail": counter.by_command,
    }


def child(n: int, max_agents: int) -> None:
    run_child(build_script(n), make_repo, lambda root, url: one_run(root, url, max_agents))


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
    parser.add_argument("--sizes", default="1,8,32,100,300")
    parser.add_argument("--no-serial", default="", help="sizes to run in parallel only")
    parser.add_argument("--git-detail", action="store_true")
    parser.add_argument("--django", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        n, m = map(int, opts.child.split(","))
        child(n, m)
        return
    sizes = [int(x) for x in opts.sizes.split(",")]
    no_serial = {int(x) for x in opts.no_serial.split(",") if x}
    print(
        f"{'N':>4} {'serial s':>9} {'parallel s':>11} {'run x':>7} {'swarm x':>8} "
        f"{'agent/wall':>11} {'crit/total':>11} {'RSS MB':>7} {'CPU s/agent':>12} "
        f"{'of it git':>10} {'git procs/agent':>16}"
    )
    par: dict = {}
    for n in sizes:
        par = measure(n, n)
        ser = measure(n, 1) if n > 1 and n not in no_serial else None
        if n == 1:
            ser = par
        run_x = f"{ser['wall'] / par['wall']:>6.1f}x" if ser else f"{'-':>7}"
        swarm_x = f"{ser['swarm_wall'] / par['swarm_wall']:>7.1f}x" if ser else f"{'-':>8}"
        serial_s = f"{ser['wall']:>9.1f}" if ser else f"{'-':>9}"
        cpu_agent = (par["cpu"] + par["git_cpu"]) / n
        print(
            f"{n:>4} {serial_s} {par['wall']:>11.2f} {run_x} {swarm_x} "
            f"{par['swarm_speedup']:>10.1f}x {par['critical']:>5}/{par['total']:<5} "
            f"{par['rss_mb']:>7.0f} {cpu_agent:>12.3f} {par['git_cpu'] / n:>10.3f} "
            f"{par['git_procs'] / n:>16.2f}",
            flush=True,
        )
    if opts.git_detail and par:
        detail = sorted(par["git_detail"].items(), key=lambda kv: -kv[1])
        print(f"git processes at N={sizes[-1]}: " + ", ".join(f"{k} {v}" for k, v in detail))
    if opts.django:
        subprocess.run([sys.executable, str(HERE / "swarm_setup.py")], check=False)


if __name__ == "__main__":
    main()
