"""The swarm dashboard: summary, live agent table, and the followed agent's transcript.

It reads a `SwarmState` the app keeps up to date; the app calls `refresh_from`
after each batch of events with the names of the agents that changed, so only
their rows are touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from kimicode.ui.tui.swarm_state import SwarmState
from kimicode.ui.tui.widgets.agent_table import AgentTable
from kimicode.ui.tui.widgets.agent_transcript import AgentTranscript
from kimicode.ui.tui.widgets.swarm_summary import SwarmSummary


class DashboardScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "close", "back to chat"),
        Binding("f", "follow", "follow agent"),
        Binding("c", "cancel_one", "cancel agent"),
        Binding("C", "cancel_all", "cancel all"),
    ]

    def __init__(
        self,
        state: SwarmState,
        cancel: Callable[[str | None], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(id="dashboard")
        self.state = state
        self.cancel = cancel
        self.clock = clock
        self._ready = False
        """Its widgets are mounted: it is `app.screen` a little before that."""

    def compose(self) -> ComposeResult:
        yield SwarmSummary()
        yield AgentTable()
        yield AgentTranscript()
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.full_refresh()

    def on_screen_resume(self) -> None:
        self.full_refresh()

    def full_refresh(self) -> None:
        table = self.query_one(AgentTable)
        if set(table._shown) - set(self.state.agents):
            table.reset()  # a new swarm replaced the old one
        self.refresh_from(set(self.state.agents))

    def refresh_from(self, changed: set[str]) -> None:
        """Redraw the summary, the changed rows, and the followed transcript."""
        if not self._ready:
            return  # on_mount draws everything
        self.query_one(SwarmSummary).show(self.state)
        table = self.query_one(AgentTable)
        # rows not shown yet join too, so they are added in plan order, whichever changed first
        agents = [a for n, a in self.state.agents.items() if n in changed or not table.shows(n)]
        table.sync(agents, self.clock())
        transcript = self.query_one(AgentTranscript)
        followed = self.state.agents.get(transcript.following or "")
        if followed is not None:
            transcript.catch_up(followed)

    def tick(self) -> None:
        """Once a second: elapsed times of running agents move on."""
        if not self._ready:
            return
        running = {a.name for a in self.state.agents.values() if a.status == "running"}
        if running:
            self.query_one(AgentTable).sync([self.state.agents[n] for n in running], self.clock())

    def action_close(self) -> None:
        self.dismiss(None)

    def action_follow(self) -> None:
        name = self.query_one(AgentTable).selected_agent()
        if name and name in self.state.agents:
            self.query_one(AgentTranscript).follow(self.state.agents[name])

    @on(DataTable.RowSelected)
    def _row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_follow()

    def action_cancel_one(self) -> None:
        name = self.query_one(AgentTable).selected_agent()
        if name is None:
            return
        if self.cancel(name):
            self.notify(f"cancelling {name}", markup=False)
        else:
            self.notify("no swarm is running", severity="warning")

    def action_cancel_all(self) -> None:
        if self.cancel(None):
            self.notify("cancelling every agent")
        else:
            self.notify("no swarm is running", severity="warning")
