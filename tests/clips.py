"""Clips made in the tests: MP4 through PyAV and animated GIFs through Pillow, from a
function that says which colour the picture has at each moment."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import av
from PIL import Image

from kimicode.vision.images import part_bytes

Colour = tuple[int, int, int]
SIZE = (64, 48)

GREY, RED, GREEN, BLUE = (128, 128, 128), (255, 0, 0), (0, 255, 0), (0, 0, 255)
WHITE, YELLOW = (255, 255, 255), (255, 255, 0)
LONG_STATES: list[tuple[float, Colour]] = [
    (0, GREY),
    (13, RED),
    (41, GREEN),
    (60, WHITE),  # a four-second flash
    (64, BLUE),
    (102, YELLOW),
]
"""A two-minute "screen recording": when each picture appears."""


def colour_at(states: list[tuple[float, Colour]], t: float) -> Colour:
    return [c for start, c in states if start <= t + 1e-9][-1]


def make_mp4(
    path: Path,
    seconds: float,
    fps: int,
    colour: Callable[[float], Colour],
    size: tuple[int, int] = SIZE,
) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i in range(round(seconds * fps)):
            image = Image.new("RGB", size, colour(i / fps))
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def make_gif(path: Path, colours: list[Colour], frame_ms: int, ticker: bool = False) -> None:
    """One frame per colour; `ticker` moves one pixel each frame so that equal colours stay
    separate frames (Pillow merges identical neighbours), as in a screen recording's clock."""
    images = [Image.new("RGB", SIZE, c) for c in colours]
    for i, image in enumerate(images if ticker else []):
        image.putpixel((i % SIZE[0], 0), (0, 0, 0))
    images[0].save(path, save_all=True, append_images=images[1:], duration=frame_ms, loop=0)


def centre(part: dict) -> Colour:
    _, data = part_bytes(part)
    img = Image.open(io.BytesIO(data)).convert("RGB")
    return img.getpixel((img.width // 2, img.height // 2))


def near(actual: Colour, expected: Colour, tol: int = 40) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True))
