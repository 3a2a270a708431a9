"""Clips through the real binary: a short GIF shows every picture, a long recording its
changes with their times, and a corrupt video is a clear error, not a traceback."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

from clips import BLUE, GREEN, LONG_STATES, RED, colour_at, make_gif, make_mp4, near
from helpers import call, requests_of, script, turn
from PIL import Image


def _frames(message: dict[str, Any]) -> list[tuple[str, str, tuple[int, int, int]]]:
    """(attachment, "frame at …" label, centre colour) for each frame in a user message."""
    out, attachment, label = [], "", ""
    for part in message["content"]:
        if part["type"] == "text":
            if part["text"].startswith("Attached video: "):
                attachment = part["text"].removeprefix("Attached video: ")
            label = part["text"]
        elif label.startswith("frame at"):
            data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
            img = Image.open(io.BytesIO(data)).convert("RGB")
            out.append((attachment, label, img.getpixel((img.width // 2, img.height // 2))))
    return out


def _seconds(label: str) -> float:
    return float(re.fullmatch(r"frame at ([\d.]+) s", label)[1])


def test_short_and_long_clips_reach_the_model_as_chosen_frames(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    make_gif(tmp_path / "bug.gif", [RED, GREEN, BLUE], frame_ms=500)
    make_mp4(tmp_path / "recording.mp4", 120, 5, lambda t: colour_at(LONG_STATES, t))
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[model]\nvideo = false\n")  # frames
    server = replay(script(("what happens", [turn("I watched both.")])))
    res = kimicode(
        "-p",
        "what happens in these clips?",
        "--video",
        str(tmp_path / "bug.gif"),
        "--video",
        str(tmp_path / "recording.mp4"),
        cwd=repo,
        server=server,
    )
    assert res.code == 0, res
    frames = _frames(requests_of(server)[0]["messages"][1])
    short = [(label, colour) for name, label, colour in frames if name == "bug.gif"]
    assert [label for label, _ in short] == ["frame at 0 s", "frame at 0.5 s", "frame at 1 s"]
    assert [colour for _, colour in short] == [RED, GREEN, BLUE]
    long = [(_seconds(label), colour) for name, label, colour in frames if name != "bug.gif"]
    assert len(long) == 16
    assert [t for t, _ in long] == sorted(t for t, _ in long)
    assert long[0][0] == 0.0 and long[-1][0] == 119.8
    for start, colour in LONG_STATES[1:]:
        first = next(t for t, c in long if near(c, colour))
        assert start <= first < start + 2, (colour, long)


def test_a_corrupt_video_is_a_clear_error_for_the_user_and_for_the_model(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not a video" * 50)
    res = kimicode("-p", "look", "--video", str(bad), cwd=repo)
    assert res.code == 2, res
    assert "broken.mp4 is not a video kimicode can read" in res.stderr
    assert "Traceback" not in res.stderr

    (repo / "clip.mp4").write_bytes(bad.read_bytes())
    server = replay(
        script(
            (
                "watch clip",
                [turn(tool_calls=[call("view_image", path="clip.mp4")]), turn("It is broken.")],
            )
        )
    )
    res = kimicode("-p", "watch clip.mp4", cwd=repo, server=server)
    assert res.code == 0, res
    tool_reply = requests_of(server)[-1]["messages"][-1]
    assert tool_reply["role"] == "tool"
    assert "clip.mp4 is not a video kimicode can read" in str(tool_reply["content"])
