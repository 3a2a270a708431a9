"""The dashboard's live table: one row per sub-agent, cells updated in place.

Below `COMPACT_WIDTH` columns the table keeps only the columns that say what each
agent is doing, so a narrow terminal shows whole rows instead of cutting them.

With 300 agents streaming, a batch changes hundreds of cells: each row is kept
as plain strings and compared as such (a `Text` is made only for a cell that
changed), and the changed cells are written together with one refresh, where
`DataTable.update_cell` would schedule a repaint for every one of them. A
repaint redraws every visible row, so with more than `MANY_ROWS` agents the
table repaints for new data at most every `REPAINT_S` (a key press still
repaints at once, with the data as it is): the app stays free for the keys.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from kimicode.ui.tui.pricing import format_tokens
from kimicode.ui.tui.swarm_state import AgentState

COLUMNS = ("agent", "status", "files", "steps", "tool", "tokens", "elapsed", "merge", "task")
COMPACT = ("agent", "status", "steps", "elapsed", "task")
COMPACT_WIDTH = 100
MANY_ROWS = 60
REPAINT_S = 0.25
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


def row_values(agent: AgentState, now: float) -> tuple[str, ...]:
    """The row as plain strings, in `COLUMNS` order (styles follow from the values)."""
    elapsed = agent.elapsed(now)
    files = ", ".join(agent.files)
    return (
        agent.name,
        agent.status,
        files if len(files) <= 28 else files[:27] + "…",
        str(agent.steps),
        agent.tool,
        format_tokens(agent.tokens),
        "" if elapsed is None else f"{elapsed:.0f}s",
        agent.merge,
        agent.task if len(agent.task) <= 60 else agent.task[:59] + "…",
    )


def cell(column: str, value: str) -> Text:
    """A cell is always a `Text`: DataTable parses a plain `str` as markup, and names,
    files and tasks come from the model."""
    if column == "status":
        return Text(value, style=STATUS_STYLES.get(value, ""))
    if column == "merge":
        return Text(value, style="green" if value == "merged" else "red")
    return Text(value)


class AgentTable(DataTable[Any]):
    def __init__(self) -> None:
        super().__init__(id="agents", cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, tuple[str, ...]] = {}
        self.columns_shown: tuple[str, ...] = ()
        self._task_width = 60
        self._painted = 0.0
        self._repaint_due = False

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
        for name, values in self._shown.items():
            self.add_row(*self._pick(values), key=name)

    def _pick(self, values: tuple[str, ...]) -> list[Text]:
        return [
            self._fit(column, value)
            for column, value in zip(COLUMNS, values, strict=True)
            if column in self.columns_shown
        ]

    def _fit(self, column: str, value: str) -> Text:
        if column == "task" and len(value) > self._task_width:
            value = value[: self._task_width - 1] + "…"
        return cell(column, value)

    def reset(self) -> None:
        self.clear()
        self._shown.clear()

    def sync(self, agents: list[AgentState], now: float) -> None:
        """Add new agents and rewrite only the cells that changed, with one repaint."""
        shown = self.columns_shown
        changed = False
        for agent in agents:
            values = row_values(agent, now)
            before = self._shown.get(agent.name)
            if before is None:
                self.add_row(*self._pick(values), key=agent.name)
            elif before != values:
                row = self._data[RowKey(agent.name)]
                for column, old, new in zip(COLUMNS, before, values, strict=True):
                    if old != new and column in shown:
                        row[ColumnKey(column)] = self._fit(column, new)
                        changed = True
            self._shown[agent.name] = values
        if changed:  # what `update_cell` does for each cell, once for them all
            self._update_count += 1
            self._repaint()

    def _repaint(self) -> None:
        now = time.monotonic()
        if len(self._shown) <= MANY_ROWS or now - self._painted >= REPAINT_S:
            self._painted = now
            self.refresh()
        elif not self._repaint_due:
            self._repaint_due = True
            self.set_timer(REPAINT_S - (now - self._painted), self._repaint_now)

    def _repaint_now(self) -> None:
        self._repaint_due = False
        self._painted = time.monotonic()
        self.refresh()

    def shows(self, name: str) -> bool:
        return name in self._shown

    def selected_agent(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)
