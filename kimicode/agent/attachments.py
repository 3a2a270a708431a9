"""User attachments: `--image`, `--video` and `@path` mentions become content parts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kimicode.config import Settings
from kimicode.errors import ToolError, UsageError

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
VIDEO_EXT = {".mp4", ".webm", ".mov", ".mkv", ".avi"}
MENTION = re.compile(r"(?:(?<=\s)|^)@([^\s'\"`]+)")


def mentioned_media(prompt: str, root: Path) -> tuple[list[Path], list[Path]]:
    """Images and videos named as `@path` in the prompt that exist on disk."""
    images: list[Path] = []
    videos: list[Path] = []
    for match in MENTION.finditer(prompt):
        raw = match.group(1).rstrip(".,;:)")
        path = (root / raw).expanduser() if not raw.startswith("/") else Path(raw)
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix in IMAGE_EXT and suffix != ".gif":
            images.append(path)
        elif suffix in VIDEO_EXT or suffix == ".gif":
            (videos if _animated(path) else images).append(path)
    return images, videos


def _animated(path: Path) -> bool:
    if path.suffix.lower() != ".gif":
        return True
    from PIL import Image

    try:
        with Image.open(path) as img:
            return bool(getattr(img, "is_animated", False))
    except OSError:
        return False


async def build_user_content(
    prompt: str, images: list[Path], videos: list[Path], settings: Settings, api_key: str = ""
) -> str | list[dict[str, Any]]:
    """The first user message: plain text, or text plus image/video parts.

    A file that cannot be used (missing, corrupt, too big, a model without
    vision) is the user's input problem: a UsageError naming it, before any
    request is made.
    """
    if not images and not videos:
        return prompt
    if not settings.model.vision and images and not videos and settings.vision.self_check:
        return _reference_only(prompt, images)
    try:
        return await _media_parts(prompt, images, videos, settings, api_key)
    except ToolError as exc:
        hint = ""
        if not settings.model.vision and images and not videos:
            hint = (
                " To use the image only as the design the visual check compares with, "
                "add --visual-check."
            )
        raise UsageError(str(exc) + hint) from None


def _reference_only(prompt: str, images: list[Path]) -> str:
    """A model without vision and an explicit visual check: the images are only references."""
    for path in images:
        if not path.is_file():
            raise UsageError(f"--image {path}: no such file")
    names = ", ".join(p.name for p in images)
    return (
        f"{prompt}\n\n(The design image {names} is not shown to you: the model is configured "
        "without vision. When you finish, the page is rendered and compared with it, and "
        "the differences are described to you in words.)"
    )


async def _media_parts(
    prompt: str, images: list[Path], videos: list[Path], settings: Settings, api_key: str
) -> list[dict[str, Any]]:
    from kimicode.vision import images as img
    from kimicode.vision import upload, video

    img.ensure_vision(settings.model)
    parts: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    for path in images:
        if not path.is_file():
            raise UsageError(f"--image {path}: no such file")
        parts.append({"type": "text", "text": f"Attached image: {path.name}"})
        parts.append(img.image_part_from_path(path, settings.vision))
    for path in videos:
        if not path.is_file():
            raise UsageError(f"--video {path}: no such file")
        parts.append({"type": "text", "text": f"Attached video: {path.name}"})
        if await _takes_video(settings, api_key):
            parts.append(await upload.video_part(path, settings.model, api_key))
        else:
            parts.extend(video.frames_to_parts(await video.video_frames(path, settings.vision)))
    return parts


async def _takes_video(settings: Settings, api_key: str) -> bool:
    """`[model] video` when set, else what the endpoint's GET /models says."""
    from kimicode.vision import upload

    if settings.model.video is not None:
        return settings.model.video
    from kimicode.llm.capabilities import fetch_capabilities

    caps = await fetch_capabilities(settings.model, api_key)
    return upload.model_takes_video(settings.model, {"supports_video_in": caps.video_in})
