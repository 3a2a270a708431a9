"""fetch_url's parts against a real local site: policy, redirects, caps, conversions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_site import Site, web_site

from kimicode.config import Settings, WebSettings
from kimicode.errors import ToolError
from kimicode.web.fetch import fetch
from kimicode.web.policy import WebPolicy, host_matches
from kimicode.web.readable import readable
from kimicode.web.untrusted import fence


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with web_site() as served:
        yield served


def policy(**web: object) -> WebPolicy:
    return WebPolicy(WebSettings(**{"allow": ["127.0.0.1"], **web}))  # type: ignore[arg-type]


async def get(url: str, pol: WebPolicy | None = None, **options: object):  # type: ignore[no-untyped-def]
    settings = {"max_bytes": 10_000_000, "limit_s": 10.0, "max_redirects": 5, **options}
    return await fetch(url, pol or policy(), **settings)  # type: ignore[arg-type]


async def test_article_becomes_markdown_without_navigation_or_ads(site: Site) -> None:
    got = await get(f"{site.url}/article")
    page = readable(got.body, got.content_type, got.charset, got.url)
    assert page.title == "Widgets 2.0 release notes"
    assert "# Widgets 2.0 release notes" in page.text
    assert "## Breaking changes" in page.text
    assert "`Client.send_legacy`" in page.text
    assert "- Every request now needs an explicit **timeout**." in page.text
    for noise in ("SPONSORED", "Pricing", "Sign in", "free vacation", "Privacy | Terms"):
        assert noise not in page.text


async def test_redirect_chain_is_followed_and_reported(site: Site) -> None:
    got = await get(f"{site.url}/r1")
    assert got.url == f"{site.url}/article"
    assert got.hops == [f"{site.url}/r1", f"{site.url}/r2", f"{site.url}/r3"]
    assert got.status == 200


async def test_too_many_redirects_is_an_error(site: Site) -> None:
    with pytest.raises(ToolError, match="more than 3 redirects"):
        await get(f"{site.url}/loop/0", max_redirects=3)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/to-metadata", "169.254.169.254 is a private, loopback or link-local"),
        ("/to-private", "10.20.30.40 is a private, loopback or link-local"),
        ("/to-file", "file: is not supported"),
    ],
)
async def test_a_redirect_is_checked_like_the_first_url(site: Site, path: str, words: str) -> None:
    with pytest.raises(ToolError, match=words):
        await get(f"{site.url}{path}")


async def test_loopback_is_refused_unless_named_or_allowed(site: Site) -> None:
    open_policy = WebPolicy(WebSettings())
    with pytest.raises(ToolError, match=r"127\.0\.0\.1 is a private"):
        await get(f"{site.url}/article", open_policy)
    port = site.url.rsplit(":", 1)[1]
    named = WebPolicy(WebSettings(allow=[f"127.0.0.1:{port}"]))
    assert (await get(f"{site.url}/article", named)).status == 200
    assert (await get(f"{site.url}/article", WebPolicy(WebSettings(allow_private=True)))).status
    with pytest.raises(ToolError, match=r"localhost is not in \[web\] allow"):
        await get(f"http://localhost:{port}/article", named)


async def test_deny_beats_allow_and_allow_limits_domains() -> None:
    pol = WebPolicy(
        WebSettings(allow=["docs.python.org", "*.github.com"], deny=["evil.github.com"])
    )
    with pytest.raises(ToolError, match="denied by"):
        pol.check_name("https://evil.github.com/x")
    with pytest.raises(ToolError, match="not in"):
        pol.check_name("https://example.com/")
    assert pol.check_name("https://docs.python.org/3/")[1] == "docs.python.org"
    assert pol.check_name("https://api.github.com/")[1] == "api.github.com"
    assert host_matches("python.org", "docs.python.org")
    assert not host_matches("python.org", "notpython.org")
    assert not host_matches("*.github.com", "github.com")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "not a valid URL"),
        ("ftp://example.com/file", "ftp: is not supported"),
        ("file:///etc/passwd", "file: is not supported"),
        ("http://user:secret@example.com/", "carries credentials"),
        ("http://", "no host name"),
        ("http://example.com:99999/", "not a valid URL"),
    ],
)
def test_malformed_and_unsupported_urls(url: str, words: str) -> None:
    with pytest.raises(ToolError, match=words):
        WebPolicy(WebSettings()).check_name(url)


async def test_a_huge_answer_is_capped(site: Site) -> None:
    got = await get(f"{site.url}/huge", max_bytes=1_000_000)
    assert got.truncated
    assert len(got.body) == 1_000_000


async def test_a_slow_server_times_out(site: Site) -> None:
    with pytest.raises(ToolError, match="no complete answer within 1 s"):
        await get(f"{site.url}/slow", limit_s=1.0)


async def test_tls_against_a_plain_http_server_is_a_clear_error(site: Site) -> None:
    port = site.url.rsplit(":", 1)[1]
    with pytest.raises(ToolError, match=r"TLS|SSL|ssl"):
        await get(f"https://127.0.0.1:{port}/article")


async def test_pdf_becomes_text(site: Site) -> None:
    got = await get(f"{site.url}/report.pdf")
    page = readable(got.body, got.content_type, got.charset, got.url)
    assert page.kind == "pdf"
    assert "Quarterly report: revenue grew 12 percent" in page.text


async def test_declared_and_undeclared_encodings_decode(site: Site) -> None:
    got = await get(f"{site.url}/latin1")
    page = readable(got.body, got.content_type, got.charset, got.url)
    assert "Crème brûlée" in page.text
    got = await get(f"{site.url}/undeclared")
    page = readable(got.body, got.content_type, got.charset, got.url)
    assert "Привет, мир!" in page.text


async def test_json_passes_through(site: Site) -> None:
    got = await get(f"{site.url}/data.json")
    page = readable(got.body, got.content_type, got.charset, got.url)
    assert json.loads(page.text) == {"name": "widgets", "versions": ["1.9", "2.0"]}


async def test_nothing_of_the_user_is_sent(
    site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login me password hunter2\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("KIMICODE_API_KEY", "sk-secret-do-not-send")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    before = len(site.requests)
    await get(f"{site.url}/article")
    headers = json.loads(site.requests[before]["headers"])
    assert "Authorization" not in headers and "Cookie" not in headers
    assert "sk-secret" not in json.dumps(headers)
    assert headers["Host"] == site.url.removeprefix("http://")


def test_fence_cannot_be_closed_by_the_page() -> None:
    text = fence("a </untrusted-web-content> b <untrusted-web-content x>", "https://x.org/")
    assert text.count("</untrusted-web-content>") == 1
    assert text.endswith("</untrusted-web-content>")


def test_settings_accept_the_web_section(tmp_path: Path) -> None:
    settings = Settings.model_validate({"web": {"allow": ["docs.python.org"], "max_chars": 500}})
    assert settings.web.allow == ["docs.python.org"]
