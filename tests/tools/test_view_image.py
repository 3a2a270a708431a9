"""view_image sends images and video frames; it refuses what it cannot show."""

from __future__ import annotations

import av
import pytest
from PIL import Image

from kimicode.config import Settings
from kimicode.errors import ToolError
from kimicode.tools.base import ToolContext, ToolServices
from kimicode.tools.view_image import ViewImage, ViewImageParams
from kimicode.tools.workspace import Workspace


def context(tmp_path, vision: bool = True) -> ToolContext:
    settings = Settings()
    settings.model.vision = vision
    return ToolContext(
        ToolServices(workspace=Workspace(tmp_path), settings=settings, emit=lambda _e: None)
    )


async def test_an_image_is_attached(tmp_path):
    Image.new("RGB", (30, 20), (9, 9, 9)).save(tmp_path / "shot.png")
    result = await ViewImage().run(ViewImageParams(path="shot.png"), context(tmp_path))
    assert result.text == "shot.png: image attached"
    assert result.images[0]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_a_video_is_attached_as_timed_frames(tmp_path):
    with av.open(str(tmp_path / "clip.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=4)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(12):
            frame = av.VideoFrame.from_image(Image.new("RGB", (32, 32), (i * 20, 0, 0)))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    result = await ViewImage().run(ViewImageParams(path="clip.mp4"), context(tmp_path))
    assert result.text == "clip.mp4: 4 frames, in order, at 0 s, 1 s, 2 s, 2.75 s"
    assert len(result.images) == 4


async def test_refusals_are_clear(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    with pytest.raises(ToolError, match="not an image or video"):
        await ViewImage().run(ViewImageParams(path="notes.txt"), context(tmp_path))
    with pytest.raises(ToolError, match="configured without vision"):
        await ViewImage().run(ViewImageParams(path="a.png"), context(tmp_path, vision=False))
    with pytest.raises(ToolError, match="outside the project root"):
        await ViewImage().run(ViewImageParams(path="../x.png"), context(tmp_path))
    with pytest.raises(ToolError, match="does not exist"):
        await ViewImage().run(ViewImageParams(path="gone.png"), context(tmp_path))
