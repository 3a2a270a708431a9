"""SSE parsing, Retry-After, provider detection and GET /models capabilities."""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator

from kimicode.config import ModelSettings
from kimicode.llm.capabilities import ModelCapabilities, capabilities_from_entry, fetch_capabilities
from kimicode.llm.retry import parse_retry_after
from kimicode.llm.sse import iter_sse_data
from kimicode.llm.thinking import resolve_provider
from kimicode.replay.server import ReplayServer


async def parts(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_sse_events_split_anywhere_in_the_byte_stream() -> None:
    raw = b': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\ndata: {"b":\ndata: 2}\n\ndata: [DONE]\n\n'
    for size in (1, 3, 7, len(raw)):
        pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
        got = [d async for d in iter_sse_data(parts(*pieces))]
        assert got == [b'{"a":1}', b'{"b":\n2}', b"[DONE]"], size


async def test_sse_last_event_without_blank_line_is_kept() -> None:
    assert [d async for d in iter_sse_data(parts(b"data: x\n\ndata: y"))] == [b"x", b"y"]


def test_retry_after_in_seconds_millis_and_http_date() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == 30.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_provider_is_guessed_from_the_url() -> None:
    def guess(url: str, provider: str = "auto") -> str:
        return resolve_provider(ModelSettings(base_url=url, provider=provider))

    assert guess("https://api.moonshot.ai/v1") == "moonshot"
    assert guess("https://api.moonshot.cn/v1") == "moonshot"
    assert guess("https://api.openai.com/v1") == "openai"
    assert guess("http://localhost:8000/v1") == "vllm"
    assert guess("http://localhost:8000/v1", "openai") == "openai"


async def test_capabilities_come_from_get_models() -> None:
    script = {
        "models": {
            "kimi-k2.5": {"context_length": 131072, "supports_video_in": True},
            "small": {"supports_image_in": False, "supports_reasoning": False},
        },
        "conversations": [{"match": ".", "turns": []}],
    }
    async with ReplayServer(script) as server:
        settings = ModelSettings(base_url=server.url)
        main = await fetch_capabilities(settings, "k")
        small = await fetch_capabilities(settings, "k", model="small")
        unknown = await fetch_capabilities(settings, "k", model="nope")
        missing = await fetch_capabilities(ModelSettings(base_url=server.url + "/x"), "k")
    assert main == ModelCapabilities(131072, True, True, True)
    assert small.image_in is False and small.reasoning is False
    assert unknown == ModelCapabilities() == missing


async def test_capabilities_of_an_unreachable_endpoint_are_unknown() -> None:
    settings = ModelSettings(base_url="http://127.0.0.1:9/v1")
    assert await fetch_capabilities(settings, "k") == ModelCapabilities()


def test_capabilities_read_other_endpoints_field_names() -> None:
    vllm = capabilities_from_entry({"id": "m", "max_model_len": 32768})
    assert vllm == ModelCapabilities(context_length=32768)
    router = capabilities_from_entry(
        {
            "context_length": 1000,
            "architecture": {"input_modalities": ["text", "image"]},
            "supported_parameters": ["tools", "reasoning"],
        }
    )
    assert router == ModelCapabilities(1000, True, False, True)


def test_the_stream_uses_the_environments_proxy_unless_the_host_is_exempt(monkeypatch) -> None:
    from kimicode.llm.transport import env_proxy

    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    assert env_proxy("https://api.moonshot.ai/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert env_proxy("https://api.moonshot.ai/v1") == "http://proxy.corp:3128"
    assert env_proxy("http://vllm.corp:8000/v1") is None  # no proxy for plain http
    monkeypatch.setenv("ALL_PROXY", "http://all.corp:1080")
    assert env_proxy("http://vllm.corp:8000/v1") == "http://all.corp:1080"
    assert env_proxy("http://127.0.0.1:8000/v1") is None
    assert env_proxy("http://localhost:8000/v1") is None
    monkeypatch.setenv("NO_PROXY", "moonshot.ai,vllm.corp")
    assert env_proxy("https://api.moonshot.ai/v1") is None
    assert env_proxy("http://vllm.corp:8000/v1") is None


def test_an_https_endpoint_verifies_against_the_certificates_the_sdk_used(monkeypatch) -> None:
    import ssl

    from kimicode.llm.transport import ChatTransport

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = ChatTransport("https://api.moonshot.ai/v1", "k", 10)._ssl()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 50  # certifi's bundle, loaded
    assert ChatTransport("http://127.0.0.1:8000/v1", "k", 10)._ssl() is True
