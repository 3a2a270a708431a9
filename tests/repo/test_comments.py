"""AI!/AI? comments in the comment syntax of each language, and their removal."""

from __future__ import annotations

import pytest

from kimicode.repo.comments import find_ai_comments, remove_ai_comments


def kinds_and_texts(text: str, path: str) -> list[tuple[int, str, str]]:
    return [(c.line, c.kind, c.text) for c in find_ai_comments(text, path)]


def test_python_block_joined_and_trailing_question() -> None:
    source = (
        "import time\n"
        "# make this retry\n"
        "# on timeout AI!\n"
        "def fetch():\n"
        "    return 1  # ai? why one\n"
        "# an ordinary comment\n"
        "x = 'AI! inside a string'\n"
    )
    assert kinds_and_texts(source, "net.py") == [
        (2, "!", "make this retry on timeout"),
        (5, "?", "why one"),
    ]
    cleaned = remove_ai_comments(source, find_ai_comments(source, "net.py"))
    assert cleaned == (
        "import time\n"
        "def fetch():\n"
        "    return 1\n"
        "# an ordinary comment\n"
        "x = 'AI! inside a string'\n"
    )


def test_javascript_line_and_block_comments() -> None:
    source = "/* rename to draw\n * everywhere AI!\n */\nfunction paint() {} // AI? is it used\n"
    assert kinds_and_texts(source, "ui.js") == [
        (1, "!", "rename to draw everywhere"),
        (4, "?", "is it used"),
    ]
    assert remove_ai_comments(source, find_ai_comments(source, "ui.js")) == "function paint() {}\n"


def test_html_comment() -> None:
    source = "<ul>\n  <!-- AI! sort these items -->\n  <li>b</li>\n</ul>\n"
    assert kinds_and_texts(source, "list.html") == [(2, "!", "sort these items")]
    assert remove_ai_comments(source, find_ai_comments(source, "list.html")) == (
        "<ul>\n  <li>b</li>\n</ul>\n"
    )


def test_css_comment() -> None:
    assert kinds_and_texts(".a { color: red; } /* ai? why red */\n", "s.css") == [
        (1, "?", "why red")
    ]


def test_sql_comment() -> None:
    source = "SELECT * FROM users; -- add a limit AI!\n"
    assert kinds_and_texts(source, "q.sql") == [(1, "!", "add a limit")]
    assert remove_ai_comments(source, find_ai_comments(source, "q.sql")) == "SELECT * FROM users;\n"


def test_go_comment() -> None:
    source = "package main\n\n// AI! pass a context\nfunc run() {}\n"
    assert kinds_and_texts(source, "main.go") == [(3, "!", "pass a context")]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("a.py", "# send email to the AI team\n"),
        ("a.py", "# MAIL!\n"),
        ("a.js", "const s = 'x'; // nothing here\n"),
        ("a.py", "print('# AI! not a comment')  \n"),
    ],
)
def test_text_that_is_not_an_instruction(path: str, source: str) -> None:
    assert find_ai_comments(source, path) == []


def test_other_comment_syntaxes_for_unknown_files() -> None:
    assert kinds_and_texts("; tidy this up AI!\n", "init.el")[0][1:] == ("!", "tidy this up")
    assert kinds_and_texts("% AI? what does this macro do\n", "paper.tex")[0][1:] == (
        "?",
        "what does this macro do",
    )
    assert kinds_and_texts("key = 1 # AI! rename\n", "settings.unknown")[0][1:] == ("!", "rename")
