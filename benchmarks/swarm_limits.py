"""A 40-agent swarm on an endpoint that caps requests in flight, through the real binary.

Each sub-agent makes 4 model calls of 300 ms (before the first byte) and 3 tool calls.
The replay server runs in its own process and answers 429, without Retry-After, past
its cap (3, 8, 32 requests in flight); `kimicode -p --swarm --max-agents 40` runs in
another. Reported per cap: agents that failed (goal 0), the swarm phase's wall time,
the cap's ideal (160 calls x 0.3 s / cap), the same swarm's wall on an uncapped
endpoint (what setup and merge cost on this machine), wall over
max(ideal, uncapped) (goal <= 1.3x at 8 and 32, <= 1.6x at 3), the 429s seen and
the lowest limit the scheduler came down to.

Resume figure (--resume): a 30-agent swarm (15 agents of 2 calls, 15 of 3 calls whose
second runs `sleep 600`) is interrupted with SIGINT once the 15 quick ones finished, then
`kimicode -p --continue` resumes the other 15. Reported: model calls redone (answered a
second time) for the finished agents (goal 0) and the resumed ones, files merged, and the
continued run's wall against the same swarm run whole without the sleep.

Usage: python benchmarks/swarm_limits.py [--caps 3,8,32] [--agents 40] [--resume]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import replay_server

CALLS = 4
LATENCY_MS = 300


def build_script(n: int) -> dict:
    tasks = [
        {
            "name": f"t{i:03d}",
            "prompt": f"Bench task t{i:03d}: write out/t{i:03d}.txt",
            "files": [f"out/t{i:03d}.txt"],
        }
        for i in range(n)
    ]

    def call(name: str, **args: object) -> dict:
        return {"name": name, "arguments": args}

    slow = {"latency_ms": LATENCY_MS}
    sub_turns = [
        {**slow, "tool_calls": [call("read_file", path="src/app.py")]},
        {**slow, "tool_calls": [call("glob", pattern="src/*.py")]},
        {**slow, "tool_calls": [call("write_file", path="out/{1}.txt", content="{1} done\n")]},
        {**slow, "content": "Wrote out/{1}.txt."},
    ]
    assert len(sub_turns) == CALLS
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


def run_swarm(agents: int, cap: int | None) -> dict:
    """One swarm in fresh folders: the binary's result, its swarm_finished, the server's count."""
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        root = tmpdir / "repo"
        make_repo(root)
        limit = ["--max-in-flight", str(cap)] if cap else []
        with replay_server(build_script(agents), tmpdir, *limit) as (url, env):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "kimicode",
                    "-p",
                    "Run the benchmark tasks",
                    "--swarm",
                    "--yolo",
                    "--no-thinking",
                    "--max-agents",
                    str(agents),
                    "--output-format",
                    "stream-json",
                ],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=1800,
            )
            with urllib.request.urlopen(url.removesuffix("/v1") + "/replay/state") as answer:
                state = json.load(answer)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    results = [e for e in events if e["type"] == "result"]
    if not results:
        raise SystemExit(f"cap {cap}: no result (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    finished = [e for e in events if e["type"] == "swarm_finished"]
    result = results[-1]
    return {
        "exit": proc.returncode,
        "failed": sum(a["status"] != "success" for a in result["agents"])
        + agents
        - len(result["agents"]),
        "wall": finished[-1]["wall_s"] if finished else float("nan"),
        "rate_limit": result.get("rate_limit") or {},
        "server_429": state["limits"]["throttled"],
        "peak": state["limits"]["peak_in_flight"],
    }


def resume_script(n: int, interrupted: bool) -> dict:
    quick = [f"f{i:02d}" for i in range(n // 2)]
    slow = [f"s{i:02d}" for i in range(n - n // 2)]
    tasks = [
        {"name": a, "prompt": f"Bench task {a}: write out/{a}.txt", "files": [f"out/{a}.txt"]}
        for a in quick + slow
    ]

    def call(name: str, **args: object) -> dict:
        return {"name": name, "arguments": args}

    write = {"tool_calls": [call("write_file", path="out/{1}.txt", content="{1}\n")]}
    pause = 600 if interrupted else 0  # interrupted in it; the uninterrupted run does not wait
    main = [{"tool_calls": [call("spawn_agents", tasks=tasks)]}]
    if interrupted:
        main.append({"tool_calls": [call("spawn_agents", resume=[{"name": a} for a in slow])]})
    main.append({"content": "All tasks ran."})
    return {
        "conversations": [
            {"match": "^Run the benchmark tasks", "turns": main},
            {"match": r"^Bench task (f\d+):", "turns": [write, {"content": "done"}]},
            {
                "match": r"^Bench task (s\d+):",
                "turns": [
                    write,
                    {"tool_calls": [call("run_shell", command=f"sleep {pause}")]},
                    {"content": "done"},
                ],
            },
        ]
    }


def run_resume(agents: int, interrupted: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        root = tmpdir / "repo"
        make_repo(root)
        with replay_server(resume_script(agents, interrupted), tmpdir) as (url, env):
            args = [
                sys.executable,
                "-m",
                "kimicode",
                "-p",
                "--swarm",
                "--yolo",
                "--no-thinking",
                "--max-agents",
                str(agents),
                "--output-format",
            ]
            started = time.perf_counter()
            first = subprocess.Popen(
                [*args, "stream-json", "Run the benchmark tasks"],
                cwd=root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            finished = 0
            assert first.stdout is not None
            for line in first.stdout:
                event = json.loads(line)
                if event["type"] == "agent_finished" and interrupted:
                    finished += event["name"].startswith("f")
                    if finished == agents // 2:
                        first.send_signal(signal.SIGINT)
            first.wait(timeout=600)
            wall_first = time.perf_counter() - started
            state = _state(url)
            before = _calls(state)
            second = None
            if interrupted:
                second = subprocess.run(
                    [*args, "json", "--continue", "carry on"],
                    cwd=root,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=600,
                )
            wall = time.perf_counter() - started
            after = _calls(_state(url))
            merged = len(list((root / "out").glob("*.txt"))) if (root / "out").is_dir() else 0
    redone_finished = sum(after.get(k, 0) - before.get(k, 0) for k in before if k.startswith("f"))
    redone_resumed = sum(after.get(k, 0) for k in after if k.startswith("s")) - 3 * (
        agents - agents // 2
    )
    return {
        "wall": wall,
        "first_exit": first.returncode,
        "second_exit": None if second is None else second.returncode,
        "wall_first": wall_first,
        "redone_finished": redone_finished,
        "redone_resumed": redone_resumed,
        "merged": merged,
    }


def _state(url: str) -> dict:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/replay/state") as answer:
        return json.load(answer)


def _calls(state: dict) -> dict[str, int]:
    """Model calls answered per sub-agent (the captured name)."""
    calls: dict[str, int] = {}
    for record in state["requests"]:
        key = record.get("key") or ""
        if key and record.get("status") == 200:
            calls[key] = calls.get(key, 0) + 1
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--caps", default="3,8,32")
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--resume", action="store_true", help="also the resume figure")
    parser.add_argument("--only-resume", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.resume or opts.only_resume:
        whole = run_resume(30, interrupted=False)
        split = run_resume(30, interrupted=True)
        print(
            f"resume, 30 agents: calls redone for finished agents {split['redone_finished']}, "
            f"for resumed agents {split['redone_resumed']}; files merged {split['merged']}/30 "
            f"(uninterrupted {whole['merged']}/30); exits {split['first_exit']} then "
            f"{split['second_exit']}; continued run {split['wall'] - split['wall_first']:.1f} s "
            f"(interrupted run {split['wall_first']:.1f} s) vs {whole['wall']:.1f} s whole",
            flush=True,
        )
        if opts.only_resume:
            return
    agents = opts.agents
    uncapped = run_swarm(agents, None)
    print(f"uncapped: swarm wall {uncapped['wall']:.2f} s, failed {uncapped['failed']}")
    print(
        f"{'cap':>4} {'failed':>6} {'exit':>4} {'wall s':>7} {'ideal s':>8} {'x ideal':>8} "
        f"{'x max(ideal,uncapped)':>22} {'429s':>5} {'lowest':>6} {'peak':>5}"
    )
    for cap in (int(c) for c in opts.caps.split(",")):
        run = run_swarm(agents, cap)
        ideal = agents * CALLS * LATENCY_MS / 1000 / cap
        floor = max(ideal, uncapped["wall"])
        print(
            f"{cap:>4} {run['failed']:>6} {run['exit']:>4} {run['wall']:>7.2f} {ideal:>8.2f} "
            f"{run['wall'] / ideal:>7.2f}x {run['wall'] / floor:>21.2f}x "
            f"{run['server_429']:>5} {run['rate_limit'].get('lowest_limit', '-'):>6} "
            f"{run['peak']:>5}",
            flush=True,
        )


if __name__ == "__main__":
    main()
