"""Videos as `video_url` parts, for models that take video directly.

Moonshot's API wants the file uploaded first (files endpoint, purpose
"video") and then referenced as `ms://<file_id>`; other endpoints that take
video get a base64 data URL. Models that do not take video get sampled frames
instead (`kimicode.vision.video`).
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimicode.vision.images import MediaError

if TYPE_CHECKING:
    from kimicode.config import ModelSettings

_VIDEO_MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime"}


def model_takes_video(
    model_settings: ModelSettings, capabilities: Mapping[str, Any] | None = None
) -> bool:
    """Config decides when set; otherwise the endpoint's GET /models entry does."""
    if model_settings.video is not None:
        return model_settings.video
    return bool(capabilities and capabilities.get("supports_video_in"))


def is_moonshot(model_settings: ModelSettings) -> bool:
    """Moonshot's API: by provider setting, or a base URL on moonshot's domains."""
    return model_settings.provider == "moonshot" or "moonshot" in model_settings.base_url.lower()


def video_mime(path: Path) -> str:
    return _VIDEO_MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "video/mp4"


async def video_part(path: Path, model_settings: ModelSettings, api_key: str) -> dict[str, Any]:
    """A `video_url` content part: uploaded on Moonshot, a data URL elsewhere."""
    try:
        data = await asyncio.to_thread(Path(path).read_bytes)
    except OSError as exc:
        raise MediaError(f"cannot read video {path}: {exc}") from None
    if is_moonshot(model_settings):
        file_id = await upload_video(
            path.name, data, video_mime(path), model_settings.base_url, api_key
        )
        url = f"ms://{file_id}"
    else:
        url = f"data:{video_mime(path)};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "video_url", "video_url": {"url": url}}


async def upload_video(name: str, data: bytes, mime: str, base_url: str, api_key: str) -> str:
    """Upload through the OpenAI-compatible files endpoint with purpose "video"; the file id.

    The openai SDK types `purpose` as a closed set that lacks "video" but sends
    it unchanged; should a future SDK refuse it, a plain multipart POST does
    the same request.
    """
    from openai import APIError, AsyncOpenAI

    client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=2)
    try:
        created = await client.files.create(
            file=(name, data, mime),
            purpose="video",  # type: ignore[arg-type]
        )
        return created.id
    except (TypeError, ValueError):
        return await _upload_raw(name, data, mime, base_url, api_key)
    except APIError as exc:
        raise MediaError(f"uploading {name} to {base_url} failed: {exc}") from None
    finally:
        await client.close()


async def _upload_raw(name: str, data: bytes, mime: str, base_url: str, api_key: str) -> str:
    import httpx

    url = base_url.rstrip("/") + "/files"
    async with httpx.AsyncClient(timeout=300) as http:
        resp = await http.post(
            url,
            headers={"Authorization": f"Bearer {api_key}"},
            data={"purpose": "video"},
            files={"file": (name, data, mime)},
        )
    if resp.status_code >= 400:
        raise MediaError(f"uploading {name} to {url} failed: HTTP {resp.status_code} {resp.text}")
    return str(resp.json()["id"])
