"""A scripted swarm as the events a real one emits: no worktrees, no model."""

from __future__ import annotations

from kimicode import events as ev

T0 = 1_000.0


def planned(count: int) -> ev.SwarmStarted:
    tasks = [
        {
            "name": f"agent-{i}",
            "prompt": f"Translate page {i} into French",
            "files": [f"docs/p{i}.md"],
        }
        for i in range(count)
    ]
    return ev.SwarmStarted(run_id="run42", tasks=tasks, max_agents=16, base_commit="abc123", ts=T0)


def working(i: int, steps: int = 2) -> list[ev.Event]:
    name = f"agent-{i}"
    out: list[ev.Event] = [
        ev.AgentSpawned(
            name=name,
            files=[f"docs/p{i}.md"],
            branch=f"kimicode/run42/{name}",
            worktree=f"/tmp/wt/{name}",
            ts=T0,
        )
    ]
    for step in range(1, steps + 1):
        out += [
            ev.StepStarted(agent=name, step=step, ts=T0),
            ev.TextDelta(agent=name, text=f"{name} step {step}: reading ", ts=T0),
            ev.TextDelta(agent=name, text="the page.", ts=T0),
            ev.ToolCallStarted(
                agent=name,
                call_id=f"{name}-{step}",
                name="read_file",
                arguments={"path": f"docs/p{i}.md"},
                ts=T0,
            ),
            ev.ToolCallFinished(
                agent=name,
                call_id=f"{name}-{step}",
                name="read_file",
                ok=True,
                output="# Page",
                ts=T0,
            ),
            ev.UsageReport(agent=name, prompt_tokens=1000, completion_tokens=200, ts=T0),
        ]
    return out


def finished(i: int, status: str = "success") -> list[ev.Event]:
    name = f"agent-{i}"
    done = ev.AgentFinished(
        name=name,
        status=status,
        summary=f"translated p{i}",
        steps=2,
        tool_calls=2,
        prompt_tokens=2000,
        completion_tokens=400,
        duration_s=12.0 + i,
        error=None if status == "success" else "model kept failing",
        ts=T0,
    )
    merge: ev.Event = (
        ev.AgentMerged(name=name, files=[f"docs/p{i}.md"], ts=T0)
        if status == "success"
        else ev.MergeConflict(
            name=name,
            files=[f"docs/p{i}.md"],
            branch=f"kimicode/run42/{name}",
            inspect=f"git diff main...kimicode/run42/{name}",
            ts=T0,
        )
    )
    return [done, merge]


def swarm_finished(count: int) -> ev.SwarmFinished:
    return ev.SwarmFinished(
        run_id="run42",
        agents=count,
        merged=count - 1,
        failed=0,
        conflicts=1,
        wall_s=30.0,
        agent_time_s=150.0,
        speedup=5.0,
        critical_steps=5,
        total_steps=2 * count + 3,
        ts=T0,
    )


def play(emit, count: int, done: dict[int, str]) -> None:
    """A swarm of `count` working agents, those in `done` finished with the given status."""
    emit(planned(count))
    for i in range(count):
        for event in working(i):
            emit(event)
    for i, status in done.items():
        for event in finished(i, status):
            emit(event)
