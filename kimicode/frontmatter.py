"""YAML front matter of Markdown files (skills, custom commands).

One parser for every `.md` file a user writes for kimicode, so a skill and a
command agree on what a header is. The header is data: `yaml.safe_load` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FrontMatterError(ValueError):
    """The header is missing, unterminated or not a YAML mapping; the message says which."""


@dataclass(frozen=True, slots=True)
class Document:
    meta: dict[str, Any]
    body: str


def parse(text: str, *, required: bool = True) -> Document:
    """Split `---\\n<yaml>\\n---\\n<body>`; without a header, an error or an empty mapping."""
    import yaml

    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        if required:
            raise FrontMatterError("no front matter: the file must start with a `---` line")
        return Document({}, text)
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        raise FrontMatterError("front matter is not closed by a `---` line")
    try:
        meta = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise FrontMatterError(f"front matter is not valid YAML{where}") from None
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter must be a mapping of `key: value` lines")
    return Document(meta, "".join(lines[end + 1 :]))
