"""Videos and animated GIFs become frames with the right timestamps and content: short
clips show every picture, long ones their changes, and the last frame is always there."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from clips import (
    BLUE,
    GREEN,
    GREY,
    LONG_STATES,
    RED,
    centre,
    colour_at,
    make_gif,
    make_mp4,
    near,
)
from PIL import Image

from kimicode.config import VisionSettings
from kimicode.vision.images import MediaError
from kimicode.vision.video import candidate_count, frames_to_parts, sample_times, sample_video

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def make_blocks(path: Path, seconds_per_colour: int = 1, fps: int = 10) -> None:
    """Four one-second blocks of solid colour: red, green, blue, yellow."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for colour in COLOURS:
            for _ in range(seconds_per_colour * fps):
                frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), colour))
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_sample_times_follow_fps_or_spread_over_the_duration():
    assert sample_times(4.0, 1.0, 16) == [0.0, 1.0, 2.0, 3.0]
    assert sample_times(100.0, 1.0, 4) == [0.0, 25.0, 50.0, 75.0]
    assert sample_times(0.0, 1.0, 4) == [0.0]


def test_mp4_frames_carry_their_timestamps_and_the_last_frame_is_shown(tmp_path):
    video = tmp_path / "walk.mp4"
    make_blocks(video)
    frames = sample_video(video, VisionSettings(video_fps=1.0, video_max_frames=16))
    assert [t for t, _ in frames] == [0.0, 1.0, 2.0, 3.0, 3.9]
    for (_, part), colour in zip(frames, [*COLOURS, COLOURS[-1]], strict=True):
        assert near(centre(part), colour), (centre(part), colour)


def test_a_tight_budget_keeps_the_changes_first_and_last(tmp_path):
    video = tmp_path / "walk.mp4"
    make_blocks(video)
    frames = sample_video(video, VisionSettings(video_fps=10.0, video_max_frames=4))
    # four pictures fit: each from the moment it appears, the last one by the last frame
    assert [t for t, _ in frames] == [0.0, 1.0, 2.0, 3.9]
    shown = [centre(part) for _, part in frames]
    for colour, expected in zip(shown, [*COLOURS[:3], COLOURS[3]], strict=True):
        assert near(colour, expected), shown


def test_animated_gif_is_sampled_by_frame_durations(tmp_path):
    images = [Image.new("RGB", (64, 48), c) for c in COLOURS]
    gif = tmp_path / "anim.gif"
    images[0].save(gif, save_all=True, append_images=images[1:], duration=500, loop=0)
    frames = sample_video(gif, VisionSettings(video_fps=2.0, video_max_frames=16))
    assert [t for t, _ in frames] == [0.0, 0.5, 1.0, 1.5]
    for (_, part), colour in zip(frames, COLOURS, strict=True):
        assert near(centre(part), colour, tol=10)


def test_content_parts_label_each_frame(tmp_path):
    video = tmp_path / "walk.mp4"
    make_blocks(video)
    parts = frames_to_parts(sample_video(video, VisionSettings(video_fps=1.0)))
    texts = [p["text"] for p in parts if p["type"] == "text"]
    assert texts == [f"frame at {t} s" for t in ("0", "1", "2", "3", "3.9")]
    assert [p["type"] for p in parts[:2]] == ["text", "image_url"]


def test_a_short_gif_of_three_pictures_shows_all_three(tmp_path):
    gif = tmp_path / "bug.gif"
    make_gif(gif, [RED, GREEN, BLUE], frame_ms=500)  # 1.5 s: int(1.5 * 1 fps) would be 1 frame
    frames = sample_video(gif, VisionSettings(video_fps=1.0))
    assert [t for t, _ in frames] == [0.0, 0.5, 1.0]
    assert [centre(p) for _, p in frames] == [RED, GREEN, BLUE]


def test_a_short_mp4_shows_at_least_the_minimum_of_frames(tmp_path):
    clip = tmp_path / "blink.mp4"
    make_mp4(clip, 1.2, 10, lambda t: RED if t < 0.6 else GREEN)
    frames = sample_video(clip, VisionSettings(video_fps=1.0, video_min_frames=4))
    times = [t for t, _ in frames]
    assert len(times) == 4 and times[0] == 0.0 and times[-1] == 1.1
    assert near(centre(frames[0][1]), RED) and near(centre(frames[-1][1]), GREEN)


def test_a_long_mp4_sends_its_changes_in_order_within_the_budget(tmp_path):
    clip = tmp_path / "recording.mp4"
    make_mp4(clip, 120, 5, lambda t: colour_at(LONG_STATES, t))
    frames = sample_video(clip, VisionSettings(video_fps=1.0, video_max_frames=16))
    times = [t for t, _ in frames]
    assert len(frames) == 16 and times == sorted(times)
    assert times[0] == 0.0 and times[-1] == 119.8  # the last frame is always there
    spacing = 120 / (candidate_count(16) - 1)
    for start, colour in LONG_STATES[1:]:  # each picture shown soon after it appears
        first = next(t for t, p in frames if near(centre(p), colour))
        assert start <= first <= start + spacing, (colour, first, times)


def test_a_long_gif_is_sampled_by_its_changes_too(tmp_path):
    gif = tmp_path / "long.gif"
    states = [(0, GREY), (7, RED), (8, GREY), (23, BLUE)]
    make_gif(gif, [colour_at(states, i / 2) for i in range(60)], frame_ms=500, ticker=True)
    frames = sample_video(gif, VisionSettings(video_fps=1.0, video_max_frames=6))
    times = [t for t, _ in frames]
    assert len(frames) == 6 and times[-1] == 29.5
    assert 7.0 in times and 8.0 in times and 23.0 in times  # the flash, its end, the change


def test_a_corrupt_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(MediaError, match=r"broken\.mp4 is not a video kimicode can read"):
        sample_video(bad, VisionSettings())
