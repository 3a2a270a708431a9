"""What the dashboard shows, folded from swarm events; plain data, no Textual.

The app feeds every sub-agent event through `SwarmState.apply`, which returns
the names of agents whose row changed, so the table updates only those rows.
Each agent keeps a capped transcript that the "follow" pane reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kimicode import events as ev

TRANSCRIPT_CHARS = 60_000
_LIFECYCLE = (ev.AgentSpawned, ev.AgentFinished, ev.AgentMerged, ev.MergeConflict)


@dataclass(slots=True)
class AgentState:
    name: str
    task: str = ""
    files: list[str] = field(default_factory=list)
    status: str = "planned"
    branch: str = ""
    """Where its work is kept (from `AgentSpawned`); empty for read-only agents."""
    steps: int = 0
    tool: str = ""
    tool_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started: float | None = None
    duration_s: float | None = None
    merge: str = ""
    error: str = ""
    rate_limited: bool = False
    """Its model call was refused for the endpoint's rate limit and waits its turn."""
    transcript: list[str] = field(default_factory=list)
    transcript_chars: int = 0
    new_text: list[str] = field(default_factory=list)
    """Transcript pieces not yet written to a follow pane."""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def elapsed(self, now: float) -> float | None:
        if self.duration_s is not None:
            return self.duration_s
        return None if self.started is None else max(0.0, now - self.started)

    def write(self, text: str) -> None:
        self.transcript.append(text)
        self.new_text.append(text)
        self.transcript_chars += len(text)
        while self.transcript_chars > TRANSCRIPT_CHARS and len(self.transcript) > 1:
            self.transcript_chars -= len(self.transcript.pop(0))

    def take_new_text(self) -> str:
        text = "".join(self.new_text)
        self.new_text.clear()
        return text


@dataclass(slots=True)
class SwarmState:
    run_id: str = ""
    max_agents: int = 0
    agents: dict[str, AgentState] = field(default_factory=dict)
    finished: ev.SwarmFinished | None = None
    conflicts: list[ev.MergeConflict] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    main_steps: int = 0
    stopped: bool = False
    """The turn was cancelled mid-swarm: no `SwarmFinished` will come."""
    rate_limit: int | None = None
    """The endpoint's limit on requests in flight, once a 429 has cut it."""

    @property
    def active(self) -> bool:
        return bool(self.run_id) and self.finished is None and not self.stopped

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for agent in self.agents.values():
            out[agent.status] = out.get(agent.status, 0) + 1
        return out

    def waiting(self) -> int:
        """Agents waiting (rate limited) now."""
        return sum(a.rate_limited for a in self.agents.values())

    def total_steps(self) -> int:
        return self.main_steps + sum(a.steps for a in self.agents.values())

    def apply(self, event: ev.Event) -> str | None:
        """Fold one event in; the name of the agent whose row changed, if any."""
        if isinstance(event, ev.SwarmStarted):
            self._start(event)
            return None
        if isinstance(event, ev.SwarmFinished):
            self.finished = event
            self._never_started()  # queued agents cancelled from the dashboard
            return None
        if isinstance(event, _LIFECYCLE):
            return self._lifecycle(event)
        if event.agent == "main":
            if isinstance(event, ev.StepStarted):
                self.main_steps += 1
            return None
        agent = self.agents.get(event.agent)
        if agent is None:
            agent = self.agents[event.agent] = AgentState(event.agent, status="running")
        return self._agent_event(agent, event)

    def _start(self, event: ev.SwarmStarted) -> None:
        self.run_id = event.run_id
        self.max_agents = event.max_agents
        self.agents = {}
        self.finished = None
        self.conflicts = []
        self.merged = []
        self.main_steps = 0
        self.stopped = False
        self.rate_limit = None
        for task in event.tasks:
            name = str(task.get("name", ""))
            prompt = " ".join(str(task.get("prompt", "")).split())
            files = [str(f) for f in task.get("files", [])]
            self.agents[name] = AgentState(name, task=prompt, files=files)

    def _lifecycle(self, event: ev.Event) -> str | None:
        if isinstance(event, ev.AgentSpawned):
            agent = self.agents.setdefault(event.name, AgentState(event.name))
            agent.status, agent.started = "running", event.ts
            agent.files = event.files or agent.files
            agent.branch = event.branch
            return agent.name
        if isinstance(event, ev.AgentFinished):
            agent = self.agents.setdefault(event.name, AgentState(event.name))
            agent.status, agent.tool = event.status, ""
            agent.steps = max(agent.steps, event.steps)
            agent.tool_calls = max(agent.tool_calls, event.tool_calls)
            agent.prompt_tokens = max(agent.prompt_tokens, event.prompt_tokens)
            agent.completion_tokens = max(agent.completion_tokens, event.completion_tokens)
            agent.duration_s = event.duration_s
            agent.error = event.error or ""
            agent.write(f"\n── {event.status}: {event.error or event.summary}\n")
            return agent.name
        if isinstance(event, ev.AgentMerged):
            self.merged.append(event.name)
            if event.name in self.agents:
                self.agents[event.name].merge = "merged"
                return event.name
        if isinstance(event, ev.MergeConflict):
            self.conflicts.append(event)
            if event.name in self.agents:
                self.agents[event.name].merge = "conflict"
                return event.name
        return None

    def stop(self, now: float) -> set[str]:
        """The swarm's turn was cancelled: every agent not finished is cancelled; their names."""
        if not self.active:
            return set()
        self.stopped = True
        changed = self._never_started()
        for agent in self.agents.values():
            if agent.status == "running":
                agent.status, agent.tool = "cancelled", ""
                agent.duration_s = agent.elapsed(now)  # its clock stops with it
                changed.add(agent.name)
        return changed

    def _never_started(self) -> set[str]:
        changed = set()
        for agent in self.agents.values():
            if agent.status == "planned":
                agent.status = "cancelled"
                agent.error = "cancelled before it started"
                changed.add(agent.name)
        return changed

    def kept_branches(self) -> list[str]:
        """Branches that hold agents' work the merge did not take (kept for resume or clean)."""
        return [a.branch for a in self.agents.values() if a.branch and a.merge != "merged"]

    def _agent_event(self, agent: AgentState, event: ev.Event) -> str | None:
        match event:
            case ev.StepStarted(step=step):
                agent.steps = max(agent.steps, step)
                if agent.status == "planned":
                    agent.status = "running"
                return agent.name
            case ev.TextDelta(text=text):
                agent.write(text)
                return None
            case ev.ToolCallStarted(name=name, arguments=args):
                agent.tool = name
                agent.tool_calls += 1
                agent.write(f"\n● {name} {_short(args)}\n")
                return agent.name
            case ev.ToolCallFinished(ok=ok, output=output):
                agent.tool = ""
                agent.write(f"  {'✓' if ok else '✗'} {_short(output)}\n")
                return agent.name
            case ev.UsageReport(prompt_tokens=p, completion_tokens=c):
                agent.prompt_tokens += p
                agent.completion_tokens += c
                return agent.name
            case ev.RateLimited(limit=limit):
                agent.rate_limited, agent.tool = True, "waiting (rate limited)"
                self.rate_limit = limit
                return agent.name
            case ev.RateLimitRecovered(limit=limit):
                agent.rate_limited, agent.tool = False, ""
                self.rate_limit = limit
                return agent.name
            case ev.Notice(level=level, message=message):
                agent.write(f"\n[{level}] {message}\n")
                return None
        return None


def _short(value: object, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
