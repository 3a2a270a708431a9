"""Videos and animated GIFs become frames with the right timestamps and content."""

from __future__ import annotations

import io
from pathlib import Path

import av
from PIL import Image

from kimicode.config import VisionSettings
from kimicode.vision.images import part_bytes
from kimicode.vision.video import frames_to_parts, sample_times, sample_video

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def make_mp4(path: Path, seconds_per_colour: int = 1, fps: int = 10) -> None:
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


def centre(part: dict) -> tuple[int, int, int]:
    _, data = part_bytes(part)
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((32, 24))


def near(actual, expected, tol=40) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True))


def test_sample_times_follow_fps_or_spread_over_the_duration():
    assert sample_times(4.0, 1.0, 16) == [0.0, 1.0, 2.0, 3.0]
    assert sample_times(100.0, 1.0, 4) == [0.0, 25.0, 50.0, 75.0]
    assert sample_times(0.0, 1.0, 4) == [0.0]


def test_mp4_frames_carry_their_timestamps(tmp_path):
    video = tmp_path / "walk.mp4"
    make_mp4(video)
    frames = sample_video(video, VisionSettings(video_fps=1.0, video_max_frames=16))
    assert [t for t, _ in frames] == [0.0, 1.0, 2.0, 3.0]
    for (_, part), colour in zip(frames, COLOURS, strict=True):
        assert near(centre(part), colour), (centre(part), colour)


def test_frame_budget_spreads_frames_over_the_video(tmp_path):
    video = tmp_path / "walk.mp4"
    make_mp4(video)
    frames = sample_video(video, VisionSettings(video_fps=10.0, video_max_frames=2))
    assert [t for t, _ in frames] == [0.0, 2.0]
    assert near(centre(frames[0][1]), COLOURS[0])
    assert near(centre(frames[1][1]), COLOURS[2])


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
    make_mp4(video)
    parts = frames_to_parts(sample_video(video, VisionSettings(video_fps=2.0, video_max_frames=3)))
    texts = [p["text"] for p in parts if p["type"] == "text"]
    assert texts == ["frame at 0 s", "frame at 1.33 s", "frame at 2.67 s"]
    assert [p["type"] for p in parts[:2]] == ["text", "image_url"]
