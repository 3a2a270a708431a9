"""Definitions and references in one source file, from its tree-sitter tags query.

The result is plain tuples and dicts so it pickles cheaply across a process
pool and marshals into the cache without a schema of its own.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode.repo.languages import language_for, parser, tags_query

MAX_FILE_BYTES = 1_000_000
"""Larger files are generated or vendored far more often than hand-written."""
MAX_LINE_CHARS = 100
_BINARY_SNIFF = 8192

_PYTHON_BUILTINS = frozenset(dir(builtins))
"""super(), len(), print(): uses of these say nothing about which project file matters."""

PlainTags = tuple[list[tuple[str, str, int, str]], dict[str, int]]
"""(definitions as (name, kind, line, text), references as name -> count)."""


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: str
    """What the query called it: class, function, method, type, id, ..."""
    line: int
    """1-based line of the name."""
    text: str
    """That source line, indentation kept, trailing space dropped, long lines cut."""


@dataclass(slots=True)
class FileTags:
    definitions: list[Definition] = field(default_factory=list)
    references: dict[str, int] = field(default_factory=dict)
    """Identifier -> how many times this file uses it."""

    def to_plain(self) -> PlainTags:
        defs = [(d.name, d.kind, d.line, d.text) for d in self.definitions]
        return defs, self.references

    @classmethod
    def from_plain(cls, plain: PlainTags) -> FileTags:
        defs, refs = plain
        return cls([Definition(*d) for d in defs], dict(refs))


def extract_tags(language: str, data: bytes) -> FileTags | None:
    """Tags of `data` parsed as `language`; None for binary or mostly unparsable text."""
    if b"\0" in data[:_BINARY_SNIFF] or _minified(data):
        return None
    tree = parser(language).parse(data)
    root = tree.root_node
    if root.has_error and _mostly_errors(root, len(data)):
        return None
    from tree_sitter import QueryCursor

    captures = QueryCursor(tags_query(language)).captures(root)
    tags = FileTags()
    seen_defs: set[tuple[str, int]] = set()
    def_starts: set[int] = set()
    for capture, nodes in sorted(captures.items()):
        if not capture.startswith("name.definition."):
            continue
        kind = capture.rsplit(".", 1)[1]
        for node in nodes:
            name = _text(data, node.start_byte, node.end_byte)
            line = node.start_point[0] + 1
            def_starts.add(node.start_byte)
            if not _good_name(name) or (name, line) in seen_defs:
                continue
            seen_defs.add((name, line))
            tags.definitions.append(Definition(name, kind, line, _line_text(data, node.start_byte)))
    tags.definitions.sort(key=lambda d: (d.line, d.name))
    counts: dict[bytes, int] = {}
    for capture, nodes in captures.items():
        if not capture.startswith("name.reference."):
            continue
        for node in nodes:
            if node.start_byte in def_starts:
                continue
            text = node.text
            if text is not None:
                counts[text] = counts.get(text, 0) + 1
    refs = tags.references
    ignored = _PYTHON_BUILTINS if language == "python" else frozenset()
    for raw, count in counts.items():
        for name in raw.decode("utf-8", "replace").split():
            if _good_name(name) and name not in ignored:
                refs[name] = refs.get(name, 0) + count
    return tags


def scan_file(root: str, rel: str) -> tuple[str, PlainTags | None]:
    """Read and tag one file; the unit of work of the cold scan (picklable both ways)."""
    language = language_for(rel)
    if language is None:
        return rel, None
    try:
        path = Path(root, rel)
        if path.stat().st_size > MAX_FILE_BYTES:
            return rel, None
        tags = extract_tags(language, path.read_bytes())
    except (OSError, ValueError, RuntimeError):
        return rel, None
    return rel, tags.to_plain() if tags is not None else None


def scan_batch(root: str, rels: list[str]) -> list[tuple[str, PlainTags | None]]:
    return [scan_file(root, rel) for rel in rels]


def _minified(data: bytes) -> bool:
    """Bundled or minified code: a few enormous lines, nobody's source to navigate."""
    return len(data) > 4096 and data.count(b"\n") * 400 < len(data)


def _mostly_errors(root: Any, size: int) -> bool:
    """A tree whose top level is more error than code: not worth mapping."""
    broken = sum(c.end_byte - c.start_byte for c in root.children if c.type == "ERROR")
    return bool(broken * 2 > max(size, 1))


def _text(data: bytes, start: int, end: int) -> str:
    return data[start:end].decode("utf-8", "replace")


def _good_name(name: str) -> bool:
    return 0 < len(name) <= 80 and not name.isspace()


def _line_text(data: bytes, pos: int) -> str:
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    if end < 0:
        end = len(data)
    line = data[start : min(end, start + 4 * MAX_LINE_CHARS)].decode("utf-8", "replace")
    line = line.rstrip().expandtabs(4)
    if len(line) > MAX_LINE_CHARS:
        line = line[: MAX_LINE_CHARS - 1] + "…"
    return line
