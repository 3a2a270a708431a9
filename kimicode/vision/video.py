"""Videos to labelled frames: what a model without video input can still watch.

mp4, webm and mov are decoded with PyAV, animated GIFs with Pillow. Frames are
taken at `[vision] video_fps`; when that would exceed `video_max_frames`, the
budget is spread evenly over the whole duration instead, so the end of a long
video is seen too. Each frame carries its timestamp, and `frames_to_parts`
puts a "frame at 1.5 s" text part before each image so the model can tell
motion from the order and timing.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageSequence

from kimicode.vision.images import MediaError, image_part_from_pil, open_image

if TYPE_CHECKING:
    from kimicode.config import VisionSettings

VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".mov", ".m4v", ".mkv"})
_SEEK_GAP_S = 5.0
"""Targets further apart than this are reached by seeking rather than decoding through."""

Frame = tuple[float, dict[str, Any]]


def is_video_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_animated_gif(data: bytes) -> bool:
    if not data.startswith((b"GIF87a", b"GIF89a")):
        return False
    try:
        with Image.open(io.BytesIO(data)) as img:
            return getattr(img, "n_frames", 1) > 1
    except Exception:
        return False


def sample_times(duration_s: float, fps: float, max_frames: int) -> list[float]:
    """Timestamps to show: every 1/fps seconds, or `max_frames` spread evenly when fewer."""
    max_frames = max(1, max_frames)
    if duration_s <= 0 or fps <= 0:
        return [0.0]
    wanted = max(1, int(duration_s * fps))
    if wanted <= max_frames:
        return [round(i / fps, 3) for i in range(wanted)]
    step = duration_s / max_frames
    return [round(i * step, 3) for i in range(max_frames)]


def sample_video(path: str | Path, settings: VisionSettings) -> list[Frame]:
    """(timestamp_s, image part) pairs for a video file or animated GIF (blocking)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(6)
    except FileNotFoundError:
        raise MediaError(f"{p} does not exist") from None
    except OSError as exc:
        raise MediaError(f"cannot read {p}: {exc}") from None
    if head.startswith(b"GIF"):
        return sample_gif(p.read_bytes(), p.name, settings)
    return _sample_av(str(p), p.name, settings)


def sample_video_bytes(data: bytes, name: str, settings: VisionSettings) -> list[Frame]:
    """Like `sample_video` for content already in memory (a sparse worktree's file)."""
    if data.startswith(b"GIF"):
        return sample_gif(data, name, settings)
    return _sample_av(io.BytesIO(data), name, settings)


async def video_frames(path: str | Path, settings: VisionSettings) -> list[Frame]:
    return await asyncio.to_thread(sample_video, path, settings)


def frames_to_parts(frames: list[Frame]) -> list[dict[str, Any]]:
    """Content parts: a "frame at T s" text part before each frame's image part."""
    parts: list[dict[str, Any]] = []
    for ts, image in frames:
        parts.append({"type": "text", "text": f"frame at {format_ts(ts)} s"})
        parts.append(image)
    return parts


def format_ts(ts: float) -> str:
    return f"{ts:.2f}".rstrip("0").rstrip(".") if ts % 1 else f"{ts:.0f}"


def sample_gif(data: bytes, name: str, settings: VisionSettings) -> list[Frame]:
    img = open_image(data, name)
    starts: list[float] = []
    t = 0.0
    for frame in ImageSequence.Iterator(img):
        starts.append(t)
        t += max(int(frame.info.get("duration", 100) or 100), 20) / 1000
    duration = t
    frames: list[Frame] = []
    for target in sample_times(duration, settings.video_fps, settings.video_max_frames):
        index = max(i for i, start in enumerate(starts) if start <= target + 1e-9)
        img.seek(index)
        part = image_part_from_pil(img.convert("RGBA"), settings, prefer_png=True)
        frames.append((target, part))
    return frames


def _sample_av(source: str | io.BytesIO, name: str, settings: VisionSettings) -> list[Frame]:
    import av

    try:
        container = av.open(source)
    except FileNotFoundError:
        raise MediaError(f"{name} does not exist") from None
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"{name} is not a video kimicode can read: {exc}") from None
    try:
        if not container.streams.video:
            raise MediaError(f"{name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        targets = sample_times(
            _duration(container, stream), settings.video_fps, settings.video_max_frames
        )
        return _decode_at(container, stream, targets, settings, name)
    except av.FFmpegError as exc:
        raise MediaError(f"{name} could not be decoded: {exc}") from None
    finally:
        container.close()


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return 0.0


def _decode_at(
    container: Any, stream: Any, targets: list[float], settings: VisionSettings, name: str
) -> list[Frame]:
    """The frame on screen at each target time; long gaps are crossed by seeking."""
    eps = 1e-3
    chosen: list[tuple[float, Any]] = []
    pending = list(targets)
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    decoder = container.decode(stream)
    last: Any = None
    position = 0.0
    while pending:
        if pending[0] - position > _SEEK_GAP_S:
            try:
                container.seek(int((pending[0] + start) / stream.time_base), stream=stream)
                decoder = container.decode(stream)
            except Exception:
                pass
        frame = next(decoder, None)
        if frame is None:  # past the end: the last frame stands for the rest
            chosen.extend((t, last) for t in pending if last is not None)
            break
        if frame.pts is not None:
            position = float(frame.pts * stream.time_base) - start
        while pending and pending[0] <= position + eps:
            t = pending.pop(0)
            chosen.append((t, frame if last is None or position - t <= eps else last))
        last = frame
    if not chosen:
        raise MediaError(f"{name} has no decodable frames")
    return [
        (t, image_part_from_pil(frame.to_image(), settings, prefer_png=False))
        for t, frame in chosen
    ]
