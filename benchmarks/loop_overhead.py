"""The agent loop's own cost: one agent making 1,500 `read_file` calls.

The replay server runs in another process at zero latency. Time inside the
model call (HTTP + SSE parsing + the server) is measured apart from the rest
of each step (the loop, the tool, compaction, the session log): the latter is
the framework's own time per step. Target: under 5 ms, not growing with the
step number, and bounded memory.

Usage: python benchmarks/loop_overhead.py [--calls 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_script(calls: int) -> dict:
    turns = [
        {
            "tool_calls": [
                {
                    "name": "read_file",
                    "arguments": {"path": "data.txt", "offset": 1 + i % 900, "limit": 5},
                }
            ]
        }
        for i in range(calls)
    ]
    turns.append({"content": "done"})
    return {"defaults": {"chunks": 2}, "conversations": [{"match": "read", "turns": turns}]}


async def run(calls: int, root: Path, url: str) -> None:
    from kimicode.config import load_settings
    from kimicode.session import Session

    settings = load_settings(
        root,
        {
            "model.base_url": url,
            "model.api_key": "sk-bench",
            "agent.max_steps": calls + 5,
            "agent.max_tool_calls": calls,
            "model.thinking": False,
        },
    )
    session = Session(settings)
    model = session.model
    inner = model.complete
    in_model: list[float] = []

    async def timed(*args, **kw):
        start = time.perf_counter()
        try:
            return await inner(*args, **kw)
        finally:
            in_model.append(time.perf_counter() - start)

    model.complete = timed  # type: ignore[method-assign]
    step_ends: list[float] = []
    session.bus.subscribe(
        lambda e: step_ends.append(time.perf_counter()) if e.type == "step_started" else None
    )
    start = time.perf_counter()
    outcome = await session.run("read the data file in pieces")
    total = time.perf_counter() - start
    await session.aclose()
    assert outcome.status == "success", outcome.agent.error
    steps = outcome.agent.steps
    boundaries = [*step_ends, start + total]
    per_step = [b - a for a, b in itertools.pairwise(boundaries)]
    own = [s - m for s, m in zip(per_step, in_model, strict=False)]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first, last = own[: len(own) // 10], own[-len(own) // 10 :]
    print(f"steps: {steps}, tool calls: {outcome.agent.tool_calls}, wall: {total:.2f} s")
    print(
        f"framework time per step: median {statistics.median(own) * 1000:.2f} ms "
        f"(target < 5 ms), p95 {sorted(own)[int(len(own) * 0.95)] * 1000:.2f} ms"
    )
    print(
        f"  first 10% of steps: median {statistics.median(first) * 1000:.2f} ms; "
        f"last 10%: median {statistics.median(last) * 1000:.2f} ms"
    )
    print(
        f"model call (client + server) per step: median {statistics.median(in_model) * 1000:.2f} ms"
    )
    print(f"peak RSS: {rss_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1500)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        os.environ["KIMICODE_DATA_DIR"] = str(tmpdir / "data")
        os.environ["KIMICODE_CACHE_DIR"] = str(tmpdir / "cache")
        root = tmpdir / "project"
        root.mkdir()
        (root / "data.txt").write_text("".join(f"row {i}\n" for i in range(1000)))
        script = tmpdir / "script.json"
        script.write_text(json.dumps(make_script(opts.calls)))
        server = subprocess.Popen(
            [sys.executable, "-m", "kimicode.replay", str(script), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            asyncio.run(run(opts.calls, root, url))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
