"""When a shell command may hide what a permission rule names.

The parser (`shell_parse`) says what it could not see: a line that does not
parse, a computed program, a shell reading a pipe; and which words are only
known when the command runs (`git $x`, `xargs git`). A rule that never matched
the visible text could still match what runs, so such a command asks instead
of slipping past a deny or ask rule.
"""

from __future__ import annotations

import os
import re

from kimicode.trust.shell_parse import ShellView, SimpleCommand


def hidden_from(view: ShellView, rules: list[tuple[str, str | None]]) -> tuple[str, str] | None:
    """(rule text, why) for the first of `rules` (text, spec) the command may run unseen."""
    with_spec = [(text, spec) for text, spec in rules if spec is not None]
    if not with_spec:
        return None
    if view.unseen:
        text = with_spec[0][0]
        why = "; ".join(view.unseen)
        return text, f"kimicode cannot see all this command runs ({why}) to check `{text}`"
    for command in view.commands:
        for text, spec in with_spec:
            if spec is not None and could_match(spec, command):
                return text, (
                    f"`{command.text}` is only known when it runs, and it could be "
                    f"what `{text}` names"
                )
    return None


def could_match(spec: str, command: SimpleCommand) -> bool:
    """Whether a command with a computed word could, once it runs, match `spec`.

    The known words must agree with the pattern's fixed start: `git $x` could
    be `git push`; `echo $x` cannot be.
    """
    if not command.computed:
        return False
    fixed = spec[:-2] if spec.endswith(":*") else spec
    fixed = re.split(r"[*?]", fixed, maxsplit=1)[0]
    known = command.known_text
    head, _, rest = known.partition(" ")
    forms = {known, f"{os.path.basename(head)} {rest}".strip()} - {""}
    return any(fixed.startswith(f"{k} ") or k.startswith(fixed) for k in forms)
