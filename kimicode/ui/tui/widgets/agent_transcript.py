"""The followed agent's transcript, appended to live as its events arrive."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Log

from kimicode.ui.tui.swarm_state import AgentState


class AgentTranscript(Log):
    def __init__(self) -> None:
        super().__init__(id="transcript", max_lines=5_000, highlight=False)
        self.following: str | None = None
        self.border_title = "select an agent (enter) to follow it"

    def follow(self, agent: AgentState) -> None:
        self.following = agent.name
        self.border_title = Text(f"following {agent.name}")
        self.clear()
        agent.new_text.clear()
        self.write("".join(agent.transcript))

    def catch_up(self, agent: AgentState) -> None:
        text = agent.take_new_text()
        if text:
            self.write(text)
