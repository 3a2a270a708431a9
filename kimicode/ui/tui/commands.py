"""Slash commands: their names, one-line help, and parsing of what the user typed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    args: str
    help: str


COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("help", "", "show commands and keys"),
    SlashCommand("model", "[name]", "show or switch the model"),
    SlashCommand("thinking", "", "turn the model's thinking on or off"),
    SlashCommand("swarm", "[on|off]", "let the agent spawn sub-agents, or open the dashboard"),
    SlashCommand("clear", "", "start a fresh conversation"),
    SlashCommand("compact", "", "summarise the conversation to free context"),
    SlashCommand("resume", "[id]", "list saved sessions, or resume one"),
    SlashCommand("diff", "", "show uncommitted changes (git diff)"),
    SlashCommand("undo", "", "undo the agent's last file changes (shows them, asks first)"),
    SlashCommand("cost", "", "tokens used and approximate cost"),
    SlashCommand("exit", "", "quit"),
)

KEYS: tuple[tuple[str, str], ...] = (
    ("enter", "send; while a turn runs, queue it"),
    ("shift+enter / ctrl+j", "new line in the prompt"),
    ("up / down", "earlier prompts; up on empty edits a queued one"),
    ("tab", "complete a /command or an @file"),
    ("shift+tab", "permission mode: default, accept-edits, plan, yolo"),
    ("esc", "cancel the running turn"),
    ("ctrl+c", "cancel the running turn; twice to quit"),
    ("ctrl+d", "quit (on an empty prompt)"),
    ("pageup / pagedown", "scroll the chat"),
    ("ctrl+g", "edit the prompt in $EDITOR"),
    ("ctrl+o", "expand a collapsed paste in the prompt"),
    ("ctrl+s", "open the swarm dashboard"),
    ("ctrl+t", "show or hide all thinking"),
    ("? / f1", "these keys (? on an empty prompt)"),
)

MENTION_HINT = "@path attaches a text file (tab completes it); @shot.png attaches the image."


def parse(text: str) -> tuple[str, str] | None:
    """("model", "kimi-k2") for "/model kimi-k2"; None when `text` is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, rest = stripped[1:].partition(" ")
    return name.lower(), rest.strip()


def known(name: str) -> bool:
    return any(c.name == name for c in COMMANDS)


def completions(prefix: str, custom: tuple[SlashCommand, ...] = ()) -> list[SlashCommand]:
    """Commands (built in, then the project's `custom` ones) whose name starts with what
    follows the slash."""
    word = prefix.lstrip("/").lower()
    return [c for c in (*COMMANDS, *custom) if c.name.startswith(word)]


def load_custom(root: Path) -> tuple[SlashCommand, ...]:
    """The custom commands (`.kimicode/commands/*.md`, then the user's) as slash commands;
    reads their headers, so call it off the event loop. A built-in name wins."""
    from kimicode import custom_commands

    found = []
    for command in custom_commands.discover(root):
        if known(command.name):
            continue
        described = custom_commands.describe(command)
        what = described.description or f"custom command ({command.path.name})"
        found.append(SlashCommand(command.name, described.argument_hint, what))
    return tuple(found)


def welcome_line(model: str, root: Path) -> str:
    return (
        f"kimicode with {model} in {root.name or root} · /help for commands, ? for keys, "
        "shift+tab for modes"
    )
