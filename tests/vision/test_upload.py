"""Videos go as video_url parts: uploaded (purpose "video") on Moonshot, inline elsewhere."""

from __future__ import annotations

import base64

from kimicode.config import ModelSettings
from kimicode.replay import ReplayServer
from kimicode.vision.upload import model_takes_video, video_part

SCRIPT = {"conversations": [{"match": ".*", "turns": [{"content": "ok"}]}]}


async def test_moonshot_video_is_uploaded_and_referenced_as_ms_url(tmp_path):
    video = tmp_path / "walkthrough.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42fake-video-bytes")
    async with ReplayServer(SCRIPT) as server:
        settings = ModelSettings(base_url=server.url, provider="moonshot", video=True)
        part = await video_part(video, settings, "sk-test")
        assert len(server.uploads) == 1
        upload = server.uploads[0]
    assert upload["purpose"] == "video"
    assert upload["filename"] == "walkthrough.mp4"
    assert upload["content"] == video.read_bytes()
    assert part == {"type": "video_url", "video_url": {"url": f"ms://{upload['id']}"}}


async def test_other_endpoints_get_a_data_url(tmp_path):
    video = tmp_path / "clip.webm"
    video.write_bytes(b"webm-bytes")
    settings = ModelSettings(base_url="http://127.0.0.1:9/v1", provider="vllm", video=True)
    part = await video_part(video, settings, "sk-test")
    url = part["video_url"]["url"]
    assert url.startswith("data:video/webm;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == b"webm-bytes"


def test_config_beats_the_endpoint_capabilities():
    assert model_takes_video(ModelSettings(video=True), {"supports_video_in": False})
    assert not model_takes_video(ModelSettings(video=False), {"supports_video_in": True})
    assert model_takes_video(ModelSettings(), {"supports_video_in": True})
    assert not model_takes_video(ModelSettings(), None)
