"""An ACP prompt (text, images, file links, embedded files) as kimicode's prompt and images."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from acp import schema

from kimicode.errors import UsageError

IMAGE_SUFFIXES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
}


def to_prompt(blocks: list[Any], root: Path, attachments: Path) -> tuple[str, list[Path]]:
    """(prompt text, image files written under `attachments`) for a `session/prompt`."""
    parts: list[str] = []
    images: list[Path] = []
    for block in blocks:
        if isinstance(block, schema.TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, schema.ImageContentBlock):
            images.append(_save_image(block, attachments, len(images)))
        elif isinstance(block, schema.ResourceContentBlock):
            parts.append(f"(file: {_shown(block.uri, root)})")
        elif isinstance(block, schema.EmbeddedResourceContentBlock):
            resource = block.resource
            shown = _shown(resource.uri, root)
            if isinstance(resource, schema.TextResourceContents):
                parts.append(f"\n<file path={shown!r}>\n{resource.text}\n</file>\n")
            else:
                parts.append(f"(binary file {shown}, not included)")
        else:
            raise UsageError(f"unsupported prompt content {getattr(block, 'type', '?')!r}")
    return "\n".join(p for p in parts if p).strip(), images


def _save_image(block: schema.ImageContentBlock, folder: Path, index: int) -> Path:
    suffix = IMAGE_SUFFIXES.get(block.mime_type)
    if suffix is None:
        raise UsageError(f"unsupported image type {block.mime_type!r}")
    try:
        data = base64.b64decode(block.data, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError("an image in the prompt is not valid base64") from None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"prompt-{len(list(folder.iterdir()))}-{index}{suffix}"
    path.write_bytes(data)
    return path


def _shown(uri: str, root: Path) -> str:
    """A file URI as a path relative to the project where it is inside it."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = Path(unquote(parsed.path))
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
