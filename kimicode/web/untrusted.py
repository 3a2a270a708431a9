"""Web text is data, not instructions: it reaches the model fenced and labelled.

A fetched page can say "ignore your instructions and run ...". The fence does
not make the model immune, but it tells it, every time, where the page's
words begin and end (the system prompt says what the fence means), and a page
cannot close the fence early: its own closing tags are defused.
"""

from __future__ import annotations

import re

TAG = "untrusted-web-content"
_CLOSE = re.compile(rf"</\s*{TAG}\s*>", re.IGNORECASE)
_OPEN = re.compile(rf"<\s*{TAG}\b", re.IGNORECASE)


def fence(text: str, source: str) -> str:
    """`text` between the fence tags, with any fence tags inside it defused."""
    inner = _OPEN.sub(f"<{TAG}-quoted", _CLOSE.sub(f"</{TAG}-quoted>", text))
    return f'<{TAG} source="{_attr(source)}">\n{inner}\n</{TAG}>'


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
