"""What the chat says when a swarm ends: finished (with its figures) or stopped by a cancel.

Counted from the dashboard's `SwarmState`, so a cancelled agent is never called failed,
and a stopped swarm says where the agents' work is and what to do with it.
"""

from __future__ import annotations

from kimicode import events as ev
from kimicode.ui.tui.swarm_state import SwarmState
from kimicode.ui.tui.wording import plural

SHOWN_BRANCHES = 3
NEXT_STEPS = (
    "Resume with `kimicode --continue` (or ask here to carry on); "
    "clean up with `kimicode swarm clean` (`--force` drops unmerged work too)"
)
"""After a stopped swarm: how to resume the agents' work, or clean it away."""


def finished_line(done: ev.SwarmFinished, state: SwarmState) -> str:
    counts = state.counts()
    cancelled = counts.get("cancelled", 0)
    failed = counts.get("error", 0) + counts.get("limit", 0)
    return (
        f"swarm finished: {done.merged}/{done.agents} merged, {failed} failed, "
        + (f"{cancelled} cancelled, " if cancelled else "")
        + f"{plural(done.conflicts, 'conflict')}; critical steps {done.critical_steps} of "
        f"{done.total_steps}, speedup {done.speedup:.1f}×"
    )


def stopped_line(state: SwarmState) -> str:
    agents = state.agents.values()
    cancelled = [a for a in agents if a.status == "cancelled"]
    waiting = sum(a.started is None for a in cancelled)
    finished = len(state.agents) - len(cancelled)
    line = f"swarm stopped: {plural(len(cancelled), 'agent')} cancelled"
    if waiting:
        line += f" ({waiting} had not started)"
    if finished:
        line += f", {finished} had finished (not merged)"
    branches = state.kept_branches()
    if branches:
        shown = ", ".join(branches[:SHOWN_BRANCHES])
        more = (
            f" and {len(branches) - SHOWN_BRANCHES} more" if len(branches) > SHOWN_BRANCHES else ""
        )
        line += f". Their work so far is kept on branches {shown}{more}"
    return f"{line}. {NEXT_STEPS}."
