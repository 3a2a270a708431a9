"""What a model takes (images, video, thinking, context length), asked of the endpoint.

Config wins where it says something; this fills the rest from `GET /models`.
Endpoints disagree on field names (Moonshot's `supports_image_in`, vLLM's
`max_model_len`, OpenRouter's `input_modalities`), and many have no such
endpoint at all, so every field may be None and nothing here ever raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kimicode.config import ModelSettings

CONTEXT_FIELDS = ("context_length", "max_model_len", "context_window", "max_context_length")


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    """None: the endpoint did not say."""

    context_length: int | None = None
    image_in: bool | None = None
    video_in: bool | None = None
    reasoning: bool | None = None


async def fetch_capabilities(
    settings: ModelSettings, api_key: str, *, model: str | None = None, wait_s: float = 10.0
) -> ModelCapabilities:
    """The configured (or given) model's capabilities from GET {base_url}/models."""
    name = model or settings.name
    for entry in await fetch_model_entries(settings, api_key, wait_s=wait_s) or []:
        if entry.get("id") == name:
            return capabilities_from_entry(entry)
    return ModelCapabilities()


async def fetch_model_entries(
    settings: ModelSettings, api_key: str, *, wait_s: float = 10.0
) -> list[dict[str, Any]] | None:
    """The endpoint's `GET /models` entries (each with an "id"); None when it has no list."""
    import httpx

    url = settings.base_url.rstrip("/") + "/models"
    try:
        async with httpx.AsyncClient(timeout=wait_s) as client:
            response = await client.get(url, headers={"Authorization": f"Bearer {api_key}"})
        if response.status_code != 200:
            return None
        data = response.json()
    except (httpx.HTTPError, ValueError, OSError):
        return None
    entries = data.get("data") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        return None
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]


def capabilities_from_entry(entry: dict[str, Any]) -> ModelCapabilities:
    """Reads the field names the common endpoints use."""
    context = next((entry[f] for f in CONTEXT_FIELDS if isinstance(entry.get(f), int)), None)
    modalities = (entry.get("architecture") or {}).get("input_modalities")
    image = _flag(entry, "supports_image_in", "supports_vision", "vision")
    video = _flag(entry, "supports_video_in", "supports_video")
    if isinstance(modalities, list):
        image = "image" in modalities if image is None else image
        video = "video" in modalities if video is None else video
    reasoning = _flag(entry, "supports_reasoning", "reasoning")
    params = entry.get("supported_parameters")
    if reasoning is None and isinstance(params, list):
        reasoning = "reasoning" in params
    return ModelCapabilities(context, image, video, reasoning)


def _flag(entry: dict[str, Any], *names: str) -> bool | None:
    for name in names:
        value = entry.get(name)
        if isinstance(value, bool):
            return value
    return None
