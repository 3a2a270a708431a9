"""`run_subagent` runs from plain data alone, in a process that never builds a Session.

This is the seam a remote backend (Ray) calls: the driver below builds only the
plain inputs (settings, a model client, the tools, an event list, a budget, the
base commit and the task), runs one sub-agent against the replay server in a
real git worktree, and prints its outcome. The test then checks the work where
a user would look for it: on the agent's branch in the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import script, sub_agent, turn
from swarm_helpers import git

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import asyncio, json, sys
from pathlib import Path

from kimicode.agent.outcome import Budget
from kimicode.config import load_settings
from kimicode.llm.client import OpenAIChatModel
from kimicode.swarm.snapshot import prepare_base
from kimicode.swarm.subagent import SubAgentEnv, run_subagent
from kimicode.swarm.tasks import TaskSpec
from kimicode.tools.registry import core_tools


async def main(root: Path, url: str) -> dict:
    flags = {"model.base_url": url, "model.api_key": "sk-test-plain", "model.name": "kimi-k2.5"}
    settings = load_settings(root, flags)
    events = []
    env = SubAgentEnv(
        settings=settings,
        model=OpenAIChatModel(settings.model, settings.retry, settings.api_key()),
        tools=tuple(core_tools()),
        emit=events.append,
        budget=Budget(20),
    )
    base = await prepare_base(root, "plain1")
    task = TaskSpec(name="writer", prompt="Task writer: set VALUE.", files=["src/mod1.py"])
    out = await run_subagent(task, base, "plain1", env)
    return {
        "status": out.status,
        "error": out.error,
        "summary": out.summary,
        "steps": out.steps,
        "branch": out.commit.branch if out.commit else None,
        "changed": out.commit.changed if out.commit else [],
        "events": sorted({type(e).__name__ for e in events}),
        "session_loaded": "kimicode.session" in sys.modules,
    }


print(json.dumps(asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))))
"""


def test_run_subagent_runs_from_plain_data_in_a_process_without_a_session(
    repo: Path, replay
) -> None:
    server = replay(
        script(
            sub_agent(
                "writer",
                [
                    turn(
                        tool_calls=[
                            {
                                "name": "write_file",
                                "arguments": {"path": "src/mod1.py", "content": "VALUE = 'one'\n"},
                            }
                        ]
                    ),
                    turn("VALUE is now 'one'."),
                ],
            )
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(repo), server.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "success", out
    assert out["summary"] == "VALUE is now 'one'."
    assert out["changed"] == ["src/mod1.py"]
    assert out["session_loaded"] is False
    assert {"AgentSpawned", "ToolCallFinished", "AgentFinished"} <= set(out["events"])
    # the work is on the agent's branch; the user's tree is untouched
    assert git(repo, "show", f"{out['branch']}:src/mod1.py") == "VALUE = 'one'\n"
    assert (repo / "src/mod1.py").read_text() == "VALUE = 1\n"
