"""`AI!` and `AI?` comments: instructions a user leaves in their own files.

`# make this retry on timeout AI!` asks for a change; `// AI? why is this slow`
asks a question. The marker may open or close the comment text, in any case.
Consecutive whole-line comments form one block, so a long instruction can span
several lines with the marker on just one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HASH, _SLASH, _DASH, _SEMI, _PERCENT = "#", "//", "--", ";", "%"
_C_BLOCK, _HTML_BLOCK = ("/*", "*/"), ("<!--", "-->")

_LINE_PREFIXES: dict[str, tuple[str, ...]] = {}
_BLOCKS: dict[str, tuple[tuple[str, str], ...]] = {}
for _exts, _prefixes, _blocks in [
    (
        "py pyi sh bash zsh fish rb pl r yaml yml toml cfg conf ini nix cmake mk makefile "
        "dockerfile ex exs jl ps1 tf",
        (_HASH,),
        (),
    ),
    (
        "js mjs cjs jsx ts mts cts tsx go rs java c h cc cpp cxx hh hpp hxx cs swift kt kts "
        "scala dart groovy gradle proto zig v",
        (_SLASH,),
        (_C_BLOCK,),
    ),
    ("php", (_SLASH, _HASH), (_C_BLOCK,)),
    ("css scss less", (_SLASH,), (_C_BLOCK,)),
    ("sql lua hs elm ada", (_DASH,), (_C_BLOCK,)),
    ("lisp clj cljs el scm rkt asm s", (_SEMI,), ()),
    ("tex sty cls erl hrl m", (_PERCENT,), ()),
    ("html htm xml svg md markdown vue svelte astro", (), (_HTML_BLOCK,)),
]:
    for _ext in _exts.split():
        _LINE_PREFIXES[_ext] = _prefixes
        _BLOCKS[_ext] = _blocks
_ANY_PREFIXES = (_SLASH, _HASH, _DASH, _SEMI, _PERCENT)
_ANY_BLOCKS = (_C_BLOCK, _HTML_BLOCK)
# Vue and Svelte files hold scripts and styles too.
for _ext in ("vue", "svelte", "astro", "html", "htm"):
    _LINE_PREFIXES[_ext] = (_SLASH,)
    _BLOCKS[_ext] = (_HTML_BLOCK, _C_BLOCK)

_MARK_START = re.compile(r"^ai([!?])(?:\s+|$)(.*)$", re.IGNORECASE | re.DOTALL)
_MARK_END = re.compile(r"^(.*?)(?:^|\s)ai([!?])$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class AIComment:
    path: str
    line: int
    """1-based first line of the comment block."""
    end_line: int
    kind: str
    """"!" asks for a change, "?" asks a question."""
    text: str
    """The instruction, markers and comment syntax removed, lines joined with spaces."""
    cuts: tuple[tuple[int, int], ...]
    """(line, column) where each of the block's comments starts; column 0 is a whole line."""


@dataclass(frozen=True, slots=True)
class _Piece:
    line: int
    column: int
    text: str
    whole_line: bool


def find_ai_comments(text: str, path: str) -> list[AIComment]:
    """Every AI!/AI? comment block in `text`, in file order."""
    prefixes, blocks = _syntax_for(path)
    pieces = _comment_pieces(text.splitlines(), prefixes, blocks)
    found: list[AIComment] = []
    group: list[_Piece] = []
    for piece in pieces:
        joins = group and piece.whole_line and group[-1].whole_line
        if group and joins and piece.line == group[-1].line + 1:
            group.append(piece)
            continue
        found.extend(_as_comment(group, path))
        group = [piece]
    found.extend(_as_comment(group, path))
    return found


def remove_ai_comments(text: str, comments: list[AIComment]) -> str:
    """`text` without the given comments: whole comment lines go, trailing ones are cut."""
    cuts: dict[int, int] = {}
    for comment in comments:
        for row, col in comment.cuts:
            cuts[row] = min(col, cuts.get(row, col))
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    for number, line in enumerate(lines, start=1):
        column = cuts.get(number)
        if column is None:
            kept.append(line)
        elif column > 0:
            ending = line[len(line.rstrip("\r\n")) :]
            kept.append(line[:column].rstrip() + ending)
    return "".join(kept)


def _syntax_for(path: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else name
    if ext in _LINE_PREFIXES:
        return _LINE_PREFIXES[ext], _BLOCKS[ext]
    return _ANY_PREFIXES, _ANY_BLOCKS


def _comment_pieces(
    lines: list[str], prefixes: tuple[str, ...], blocks: tuple[tuple[str, str], ...]
) -> list[_Piece]:
    pieces: list[_Piece] = []
    open_block: tuple[str, int, list[str], int] | None = None  # closer, start line, text, column
    for number, line in enumerate(lines, start=1):
        if open_block is not None:
            closer, start, parts, column = open_block
            end = line.find(closer)
            parts.append((line if end < 0 else line[:end]).strip().lstrip("*").strip())
            if end >= 0:
                pieces.append(_Piece(start, column, " ".join(p for p in parts if p), column == 0))
                for inner in range(start + 1, number + 1):
                    pieces.append(_Piece(inner, 0, "", True))
                open_block = None
            continue
        found = _find_comment(line, prefixes, blocks)
        if found is None:
            continue
        column, opener, found_closer = found
        body = line[column + len(opener) :]
        whole = not line[:column].strip()
        if found_closer is None:
            pieces.append(_Piece(number, 0 if whole else column, body.strip(), whole))
            continue
        end = body.find(found_closer)
        if end >= 0:
            pieces.append(_Piece(number, 0 if whole else column, body[:end].strip(), whole))
        else:
            open_block = (found_closer, number, [body.strip()], 0 if whole else column)
    return pieces


def _find_comment(
    line: str, prefixes: tuple[str, ...], blocks: tuple[tuple[str, str], ...]
) -> tuple[int, str, str | None] | None:
    """The earliest comment opener on the line that starts it or follows a space."""
    best: tuple[int, str, str | None] | None = None
    for opener, closer in [*((p, None) for p in prefixes), *blocks]:
        start = 0
        while (column := line.find(opener, start)) >= 0:
            if column == 0 or line[column - 1].isspace():
                if best is None or column < best[0]:
                    best = (column, opener, closer)
                break
            start = column + 1
    return best


def _as_comment(group: list[_Piece], path: str) -> list[AIComment]:
    if not group:
        return []
    kind = None
    parts: list[str] = []
    for piece in group:
        text = piece.text
        if (m := _MARK_START.match(text)) is not None:
            kind = kind if kind == "!" else m.group(1)
            text = m.group(2)
        elif (m := _MARK_END.match(text)) is not None:
            kind = kind if kind == "!" else m.group(2)
            text = m.group(1)
        if text.strip():
            parts.append(text.strip())
    if kind is None:
        return []
    cuts = tuple((p.line, p.column) for p in group)
    return [AIComment(path, group[0].line, group[-1].line, kind, " ".join(parts), cuts)]
