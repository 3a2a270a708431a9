"""A fetched body as text the model can read: the article of a page, a PDF's text, plain text.

HTML goes through trafilatura, which keeps the main content (the article, not
the navigation, ads and footer) and writes it as Markdown. Text is decoded by
the declared charset, else by detection, so a page in an odd encoding reads
as words rather than mojibake.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from kimicode.errors import ToolError

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
PDF_TYPE = "application/pdf"


@dataclass(slots=True)
class Readable:
    title: str
    text: str
    kind: str
    """"html", "pdf", "json" or "text"."""


def readable(body: bytes, content_type: str, charset: str | None, url: str) -> Readable:
    """The body as readable text, or a ToolError for content that is not text."""
    kind = _sniff(body, content_type)
    if kind == "html":
        return _html(body, charset, url)
    if kind == "pdf":
        return _pdf(body)
    text = decode(body, charset)
    if kind == "json":
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return Readable("", text, kind)


def decode(body: bytes, charset: str | None) -> str:
    if charset:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", errors="replace")


def _sniff(body: bytes, content_type: str) -> str:
    if content_type in HTML_TYPES:
        return "html"
    if content_type == PDF_TYPE or body.startswith(b"%PDF-"):
        return "pdf"
    if content_type.endswith("json"):
        return "json"
    if content_type.startswith(TEXT_TYPES) or content_type.endswith(("+xml", "+json")):
        return "text"
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    if not content_type and b"\x00" not in body[:4096]:
        return "text"
    raise ToolError(
        f"the answer is {content_type or 'binary data'}, not a page, text, JSON, PDF or image"
    )


def _html(body: bytes, charset: str | None, url: str) -> Readable:
    import trafilatura

    html = decode(body, charset)
    markdown = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_links=True,
        include_formatting=True,
        include_tables=True,
        include_comments=False,
        with_metadata=False,
    )
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta is not None else None) or ""
    if not markdown:  # no main content found: fall back to all the page's text
        markdown = _all_text(html)
    if title and not markdown.lstrip().startswith("#"):
        markdown = f"# {title}\n\n{markdown}"
    return Readable(title, markdown.strip(), "html")


def _all_text(html: str) -> str:
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, SyntaxError):
        return ""
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    lines = (line.strip() for line in tree.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _pdf(body: bytes) -> Readable:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata: Any = reader.metadata or {}
        title = str(metadata.get("/Title") or "")
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ToolError(f"the PDF could not be read: {exc}") from None
    text = "\n\n".join(f"--- page {i} ---\n{t.strip()}" for i, t in enumerate(pages, 1))
    return Readable(title, text, "pdf")
