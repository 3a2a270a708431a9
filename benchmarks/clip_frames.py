"""Which frames of a clip reach the model, and how long choosing them takes.

Makes the clips the tests use (tests/clips.py): a 1.5-second GIF of three
pictures, and a screen recording of `--minutes` minutes at 10 fps whose
picture changes a few times (with a four-second flash). Prints each chosen
frame's time and picture, and the time `sample_video` took.

Usage: python benchmarks/clip_frames.py [--minutes 10] [--size 640x360]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from clips import BLUE, GREEN, GREY, RED, WHITE, YELLOW, colour_at, make_gif, make_mp4, near

from kimicode.config import VisionSettings
from kimicode.vision.video import sample_video

NAMES = {GREY: "grey", RED: "red", GREEN: "green", WHITE: "white", BLUE: "blue", YELLOW: "yellow"}


def _name(colour: tuple[int, int, int]) -> str:
    return next((n for c, n in NAMES.items() if near(colour, c)), str(colour))


def show(title: str, path: Path, settings: VisionSettings) -> None:
    from clips import centre

    started = time.perf_counter()
    frames = sample_video(path, settings)
    took = time.perf_counter() - started
    print(f"\n{title}: {len(frames)} frames chosen in {took:.2f} s")
    print("  " + ", ".join(f"{t:g} s {_name(centre(part))}" for t, part in frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--size", default="640x360")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    seconds = args.minutes * 60
    states = [(0, GREY), (0.11, RED), (0.34, GREEN), (0.5, WHITE), (0.507, BLUE), (0.85, YELLOW)]
    states = [(round(f * seconds), c) for f, c in states]
    settings = VisionSettings()
    print(f"[vision] video_fps={settings.video_fps} video_min_frames={settings.video_min_frames}")
    print(f"video_max_frames={settings.video_max_frames}")
    with tempfile.TemporaryDirectory() as tmp:
        gif = Path(tmp) / "bug.gif"
        make_gif(gif, [RED, GREEN, BLUE], frame_ms=500)
        show("short GIF, 1.5 s: red, green, blue 0.5 s each", gif, settings)
        clip = Path(tmp) / "recording.mp4"
        started = time.perf_counter()
        make_mp4(clip, seconds, 10, lambda t: colour_at(states, t), size=size)
        made = time.perf_counter() - started
        changes = ", ".join(f"{start} s {_name(c)}" for start, c in states)
        print(f"\nlong MP4 ({args.minutes:g} min at 10 fps, {args.size}, made in {made:.1f} s)")
        print(f"  pictures appear at: {changes}")
        show("long MP4", clip, settings)


if __name__ == "__main__":
    main()
