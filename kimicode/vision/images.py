"""Images to OpenAI content parts: decoded, upright, within the model's size limits.

Every image the model sees (an `--image`, `view_image`, `read_file` on a
picture, a screenshot, a video frame) goes through here, so the limits in
`[vision]` hold in one place: the longest side is at most `max_side` and the
encoded bytes at most `max_bytes`. PNG is kept when it fits (screenshots stay
sharp); otherwise JPEG at falling quality, then at smaller sizes.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps, UnidentifiedImageError

from kimicode.errors import ToolError

if TYPE_CHECKING:
    from kimicode.config import ModelSettings, VisionSettings

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})
MAX_PIXELS = 90_000_000
"""Larger images are refused before decoding: they are decompression bombs or useless."""
_JPEG_QUALITIES = (85, 70, 55, 40)
_EXIF_ORIENTATION = 0x0112


class MediaError(ToolError):
    """An image or video that cannot be read or sent; the message says which and why."""


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def ensure_vision(model_settings: ModelSettings) -> None:
    """Refuse images for a model configured without vision, before the API does."""
    if not model_settings.vision:
        raise MediaError(
            f"model {model_settings.name} is configured without vision ([model] vision = false); "
            "images and videos cannot be sent to it. Use a model that takes images "
            "(e.g. --model kimi-k2.5) or set `vision = true` under [model] if it does."
        )


def image_part_from_bytes(data: bytes, name: str, settings: VisionSettings) -> dict[str, Any]:
    """An `image_url` content part for the image in `data` (`name` is for messages)."""
    img = open_image(data, name)
    source_format = img.format
    oriented = _orientation(img) not in (0, 1)
    img = _upright(img)
    if (
        source_format in ("PNG", "JPEG")
        and not oriented
        and max(img.size) <= settings.max_side
        and len(data) <= settings.max_bytes
    ):
        mime = "image/png" if source_format == "PNG" else "image/jpeg"
        return image_part(mime, data)
    return image_part_from_pil(img, settings, prefer_png=source_format != "JPEG")


def image_part_from_path(path: str | Path, settings: VisionSettings) -> dict[str, Any]:
    """Like `image_part_from_bytes`, reading the file (blocking: call via a thread)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise MediaError(f"{p} does not exist") from None
    except IsADirectoryError:
        raise MediaError(f"{p} is a directory, not an image") from None
    return image_part_from_bytes(data, p.name, settings)


def image_part_from_pil(
    img: Image.Image, settings: VisionSettings, *, prefer_png: bool = True
) -> dict[str, Any]:
    """Encode an already decoded image within the limits (frames, heat maps)."""
    mime, data = encode_within_limits(img, settings, prefer_png=prefer_png)
    return image_part(mime, data)


def image_part(mime: str, data: bytes) -> dict[str, Any]:
    url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}


def part_bytes(part: dict[str, Any]) -> tuple[str, bytes]:
    """(mime, bytes) of a data-URL image part: the inverse of `image_part`."""
    url = part["image_url"]["url"]
    header, _, payload = url.partition(",")
    return header.removeprefix("data:").removesuffix(";base64"), base64.b64decode(payload)


def open_image(data: bytes, name: str) -> Image.Image:
    """Decode `data` fully, or raise MediaError saying why it cannot be."""
    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PIXELS:
            raise MediaError(
                f"{name} is {img.width}x{img.height} pixels, more than the {MAX_PIXELS:,} "
                "kimicode decodes; resize it first"
            )
        img.seek(0)  # GIF, WebP: the first frame
        img.load()
    except MediaError:
        raise
    except Image.DecompressionBombError:
        raise MediaError(f"{name} is too large to decode safely (a decompression bomb?)") from None
    except UnidentifiedImageError:
        raise MediaError(
            f"{name} is not an image kimicode can read (PNG, JPEG, WebP or GIF expected)"
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(f"{name} is corrupt or truncated: {exc}") from None
    return img


def encode_within_limits(
    img: Image.Image, settings: VisionSettings, *, prefer_png: bool = True
) -> tuple[str, bytes]:
    """(mime, bytes) for `img` no larger than max_side and, when possible, max_bytes."""
    img = _fit_side(img, settings.max_side)
    if prefer_png:
        png = _encode(img, "PNG")
        if len(png) <= settings.max_bytes:
            return "image/png", png
    rgb = _flatten(img)
    while True:
        for quality in _JPEG_QUALITIES:
            jpeg = _encode(rgb, "JPEG", quality=quality)
            if len(jpeg) <= settings.max_bytes:
                return "image/jpeg", jpeg
        if max(rgb.size) <= 64:
            return "image/jpeg", jpeg
        rgb = rgb.resize(
            (max(1, rgb.width * 3 // 4), max(1, rgb.height * 3 // 4)), Image.Resampling.LANCZOS
        )


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:
        return 1


def _upright(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a malformed EXIF block should not hide the picture
        return img


def _fit_side(img: Image.Image, max_side: int) -> Image.Image:
    if max(img.size) <= max_side:
        return img
    scale = max_side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA")
    return img.resize(size, Image.Resampling.LANCZOS)


def _flatten(img: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no alpha."""
    if img.mode == "RGB":
        return img
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _encode(img: Image.Image, fmt: str, **options: Any) -> bytes:
    if fmt == "PNG" and img.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
        img = img.convert("RGBA")
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()
