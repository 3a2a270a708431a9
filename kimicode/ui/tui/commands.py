"""Slash commands: their names, one-line help, and parsing of what the user typed."""

from __future__ import annotations

from dataclasses import dataclass


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
    SlashCommand("undo", "", "revert the agent's last change set"),
    SlashCommand("cost", "", "tokens used and approximate cost"),
    SlashCommand("exit", "", "quit"),
)

KEYS: tuple[tuple[str, str], ...] = (
    ("enter", "send the prompt"),
    ("shift+enter / ctrl+j", "new line in the prompt"),
    ("up / down", "earlier prompts (on the first / last line)"),
    ("tab", "complete a /command or an @file"),
    ("ctrl+c", "cancel the running turn; press it twice to quit"),
    ("ctrl+s", "open the swarm dashboard"),
    ("ctrl+t", "show or hide all thinking"),
)


def parse(text: str) -> tuple[str, str] | None:
    """("model", "kimi-k2") for "/model kimi-k2"; None when `text` is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, rest = stripped[1:].partition(" ")
    return name.lower(), rest.strip()


def known(name: str) -> bool:
    return any(c.name == name for c in COMMANDS)


def completions(prefix: str) -> list[SlashCommand]:
    """Commands whose name starts with what follows the slash."""
    word = prefix.lstrip("/").lower()
    return [c for c in COMMANDS if c.name.startswith(word)]


def help_markdown() -> str:
    rows = "\n".join(
        f"| `/{c.name}{' ' + c.args if c.args else ''}` | {c.help} |" for c in COMMANDS
    )
    keys = "\n".join(f"| `{k}` | {v} |" for k, v in KEYS)
    return (
        "### Commands\n\n| command | what it does |\n| --- | --- |\n"
        f"{rows}\n\n### Keys\n\n| key | what it does |\n| --- | --- |\n{keys}\n\n"
        "Mention a file with `@path` (tab completes it); `@shot.png` attaches the image."
    )
