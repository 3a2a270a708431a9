"""Custom commands: `.kimicode/commands/<name>.md` is `/name` in the TUI and `kimicode -p /name`.

The file is a prompt template, written as Claude Code users write theirs: an
optional YAML header (`description`, `argument-hint`), then the body where
`$ARGUMENTS` is everything after the name and `$1`…`$9` the words of it.
Project commands win over the user's (`~/.config/kimicode/commands/`). A broken
file is an error naming the file and what to fix; it never runs half-expanded.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from kimicode.errors import UsageError
from kimicode.frontmatter import FrontMatterError, parse
from kimicode.paths import config_dir

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
PLACEHOLDER = re.compile(r"\$(?:(ARGUMENTS)\b|([1-9])(?![0-9])|\{([^}]*)\}|\{)")
MAX_BYTES = 256 * 1024


class CommandTemplateError(UsageError):
    """A command file that cannot be expanded; says which file and why."""


@dataclass(frozen=True, slots=True)
class CustomCommand:
    name: str
    path: Path
    description: str = ""
    argument_hint: str = ""


def command_dirs(root: Path) -> list[Path]:
    """Where commands are looked for, first wins."""
    return [root / ".kimicode" / "commands", config_dir() / "commands"]


def discover(root: Path) -> list[CustomCommand]:
    """Every command file by name (headers are read when a command runs, not here)."""
    found: dict[str, CustomCommand] = {}
    for folder in command_dirs(root):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            name = path.stem.lower()
            if NAME.match(name) and name not in found and path.is_file():
                found[name] = CustomCommand(name, path)
    return list(found.values())


def find(root: Path, name: str) -> CustomCommand | None:
    return next((c for c in discover(root) if c.name == name.lower()), None)


def describe(command: CustomCommand) -> CustomCommand:
    """The command with its header's description and argument hint (best effort)."""
    try:
        meta = parse(_read(command.path), required=False).meta
    except (CommandTemplateError, FrontMatterError):
        return command
    return CustomCommand(
        command.name,
        command.path,
        str(meta.get("description") or ""),
        str(meta.get("argument-hint") or ""),
    )


def expand(command: CustomCommand, arguments: str) -> str:
    """The prompt `/name arguments` stands for; CommandTemplateError when the file is broken."""
    try:
        body = parse(_read(command.path), required=False).body.strip()
    except FrontMatterError as exc:
        raise CommandTemplateError(f"{command.path}: {exc}") from None
    if not body:
        raise CommandTemplateError(f"{command.path}: the command has no prompt text")
    try:
        words = shlex.split(arguments)
    except ValueError:
        words = arguments.split()
    used = False

    def fill(match: re.Match[str]) -> str:
        nonlocal used
        whole, position, braced = match.group(1), match.group(2), match.group(3)
        if braced is not None:
            if braced == "ARGUMENTS":
                whole = braced
            elif braced.isdigit() and 1 <= int(braced) <= 9:
                position = braced
            else:
                return match.group(0)  # ${HOME} and the like are the prompt's own text
        if whole:
            used = True
            return arguments
        if position:
            used = True
            index = int(position) - 1
            return words[index] if index < len(words) else ""
        line = body.count("\n", 0, match.start()) + 1
        raise CommandTemplateError(
            f"{command.path}: `${{` without a closing `}}` in the prompt (line {line} of the body)"
        )

    text = PLACEHOLDER.sub(fill, body)
    if arguments and not used:
        text += f"\n\nARGUMENTS: {arguments}"
    return text


def prompt_for(root: Path, text: str) -> str:
    """`text` itself, or the expansion when it starts with `/name` of a custom command.

    `/name` that names no command is an error listing the ones there are, unless
    it is a path that exists (a prompt may start with `/etc/hosts is wrong`).
    """
    match = re.match(r"(/\S+)(?:\s+(.*))?$", text.strip(), re.S)
    if match is None or not NAME.match(match.group(1)[1:].lower()):
        return text
    head, rest = match.group(1), match.group(2) or ""
    command = find(root, head[1:])
    if command is not None:
        return expand(command, rest.strip())
    if Path(head).exists():
        return text
    names = ", ".join(f"/{c.name}" for c in discover(root)) or "none"
    folders = " or ".join(str(d) for d in command_dirs(root))
    raise UsageError(f"no custom command {head} (commands: {names}; add one in {folders})")


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()[:MAX_BYTES]
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandTemplateError(f"{path}: cannot read the command: {exc}") from None
