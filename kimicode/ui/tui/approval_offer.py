"""What "always allow" the approval modal offers for a shell command.

A prefix (`pytest`, `git status`) for one plain command; never for a compound command
(`rm -rf build && echo removed` would have offered `rm`), a destructive one, or one
with a part only known when it runs (`rm $x`), where only that exact command is
remembered for the session (so too for one the parser cannot see through).
"""

from __future__ import annotations

from dataclasses import dataclass

from kimicode.trust.approvals import suggest_prefix
from kimicode.trust.shell_parse import analyse

DESTRUCTIVE = {
    "rm", "rmdir", "dd", "shred", "truncate", "mkfs", "wipefs", "kill", "killall", "pkill",
    "sudo", "su", "doas", "chmod", "chown", "chgrp", "mv", "find", "xargs", "curl", "wget",
}  # fmt: skip
"""Programs whose every use is judged on its own: a prefix would approve any later one."""
DESTRUCTIVE_GIT = {"push", "reset", "clean", "checkout", "restore", "rebase", "branch", "rm"}


@dataclass(frozen=True, slots=True)
class Offer:
    text: str
    """The prefix, or the whole command when `exact`."""
    exact: bool


def offer_for(command: str) -> Offer | None:
    view = analyse(command)
    parts = view.texts()
    if not parts:
        return None
    hidden = bool(view.unseen) or any(c.computed for c in view.commands)
    if len(parts) > 1 or hidden or _destructive(parts[0]) or _destructive(command):
        return Offer(" ".join(command.split()), exact=True)
    prefix = suggest_prefix(command)
    return Offer(prefix, exact=False) if prefix else None


def _destructive(simple: str) -> bool:
    words = simple.split()
    program = words[0].rsplit("/", 1)[-1]
    if program in DESTRUCTIVE:
        return True
    return program == "git" and len(words) > 1 and words[1] in DESTRUCTIVE_GIT
