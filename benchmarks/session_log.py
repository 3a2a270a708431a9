"""Session-log growth of a long run, and what `--continue` costs on it.

A 200-step print-mode run through the real binary against the replay model:
every step reads a file and writes one (so the history, and compaction, grow
as in real work). Prints the log's size, its records by kind, and the load
time and peak memory of `--continue` (the `SessionStore.load` it runs, in a
fresh process). Usage:
python benchmarks/session_log.py [--steps 200] [--kb 1] [--window 65536] [--task-kb 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from kimicode.replay.server import replay_in_thread

LOAD = """
import resource, sys, time
from kimicode.sessions.store import SessionStore
started = time.perf_counter()
loaded = SessionStore().load(sys.argv[1])
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(took, peak, len(loaded.messages))
"""


def run_script(steps: int, kb: int) -> dict:
    body = "x = 1  # filler line for the session-log benchmark\n" * (kb * 1024 // 52)
    turns = []
    for i in range(steps - 1):
        calls = [
            {"name": "read_file", "arguments": {"path": f"src/f{i % 20}.py"}},
            {"name": "write_file", "arguments": {"path": f"out/w{i}.py", "content": body}},
        ]
        turns.append({"tool_calls": calls})
    turns.append({"content": "Done."})
    return {"conversations": [{"match": "long task", "turns": turns}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--kb", type=int, default=1, help="size of each file read and written")
    parser.add_argument(
        "--window", type=int, default=65_536, help="model context window, tokens (a local model's)"
    )
    parser.add_argument(
        "--task-kb",
        type=int,
        default=200,
        help="size of the task prompt; near the window, every step compacts (the worst case)",
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        (root / "src").mkdir(parents=True)
        filler = "value = 42  # a line of source for the model to read\n"
        for i in range(20):
            (root / "src" / f"f{i}.py").write_text(filler * (opts.kb * 1024 // len(filler)))
        (root / ".kimicode").mkdir()
        (root / ".kimicode" / "config.toml").write_text(
            f"[model]\ncontext_window = {opts.window}\nmax_output_tokens = 4096\n"
        )
        env = dict(os.environ, KIMICODE_API_KEY="sk-bench", KIMICODE_DATA_DIR=f"{tmp}/data")
        with replay_in_thread(run_script(opts.steps, opts.kb)) as server:
            env["KIMICODE_BASE_URL"] = server.url
            started = time.perf_counter()
            flags = ["--yolo", "--max-steps", str(opts.steps + 5), "--output-format", "json"]
            task = "long task\n" + "Keep every detail of this specification.\n" * (
                opts.task_kb * 1024 // 41
            )
            proc = subprocess.run(
                [sys.executable, "-m", "kimicode", "-p", *flags],
                cwd=root,
                env=env,
                input=task,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"run failed ({proc.returncode}): {proc.stdout[-400:]} {proc.stderr[-400:]}")
        session_id = json.loads(proc.stdout)["session_id"]
        log = Path(tmp, "data", "sessions", f"{session_id}.jsonl")
        kinds: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        with log.open(encoding="utf-8") as fh:
            for line in fh:
                kind = json.loads(line).get("kind", "?")
                kinds[kind] += 1
                sizes[kind] += len(line.encode())
        load = subprocess.run(
            [sys.executable, "-c", LOAD, session_id], env=env, capture_output=True, text=True
        )
        if load.returncode != 0:
            sys.exit(f"load failed: {load.stderr[-400:]}")
        took, peak, messages = load.stdout.split()
        log_mb = log.stat().st_size / 1e6
    print(
        f"{opts.steps}-step run ({opts.kb} KB read and written per step, "
        f"{opts.window}-token window, {opts.task_kb} KB task), {wall:.1f} s"
    )
    print(f"{'session log':<28}{log_mb:>10.2f} MB")
    for kind, count in kinds.most_common():
        print(f"  {kind + ' records':<26}{count:>10}  {sizes[kind] / 1e6:>8.2f} MB")
    print(f"{'--continue load':<28}{float(took) * 1000:>10.0f} ms")
    print(f"{'--continue peak memory':<28}{float(peak):>10.0f} MB")
    print(f"{'messages resumed':<28}{int(messages):>10}")


if __name__ == "__main__":
    main()
