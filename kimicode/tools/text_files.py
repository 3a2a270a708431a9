"""Decoding file bytes as text the way every file tool agrees on."""

from __future__ import annotations

from kimicode.errors import ToolError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"})


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data


def decode_text(data: bytes, rel: str) -> str:
    """UTF-8 text of a file, or a ToolError naming it as binary."""
    if looks_binary(data):
        raise ToolError(f"{rel} is a binary file; it cannot be shown as text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{rel} is a binary file (not valid UTF-8 text)") from None


def split_lines(text: str) -> list[str]:
    """Lines without their endings (a trailing newline adds no empty line)."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def count_lines(text: str) -> int:
    return len(split_lines(text))
