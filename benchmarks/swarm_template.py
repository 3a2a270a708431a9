"""The orchestrator's output tokens for N similar tasks: a full task list vs one template.

The same fan-out ("translate docs/page-NNN.md into French next to it", N=100 by
default) is run twice through the real binary against the replay server, once
with the orchestrator writing every task out and once with `template` plus
`items`. The replay server counts tokens as the model's own usage would (4
characters a token for what the model wrote: here the `spawn_agents` call);
the sub-agents' scripted turns declare zero output tokens, so the run's total
is the orchestrator's alone. Reported: the orchestrator's completion tokens,
the size of the call's arguments, and that both runs merged the same N files.

    python benchmarks/swarm_template.py [--tasks 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import replay_server

PROMPT = (
    "Translate docs/{item}.md into French and write the translation to "
    "docs/fr/{item}.md. Keep every heading level, code block, link target and the "
    "front matter keys as they are; translate the prose, link texts and the title. "
    "Use the formal 'vous'. Do not change docs/{item}.md itself."
)


def spawn_arguments(n: int, templated: bool) -> dict:
    names = [f"page-{i:03d}" for i in range(n)]
    if templated:
        return {
            "template": "Task {name}: " + PROMPT,
            "items": [{"name": p, "item": p, "files": [f"docs/fr/{p}.md"]} for p in names],
        }
    return {
        "tasks": [
            {
                "name": p,
                "prompt": f"Task {p}: " + PROMPT.replace("{item}", p),
                "files": [f"docs/fr/{p}.md"],
            }
            for p in names
        ]
    }


def build_script(n: int, templated: bool) -> dict:
    spawn = {"name": "spawn_agents", "arguments": spawn_arguments(n, templated)}
    free = {"usage": {"prompt_tokens": 1, "completion_tokens": 0}}
    sub = [
        {
            **free,
            "tool_calls": [
                {
                    "name": "write_file",
                    "arguments": {"path": "docs/fr/{1}.md", "content": "# Bonjour {1}\n"},
                }
            ],
        },
        {**free, "content": "Translated {1}."},
    ]
    return {
        "conversations": [
            {"match": "^Translate the docs", "turns": [{"tool_calls": [spawn]}, {"content": "ok"}]},
            {"match": r"^Task (page-\d+):", "turns": sub},
        ]
    }


def make_repo(root: Path, n: int) -> None:
    (root / "docs").mkdir(parents=True)
    for i in range(n):
        (root / "docs" / f"page-{i:03d}.md").write_text(f"# Page {i}\n\nHello.\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)


def run(n: int, templated: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        root = tmpdir / "repo"
        make_repo(root, n)
        with replay_server(build_script(n, templated), tmpdir) as (_url, env):
            out = subprocess.run(
                [sys.executable, "-m", "kimicode", "-p", "Translate the docs", "--swarm",
                 "--yolo", "--max-agents", str(min(n, 300)), "--output-format", "json"],
                cwd=root, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
        if out.returncode != 0:
            raise SystemExit(f"run failed ({out.returncode}):\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout)
        merged = sorted(p.name for p in (root / "docs" / "fr").glob("*.md"))
    agents = result["agents"]
    return {
        "orchestrator": result["usage"]["completion_tokens"],
        "chars": len(json.dumps(spawn_arguments(n, templated))),
        "merged": len(merged),
        "agents": len(agents),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    n = parser.parse_args().tasks
    full, templated = run(n, False), run(n, True)
    print(f"{n} similar tasks        {'output tokens':>14} {'call chars':>11} {'merged':>7}")
    for name, r in (("full task list", full), ("template + items", templated)):
        print(f"{name:22} {r['orchestrator']:>14} {r['chars']:>11} {r['merged']:>7}")
    saved = 1 - templated["orchestrator"] / full["orchestrator"]
    print(f"the template costs the orchestrator {saved:.0%} fewer output tokens")
    assert full["merged"] == templated["merged"] == n, (full, templated)


if __name__ == "__main__":
    main()
