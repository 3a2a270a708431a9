"""Seeing, end to end: attachments arrive as image parts, render_page's screenshot goes
back to the model, and the visual self-check renders the page until it matches."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from helpers import call, requests_of, script, turn
from PIL import Image


def _images(message: dict[str, Any]) -> list[Image.Image]:
    content = message["content"]
    out = []
    for part in content if isinstance(content, list) else []:
        if part.get("type") == "image_url":
            header, data = part["image_url"]["url"].split(",", 1)
            assert header.startswith("data:image/")
            out.append(Image.open(io.BytesIO(base64.b64decode(data))))
    return out


def _design(path: Path, color: str) -> None:
    img = Image.new("RGB", (600, 400), "white")
    img.paste(Image.new("RGB", (200, 100), color), (50, 50))
    img.save(path)


def _page(color: str) -> str:
    return (
        "<!doctype html><html><body style='margin:0;background:#fff'>"
        f"<div style='position:absolute;left:50px;top:50px;width:200px;height:100px;"
        f"background:{color}'></div></body></html>"
    )


def test_image_and_video_attachments_arrive_as_image_parts(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    import av

    _design(tmp_path / "design.png", "red")
    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("mpeg4", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(8):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 30, 0, 0)))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    server = replay(script(("look at these", [turn("I see them.")])))
    res = kimicode(
        "-p",
        "look at these",
        "--image",
        str(tmp_path / "design.png"),
        "--video",
        str(clip),
        cwd=repo,
        server=server,
    )
    assert res.code == 0, res
    first_user = requests_of(server)[0]["messages"][1]
    images = _images(first_user)
    assert images[0].size == (600, 400)
    assert len(images) >= 2  # the design and the video's sampled frames
    texts = [p["text"] for p in first_user["content"] if p["type"] == "text"]
    assert any("frame at" in t for t in texts)


def test_no_vision_model_gets_a_clear_error_not_an_api_400(
    repo: Path, kimicode, tmp_path: Path
) -> None:
    _design(tmp_path / "d.png", "red")
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[model]\nvision = false\n")
    res = kimicode("-p", "look", "--image", str(tmp_path / "d.png"), cwd=repo)
    assert res.code == 2, res
    assert "vision" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.browser
def test_render_page_screenshot_goes_back_to_the_model(repo: Path, replay, kimicode) -> None:
    (repo / "index.html").write_text(_page("red"))
    server = replay(
        script(
            (
                "render it",
                [
                    turn(tool_calls=[call("render_page", target="index.html", viewport="800x600")]),
                    turn("Rendered."),
                ],
            )
        )
    )
    res = kimicode("-p", "render it", cwd=repo, server=server)
    assert res.code == 0, res
    last = requests_of(server)[-1]["messages"]
    shot = _images(last[-1])[0]
    assert shot.format == "PNG" and shot.size == (800, 600)
    assert shot.convert("RGB").getpixel((150, 100)) == (255, 0, 0)
    assert shot.convert("RGB").getpixel((400, 400)) == (255, 255, 255)


@pytest.mark.browser
def test_visual_self_check_renders_until_the_page_matches(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    _design(tmp_path / "design.png", "red")
    server = replay(
        script(
            (
                "build this page",
                [
                    turn(tool_calls=[call("write_file", path="index.html", content=_page("blue"))]),
                    turn("Done."),
                    turn(
                        tool_calls=[call("write_file", path="index.html", content=_page("red"))],
                        expect={"has_image": True},
                    ),
                    turn("Fixed the colour."),
                    turn("VISUAL CHECK: MATCHES"),
                ],
            )
        )
    )
    res = kimicode(
        "-p",
        "build this page as index.html",
        "--yolo",
        "--image",
        str(tmp_path / "design.png"),
        "--output-format",
        "json",
        cwd=repo,
        server=server,
    )
    assert res.code == 0, res
    out = res.json()
    assert out["result"] == "VISUAL CHECK: MATCHES"
    assert len(out["screenshots"]) == 2
    first, second = (Image.open(p).convert("RGB") for p in out["screenshots"])
    assert first.size == (600, 400)
    assert first.getpixel((150, 100)) == (0, 0, 255)
    assert second.getpixel((150, 100)) == (255, 0, 0)
    bodies = requests_of(server)
    check1 = bodies[2]["messages"][-1]
    texts = " ".join(p["text"] for p in check1["content"] if p["type"] == "text")
    assert "Visual check, round 1" in texts and "difference score" in texts
    design, screenshot, _heatmap = _images(check1)
    assert screenshot.size == (600, 400) and design.size == (600, 400)


def test_a_corrupt_image_is_a_clear_usage_error(repo: Path, kimicode, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    res = kimicode("-p", "look", "--image", str(bad), cwd=repo)
    assert res.code == 2, res
    assert "broken.png" in res.stderr and "Traceback" not in res.stderr
