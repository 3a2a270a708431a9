"""/help, `?` and F1: commands and keys as two aligned columns that fit a 45-row terminal.

Plain `Text`, not a Markdown table: a `|` in `/swarm [on|off]` split the table's cells.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kimicode.ui.tui import commands


def help_text(
    *,
    show_commands: bool = True,
    show_keys: bool = True,
    custom: tuple[commands.SlashCommand, ...] = (),
) -> Text:
    """`custom`: the project's and the user's own commands, listed after the built-in ones."""
    out = Text()
    if show_commands:
        out.append("Commands\n", style="bold")
        _command_rows(out, commands.COMMANDS)
    if show_commands and custom:
        out.append("Custom commands", style="bold")
        out.append("  .kimicode/commands/*.md\n", style="dim")
        _command_rows(out, custom)
    if show_keys:
        out.append("Keys\n", style="bold")
        for key, what in commands.KEYS:
            out.append(f"  {key:<22}", style="bold cyan")
            out.append(f"{what}\n")
    out.append(commands.MENTION_HINT, style="dim")
    return out


def _command_rows(out: Text, rows: tuple[commands.SlashCommand, ...]) -> None:
    for c in rows:
        usage = f"/{c.name}{' ' + c.args if c.args else ''}"
        out.append(f"  {usage:<18}", style="bold cyan")
        out.append(f"{c.help}\n")


class HelpPanel(Static):
    DEFAULT_CLASSES = "help"

    def __init__(
        self,
        *,
        show_commands: bool = True,
        show_keys: bool = True,
        custom: tuple[commands.SlashCommand, ...] = (),
    ) -> None:
        super().__init__(help_text(show_commands=show_commands, show_keys=show_keys, custom=custom))
