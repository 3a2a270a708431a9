"""Which tree-sitter grammar and tags query a file gets, by its extension.

Grammars and compiled queries are loaded once per process on first use, so a
repo with no Rust never imports the Rust grammar.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from tree_sitter import Language, Parser, Query

QUERIES_DIR = Path(__file__).with_name("queries")

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".html": "html",
    ".htm": "html",
    ".css": "css",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
}

# language name -> (grammar module, function returning the language pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "html": ("tree_sitter_html", "language"),
    "css": ("tree_sitter_css", "language"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

LANGUAGES = tuple(_GRAMMARS)
"""Languages of the repo map (each has a tags query)."""

_GRAMMARS["bash"] = ("tree_sitter_bash", "language")  # for permission rules, not the map


def language_for(path: str) -> str | None:
    """The language name for a file path, or None when no grammar covers it."""
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:]:
        return None
    return EXTENSIONS.get(path[dot:].lower())


@cache
def grammar(name: str) -> Language:
    module_name, attr = _GRAMMARS[name]
    module = importlib.import_module(module_name)
    return Language(getattr(module, attr)())


@cache
def parser(name: str) -> Parser:
    return Parser(grammar(name))


QUERY_BASES = {"tsx": "typescript"}
"""A grammar that extends another uses that one's query, then its own additions."""


@cache
def tags_query(name: str) -> Query:
    names = [QUERY_BASES[name], name] if name in QUERY_BASES else [name]
    source = "\n".join((QUERIES_DIR / f"{n}-tags.scm").read_text(encoding="utf-8") for n in names)
    return Query(grammar(name), source)
