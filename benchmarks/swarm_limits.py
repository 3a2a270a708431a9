"""A 40-agent swarm on an endpoint that caps requests in flight, through the real binary.

Each sub-agent makes 4 model calls of 300 ms (before the first byte) and 3 tool calls.
The replay server runs in its own process and answers 429, without Retry-After, past
its cap (3, 8, 32 requests in flight); `kimicode -p --swarm --max-agents 40` runs in
another. Reported per cap: agents that failed (goal 0), the swarm phase's wall time,
the cap's ideal (160 calls x 0.3 s / cap), the same swarm's wall on an uncapped
endpoint (what setup and merge cost on this machine), wall over
max(ideal, uncapped) (goal <= 1.3x at 8 and 32, <= 1.6x at 3), the 429s seen and
the lowest limit the scheduler came down to.

Usage: python benchmarks/swarm_limits.py [--caps 3,8,32] [--agents 40]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

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
        script = tmpdir / "script.json"
        script.write_text(json.dumps(build_script(agents)))
        limit = ["--max-in-flight", str(cap)] if cap else []
        server = subprocess.Popen(
            [sys.executable, "-m", "kimicode.replay", str(script), *limit],
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
        finally:
            server.terminate()
            server.wait(timeout=10)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--caps", default="3,8,32")
    parser.add_argument("--agents", type=int, default=40)
    opts = parser.parse_args()
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
