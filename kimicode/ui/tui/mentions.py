"""`@file.py` in a prompt attaches the file's text; `@missing.py` gets a warning.

Images and videos stay with the core (`agent.attachments`), which turns them into
image parts; this module only handles text. Paths resolve through the workspace,
so a mention cannot reach outside the project. Each file is capped at
`MAX_CHARS`; the model is told when one was cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kimicode.agent.attachments import IMAGE_EXT, MENTION, VIDEO_EXT
from kimicode.errors import KimicodeError
from kimicode.tools.workspace import Workspace

MAX_CHARS = 40_000
"""Per attached file: about 10k tokens."""


@dataclass(slots=True)
class Attached:
    text: str = ""
    """What the model gets after the prompt: one block per attached file."""
    chips: list[str] = field(default_factory=list)
    """One short label per attached file, shown under the prompt."""
    warnings: list[str] = field(default_factory=list)


async def attach_mentions(prompt: str, workspace: Workspace) -> Attached:
    out = Attached()
    blocks: list[str] = []
    seen: set[str] = set()
    for match in MENTION.finditer(prompt):
        raw = match.group(1).rstrip(".,;:)")
        if not raw or raw in seen or raw.lower().endswith((*IMAGE_EXT, *VIDEO_EXT)):
            continue
        seen.add(raw)
        try:
            path = workspace.resolve(raw)
            data = await workspace.read_bytes(path)
        except KimicodeError as exc:
            out.warnings.append(f"@{raw} not attached: {exc}")
            continue
        if b"\0" in data[:8192]:
            out.warnings.append(f"@{raw} not attached: it is not a text file")
            continue
        text = data.decode("utf-8", errors="replace")
        cut = len(text) > MAX_CHARS
        rel = workspace.rel(path)
        note = f" (first {MAX_CHARS:,} of {len(text):,} characters)" if cut else ""
        blocks.append(f'<file path="{rel}"{note}>\n{text[:MAX_CHARS]}\n</file>')
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        out.chips.append(f"{rel} · {lines} lines" + (" · cut" if cut else ""))
    if blocks:
        out.text = "\n\nAttached files:\n\n" + "\n\n".join(blocks)
    return out
