"""The dashboard's header: the plan's size, progress, critical steps, speedup, merges."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kimicode.ui.tui.swarm_notices import NEXT_STEPS
from kimicode.ui.tui.swarm_state import SwarmState


def summary_text(state: SwarmState) -> Text:
    out = Text()
    if not state.run_id:
        out.append(
            "No swarm has run in this session. Run kimicode with --swarm to let it split big tasks."
        )
        return out
    counts = state.counts()
    done = sum(n for status, n in counts.items() if status not in ("planned", "running"))
    out.append(f"swarm {state.run_id}", style="bold")
    out.append(f"  {len(state.agents)} agents planned, up to {state.max_agents} at once\n")
    out.append(f"running {counts.get('running', 0)}  ", style="yellow")
    out.append(f"done {done}/{len(state.agents)}  ")
    out.append(f"succeeded {counts.get('success', 0)}  ", style="green")
    failed = counts.get("error", 0) + counts.get("limit", 0)
    out.append(f"failed {failed}", style="red" if failed else "")
    cancelled = counts.get("cancelled", 0)
    if cancelled:
        out.append(f"  cancelled {cancelled}", style="dim red")
    if state.rate_limit is not None:
        out.append(
            f"  ·  waiting (rate limited) {state.waiting()}, limit {state.rate_limit} in flight",
            style="yellow",
        )
    finished = state.finished
    if state.stopped:
        out.append("\nstopped: the turn was cancelled; work so far is kept on the agents' branches")
        out.append(f"\n{NEXT_STEPS}", style="dim")
    elif finished is None:
        out.append(f"\nsteps so far {state.total_steps()}")
    else:
        out.append(
            f"\ncritical steps {finished.critical_steps} of {finished.total_steps} total"
            f"  ·  speedup {finished.speedup:.1f}×"
            f"  ·  wall {finished.wall_s:.0f}s vs {finished.agent_time_s:.0f}s of agent time"
        )
    out.append(f"\nmerged {len(state.merged)}", style="green")
    out.append(f"  conflicts {len(state.conflicts)}", style="red" if state.conflicts else "")
    for conflict in state.conflicts:
        out.append(f"\n  ✗ {conflict.name}: {', '.join(conflict.files)} — {conflict.inspect}")
    return out


class SwarmSummary(Static):
    def __init__(self) -> None:
        super().__init__(id="swarm-summary")

    def show(self, state: SwarmState) -> None:
        self.update(summary_text(state))
