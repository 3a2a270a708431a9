"""Videos to labelled frames: what a model without video input can still watch.

mp4, webm and mov are decoded with PyAV, animated GIFs with Pillow. Which
frames are shown is `frame_choice`'s decision: every `1/fps` seconds plus the
last frame, at least `[vision] video_min_frames`, and, when that exceeds
`video_max_frames`, the moments where the picture changes most. Decoding is
two passes: the first looks at candidate frames as tiny thumbnails (every
frame of a short clip; an even spread of a long one, crossing long gaps by
seeking), the second decodes only the chosen ones at full size. Each frame
carries its timestamp, and `frames_to_parts` puts a "frame at 1.5 s" text
part before each image so the model can tell motion from order and timing.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageSequence

from kimicode.vision.frame_choice import choose_frames, needs_thumbs, spread, thumbnail
from kimicode.vision.images import MediaError, image_part_from_pil, open_image

if TYPE_CHECKING:
    from kimicode.config import VisionSettings

VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".mov", ".m4v", ".mkv"})
_SEEK_GAP_S = 5.0
"""Targets further apart than this are reached by seeking rather than decoding through."""
ALL_FRAMES_UP_TO = 300
"""A clip with at most this many frames has every frame considered; a longer one a spread."""
_EPS = 1e-3

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


def candidate_count(max_frames: int) -> int:
    """How many frames of a long clip are looked at, at most, to find its changes."""
    return min(max(8 * max_frames, 64), 240)


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
    return _sample_av(data, name, settings)


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


def _choose(times: list[float], thumbs: Any, settings: VisionSettings) -> list[int]:
    """`thumbs()` gives the candidates' thumbnails; it is called only when they are needed."""
    fps, low, high = settings.video_fps, settings.video_min_frames, settings.video_max_frames
    wanted = needs_thumbs(times, fps=fps, min_frames=low, max_frames=high)
    return choose_frames(
        times, thumbs=thumbs() if wanted else None, fps=fps, min_frames=low, max_frames=high
    )


def sample_gif(data: bytes, name: str, settings: VisionSettings) -> list[Frame]:
    img = open_image(data, name)
    starts: list[float] = []
    t = 0.0
    for frame in ImageSequence.Iterator(img):
        starts.append(round(t, 3))
        t += max(int(frame.info.get("duration", 100) or 100), 20) / 1000

    def at(index: int) -> Image.Image:
        img.seek(index)
        return img.convert("RGBA")

    picks = _choose(starts, lambda: [thumbnail(at(i)) for i in range(len(starts))], settings)
    return [(starts[i], image_part_from_pil(at(i), settings, prefer_png=True)) for i in picks]


def _sample_av(source: str | bytes, name: str, settings: VisionSettings) -> list[Frame]:
    with _opened(source, name) as (container, stream):
        short = _frame_estimate(container, stream) <= ALL_FRAMES_UP_TO
        keys = [] if short else _keyframe_times(container, stream)
    with _opened(source, name) as (container, stream):
        if short:
            found: Iterator[tuple[float, Any]] = _every_frame(container, stream)
        else:
            targets = _long_targets(keys, _duration(container, stream), settings.video_max_frames)
            found = _frames_at(container, stream, targets)
        times, thumbs = _thumbnails(found)
    if not times:
        raise MediaError(f"{name} has no decodable frames")
    picks = _choose(times, lambda: thumbs, settings)
    frames: list[Frame] = []
    with _opened(source, name) as (container, stream):
        for t, frame in _frames_at(container, stream, [times[i] for i in picks]):
            frames.append((round(t, 3), image_part_from_pil(frame.to_image(), settings)))
    if not frames:
        raise MediaError(f"{name} has no decodable frames")
    return frames


class _opened:
    """`with _opened(source, name) as (container, stream)`: errors become MediaError."""

    def __init__(self, source: str | bytes, name: str) -> None:
        self.source, self.name = source, name
        self.container: Any = None

    def __enter__(self) -> tuple[Any, Any]:
        import av

        src = io.BytesIO(self.source) if isinstance(self.source, bytes) else self.source
        try:
            self.container = av.open(src)
        except FileNotFoundError:
            raise MediaError(f"{self.name} does not exist") from None
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(f"{self.name} is not a video kimicode can read: {exc}") from None
        if not self.container.streams.video:
            self.container.close()
            raise MediaError(f"{self.name} has no video stream")
        stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"
        return self.container, stream

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        import av

        self.container.close()
        if isinstance(exc, av.FFmpegError):
            raise MediaError(f"{self.name} could not be decoded: {exc}") from None


def _frame_estimate(container: Any, stream: Any) -> int:
    rate = float(stream.average_rate or 0) or 30.0
    return stream.frames or int(_duration(container, stream) * rate) + 1


def _keyframe_times(container: Any, stream: Any) -> list[float]:
    """Times of the keyframes, read from the packets without decoding anything.

    Encoders put a keyframe at every scene cut, which is where a recording's
    picture changes; and seeking to one costs a single decoded frame.
    """
    start, times = _start(stream), []
    for packet in container.demux(stream):
        if packet.is_keyframe and packet.pts is not None:
            times.append(round(float(packet.pts * stream.time_base) - start, 6))
    return sorted(set(times))


def _long_targets(keys: list[float], duration: float, max_frames: int) -> list[float]:
    """Candidates of a long clip: its keyframes, its end, and an even spread when keyframes
    are too few to show the changes (a recorder that writes one every few minutes)."""
    count = candidate_count(max_frames)
    if len(keys) > count:
        keys = [keys[i] for i in spread(len(keys), count)]
    targets = {*keys, duration}
    if len(keys) < 2 * max_frames:
        targets |= {duration * i / (count - 1) for i in range(count)}
    return sorted(targets)


def _thumbnails(found: Iterator[tuple[float, Any]]) -> tuple[list[float], list[Image.Image]]:
    """Times and thumbnails of the candidate frames, one per distinct frame, in order."""
    times: list[float] = []
    thumbs: list[Image.Image] = []
    for t, frame in found:
        if times and t <= times[-1] + _EPS:
            continue
        times.append(t)
        thumbs.append(thumbnail(frame.to_image(width=32, height=32)))
    return times, thumbs


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / 1_000_000)
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return 0.0


def _start(stream: Any) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time else 0.0


def _position(frame: Any, stream: Any, start: float, previous: float) -> float:
    if frame.pts is None:
        return previous
    return round(float(frame.pts * stream.time_base) - start, 6)


def _every_frame(container: Any, stream: Any) -> Iterator[tuple[float, Any]]:
    start, position = _start(stream), 0.0
    for frame in container.decode(stream):
        position = _position(frame, stream, start, position)
        yield position, frame


def _frames_at(container: Any, stream: Any, targets: list[float]) -> Iterator[tuple[float, Any]]:
    """(time, frame) of the frame on screen at each target; long gaps are crossed by seeking."""
    pending = list(targets)
    start = _start(stream)
    decoder = container.decode(stream)
    last: tuple[float, Any] | None = None
    position = 0.0
    sought = -1.0
    while pending:
        # Seek once per target: the keyframe it lands on may still be far before it.
        if pending[0] - position > _SEEK_GAP_S and pending[0] != sought:
            sought = pending[0]
            try:
                container.seek(int((pending[0] + start) / stream.time_base), stream=stream)
                decoder = container.decode(stream)
            except Exception:
                pass
        frame = next(decoder, None)
        if frame is None:  # past the end: the last frame stands for the rest
            if last is not None:
                yield last
            return
        position = _position(frame, stream, start, position)
        while pending and pending[0] <= position + _EPS:
            t = pending.pop(0)
            if last is None or position - t <= _EPS:
                yield position, frame
            else:
                yield last
        last = (position, frame)
