"""The dashboard's live table: one row per sub-agent, cells updated in place.

Below `COMPACT_WIDTH` columns the table keeps only the columns that say what each
agent is doing, so a narrow terminal shows whole rows instead of cutting them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from kimicode.ui.tui.pricing import format_tokens
from kimicode.ui.tui.swarm_state import AgentState

COLUMNS = ("agent", "status", "files", "steps", "tool", "tokens", "elapsed", "merge", "task")
COMPACT = ("agent", "status", "steps", "elapsed", "task")
COMPACT_WIDTH = 100
WIDTHS = {"status": 9, "steps": 5, "tool": 12, "tokens": 7, "elapsed": 7, "merge": 8}
"""Columns whose content changes width while an agent runs get room up front."""
STATUS_STYLES = {
    "planned": "dim",
    "running": "yellow",
    "success": "green",
    "error": "red",
    "limit": "magenta",
    "cancelled": "dim red",
}


def row_cells(agent: AgentState, now: float) -> tuple[Text, ...]:
    """Every cell is a `Text`: DataTable parses a plain `str` as markup, and names,
    files and tasks come from the model."""
    elapsed = agent.elapsed(now)
    files = ", ".join(agent.files)
    return (
        Text(agent.name),
        Text(agent.status, style=STATUS_STYLES.get(agent.status, "")),
        Text(files if len(files) <= 28 else files[:27] + "…"),
        Text(str(agent.steps)),
        Text(agent.tool),
        Text(format_tokens(agent.tokens)),
        Text("" if elapsed is None else f"{elapsed:.0f}s"),
        Text(agent.merge, style="green" if agent.merge == "merged" else "red"),
        Text(agent.task if len(agent.task) <= 60 else agent.task[:59] + "…"),
    )


class AgentTable(DataTable[Any]):
    def __init__(self) -> None:
        super().__init__(id="agents", cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, tuple[Text, ...]] = {}
        self.columns_shown: tuple[str, ...] = ()
        self._task_width = 60

    def on_mount(self) -> None:
        self._lay_out(self.size.width or self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out(event.size.width)

    def _lay_out(self, width: int) -> None:
        wanted = COMPACT if width < COMPACT_WIDTH else COLUMNS
        self._task_width = 60 if wanted == COLUMNS else max(12, width - 38)
        if wanted == self.columns_shown:
            return
        self.clear(columns=True)
        self.columns_shown = wanted
        for column in wanted:
            self.add_column(column, key=column, width=WIDTHS.get(column))
        for name, cells in self._shown.items():
            self.add_row(*self._pick(cells), key=name)

    def _pick(self, cells: tuple[Text, ...]) -> list[Text]:
        return [
            self._fit(column, cell)
            for column, cell in zip(COLUMNS, cells, strict=True)
            if column in self.columns_shown
        ]

    def _fit(self, column: str, cell: Text) -> Text:
        if column != "task" or len(cell.plain) <= self._task_width:
            return cell
        return Text(cell.plain[: self._task_width - 1] + "…")

    def reset(self) -> None:
        self.clear()
        self._shown.clear()

    def sync(self, agents: list[AgentState], now: float) -> None:
        """Add new agents and rewrite only the cells that changed."""
        for agent in agents:
            cells = row_cells(agent, now)
            before = self._shown.get(agent.name)
            if before is None:
                self.add_row(*self._pick(cells), key=agent.name)
            else:
                for column, old, new in zip(COLUMNS, before, cells, strict=True):
                    if column not in self.columns_shown:
                        continue
                    if old.plain != new.plain or old.style != new.style:
                        self.update_cell(agent.name, column, self._fit(column, new))
            self._shown[agent.name] = cells

    def shows(self, name: str) -> bool:
        return name in self._shown

    def selected_agent(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)
