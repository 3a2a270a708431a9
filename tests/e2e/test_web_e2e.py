"""fetch_url and web_search through the real entry point, a scripted model and a real local site."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import call, requests_of, script, turn

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from web_site import Site, web_site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with web_site() as served:
        yield served


def configure(repo: Path, text: str) -> None:
    (repo / ".kimicode").mkdir(exist_ok=True)
    (repo / ".kimicode" / "config.toml").write_text(text)


def tool_result(server) -> str:  # type: ignore[no-untyped-def]
    """The content of the first tool message the model was sent."""
    for body in requests_of(server):
        for message in body["messages"]:
            if message["role"] == "tool":
                return str(message["content"])
    raise AssertionError("no tool result reached the model")


def offered(server) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return requests_of(server)[0].get("tools", [])


def fetch_script(url: str) -> dict:  # type: ignore[type-arg]
    return script(
        ("read the release notes", [turn(tool_calls=[call("fetch_url", url=url)]), turn("Read.")])
    )


def test_fetch_url_gives_the_article_as_fenced_markdown(
    repo: Path, replay, kimicode, site: Site
) -> None:
    configure(
        repo, '[web]\nallow = ["127.0.0.1"]\n[permissions]\nallow = ["fetch_url(127.0.0.1)"]\n'
    )
    server = replay(fetch_script(f"{site.url}/r1"))
    res = kimicode("-p", "read the release notes", cwd=repo, server=server)
    assert res.code == 0, res
    text = tool_result(server)
    assert text.startswith("Title: Widgets 2.0 release notes\n")
    assert f"URL: {site.url}/article" in text
    assert f"Redirected from: {site.url}/r1 -> {site.url}/r2 -> {site.url}/r3" in text
    assert f'<untrusted-web-content source="{site.url}/article">' in text
    assert "## Breaking changes" in text and "`Client.send_legacy`" in text
    assert "SPONSORED" not in text and "Sign in" not in text
    names = [t["function"]["name"] for t in offered(server)]
    assert "fetch_url" in names and "web_search" not in names  # no provider configured


def test_print_mode_refuses_fetch_url_unless_allowed(
    repo: Path, replay, kimicode, site: Site
) -> None:
    configure(repo, '[web]\nallow = ["127.0.0.1"]\n')
    server = replay(fetch_script(f"{site.url}/article"))
    before = len(site.requests)
    res = kimicode("-p", "read the release notes", cwd=repo, server=server)
    assert res.code == 0, res
    text = tool_result(server)
    assert "needs approval" in text and "fetch_url(127.0.0.1)" in text
    assert len(site.requests) == before  # nothing was fetched


def test_deny_rule_wins_under_yolo(repo: Path, replay, kimicode, site: Site) -> None:
    configure(repo, '[web]\nallow_private = true\n[permissions]\ndeny = ["fetch_url(127.0.0.*)"]\n')
    server = replay(fetch_script(f"{site.url}/article"))
    before = len(site.requests)
    res = kimicode("-p", "--yolo", "read the release notes", cwd=repo, server=server)
    assert res.code == 0, res
    assert "is denied" in tool_result(server)
    assert len(site.requests) == before


def test_a_redirect_into_the_private_network_is_refused(
    repo: Path, replay, kimicode, site: Site
) -> None:
    port = site.url.rsplit(":", 1)[1]
    configure(repo, f'[web]\nallow = ["127.0.0.1:{port}"]\n')
    server = replay(fetch_script(f"{site.url}/to-metadata"))
    res = kimicode("-p", "--yolo", "read the release notes", cwd=repo, server=server)
    assert res.code == 0, res
    text = tool_result(server)
    assert "169.254.169.254 is a private, loopback or link-local address" in text


def test_the_domain_allow_list_holds(repo: Path, replay, kimicode, site: Site) -> None:
    configure(repo, '[web]\nallow = ["docs.python.org"]\n')
    port = site.url.rsplit(":", 1)[1]
    server = replay(fetch_script(f"http://localhost:{port}/article"))
    res = kimicode("-p", "--yolo", "read the release notes", cwd=repo, server=server)
    assert res.code == 0, res
    assert "is not in [web] allow (docs.python.org)" in tool_result(server)


def test_bad_urls_are_tool_errors_not_crashes(repo: Path, replay, kimicode, site: Site) -> None:
    configure(repo, '[web]\nallow = ["127.0.0.1"]\n')
    urls = ["ftp://example.com/x", "not a url", f"{site.url}/missing", "file:///etc/passwd"]
    server = replay(
        script(
            (
                "read the release notes",
                [turn(tool_calls=[call("fetch_url", url=u) for u in urls]), turn("Done.")],
            )
        )
    )
    res = kimicode("-p", "--yolo", "read the release notes", cwd=repo, server=server)
    assert res.code == 0, res
    results = [m["content"] for m in requests_of(server)[-1]["messages"] if m["role"] == "tool"]
    assert "ftp: is not supported" in results[0]
    assert "not a valid URL" in results[1]
    assert "answered HTTP 404" in results[2]
    assert "file: is not supported" in results[3]


def test_web_search_through_searxng(repo: Path, replay, kimicode, site: Site) -> None:
    configure(
        repo,
        f'[web]\nsearxng_url = "{site.url}"\n[permissions]\nallow = ["web_search"]\n',
    )
    server = replay(
        script(
            (
                "survey i18n",
                [
                    turn(tool_calls=[call("web_search", query="static site i18n", max_results=2)]),
                    turn("Surveyed."),
                ],
            )
        )
    )
    res = kimicode("-p", "survey i18n", cwd=repo, server=server)
    assert res.code == 0, res
    text = tool_result(server)
    assert "2 results for 'static site i18n' (searxng)" in text
    assert "1. Hugo i18n\n   https://gohugo.io/content-management/multilingual/" in text
    assert "(static site i18n)" in text  # the query reached the provider
    assert "Eleventy" not in text  # max_results held
    names = [t["function"]["name"] for t in offered(server)]
    assert "web_search" in names


def test_kimi_builtin_web_search_is_echoed_back(repo: Path, replay, kimicode) -> None:
    configure(repo, '[model]\nprovider = "moonshot"\n[permissions]\nallow = ["web_search"]\n')
    arguments = {"search_result": {"search_id": "srch-42"}, "usage": {"total_tokens": 321}}
    server = replay(
        script(
            (
                "what changed in httpx",
                [turn(tool_calls=[call("$web_search", **arguments)]), turn("It changed.")],
            )
        )
    )
    res = kimicode("-p", "what changed in httpx", cwd=repo, server=server)
    assert res.code == 0, res
    first, second = requests_of(server)
    assert {"type": "builtin_function", "function": {"name": "$web_search"}} in first["tools"]
    echoed = [m for m in second["messages"] if m["role"] == "tool"]
    assert len(echoed) == 1 and json.loads(echoed[0]["content"]) == arguments


def test_config_show_says_why_web_search_is_missing(repo: Path, kimicode) -> None:
    res = kimicode("config", "show", cwd=repo)
    assert res.code == 0, res
    assert "web_search: offered: Kimi's built-in $web_search" in res.stdout  # the default
    local = {"KIMICODE_BASE_URL": "http://127.0.0.1:8000/v1"}
    res = kimicode("config", "show", cwd=repo, env=local)
    assert "web_search: not offered: no search provider" in res.stdout
    configure(repo, '[web]\nsearch = "searxng"\n')
    res = kimicode("config", "show", cwd=repo, env=local)
    assert 'web_search: not offered: [web] search = "searxng" needs [web] searxng_url' in res.stdout
