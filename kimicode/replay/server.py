"""The replay server: an OpenAI-compatible endpoint on 127.0.0.1 that plays a script.

Tests, the demo and deterministic CI runs point `--base-url` at it. It records
every request (`requests`), every request it could not answer (`errors`) and
every uploaded file (`uploads`), so a test can assert on what the client sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from kimicode.replay import answer
from kimicode.replay.limits import ProviderCap
from kimicode.replay.script import Mismatch, Route, Script

log = logging.getLogger(__name__)


class ReplayServer:
    """Serves a replay script over HTTP; `start()` it, point a client at `url`."""

    def __init__(
        self,
        script: dict[str, Any] | str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float | None = None,
        record_requests: bool = True,
        max_in_flight: int | None = None,
        retry_after: float | None = None,
        requests_per_minute: int | None = None,
    ) -> None:
        self.script = Script.load(script)
        self.cap = ProviderCap.from_script(
            self.script.limits,
            max_in_flight=max_in_flight,
            retry_after=retry_after,
            requests_per_minute=requests_per_minute,
        )
        """A provider's rate limits (the script's `limits`, these options on top)."""
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        """When set, the wait before every answer's first byte, whatever the script says."""
        self.record_requests = record_requests
        self.requests: list[dict[str, Any]] = []
        """One record per chat request: body, conversation, key, turn, status, peer, api_key."""
        self.errors: list[str] = []
        self.uploads: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{file_id}", self._file)
        app.router.add_get("/replay/state", self._state)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handlers -------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse(None, "replay: the request body is not JSON")
        record: dict[str, Any] = {
            "body": body if self.record_requests else None,
            "conversation": None,
            "key": None,
            "turn": None,
            "status": 400,
            "peer": _peer(request),
            "api_key": request.headers.get("Authorization", "").removeprefix("Bearer "),
        }
        self.requests.append(record)
        refusal = self.cap.admit()
        if refusal is not None:
            return self._throttle(record, refusal.message, refusal.retry_after)
        try:
            return await self._answer(request, raw, body, record)
        finally:
            self.cap.release()

    async def _answer(
        self, request: web.Request, raw: bytes, body: dict[str, Any], record: dict[str, Any]
    ) -> web.StreamResponse:
        try:
            route = self.script.route(body)
        except Mismatch as exc:
            return self._refuse(record, str(exc))
        record.update(conversation=route.conversation, key=route.key, turn=route.turn_index)
        turn = route.turn
        await self._sleep(self._latency(turn))
        fault = route.fault or {}
        if "status" in fault:
            return self._fault_status(record, fault)
        calls = answer.tool_calls(turn)
        used = answer.usage(turn, len(raw), calls)
        model = body.get("model") or self.script.model
        if not body.get("stream"):
            record["status"] = 200
            self.script.advance(route)
            return web.json_response(answer.message_response(turn, model, calls, used))
        options = body.get("stream_options") or {}
        events = answer.stream_chunks(
            turn,
            model,
            calls,
            used,
            pieces=int(self._setting(turn, "chunks", 4)),
            usage_style=self.script.usage_style,
            include_usage=bool(options.get("include_usage")),
        )
        return await self._stream(request, record, route, events, fault)

    async def _stream(
        self,
        request: web.Request,
        record: dict[str, Any],
        route: Route,
        events: list[bytes],
        fault: dict[str, Any],
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        delay = float(self._setting(route.turn, "chunk_delay_ms", 0)) / 1000
        cut = fault.get("cut_after_chunks")
        last = len(events) - 1
        sent = 0
        try:
            await response.prepare(request)
            record["status"] = 200
            # chunks keep to their schedule (not "sleep after each write", which adds every
            # write's lateness to the next), so a call streams as long with 300 streams open
            # as with one
            paced_from = asyncio.get_running_loop().time()
            for n, event in enumerate(events):
                if cut is not None and n >= int(cut):
                    record["status"] = "cut"
                    if request.transport is not None:
                        request.transport.abort()
                    return response
                if n == last:
                    self.script.advance(route)
                await response.write(event)
                sent = n + 1
                if delay and n < last:
                    due = paced_from + (n + 1) * delay - asyncio.get_running_loop().time()
                    await asyncio.sleep(max(0.0, due))
            await response.write_eof()
        except (ConnectionError, RuntimeError) as exc:
            # The client went away mid-answer (a killed process, a dead node): end this
            # answer only. A turn not delivered whole is served again to the next ask.
            if sent <= last:
                self.script.rewind(route)
            record["status"] = "client gone"
            log.info("replay: client gone after %d of %d chunks: %s", sent, last + 1, exc)
        return response

    def _fault_status(self, record: dict[str, Any], fault: dict[str, Any]) -> web.Response:
        status = int(fault["status"])
        message = fault.get("message") or f"replay: injected fault {status}"
        return self._throttle(record, message, fault.get("retry_after"), status)

    @staticmethod
    def _throttle(
        record: dict[str, Any], message: str, retry_after: float | None, status: int = 429
    ) -> web.Response:
        """An error answer the way providers send one, `Retry-After` only when given."""
        record["status"] = status
        headers = {}
        if retry_after is not None:
            number = isinstance(retry_after, (int, float))
            headers["Retry-After"] = f"{retry_after:g}" if number else str(retry_after)
        kind = "rate_limit_reached_error" if status == 429 else "server_error"
        return web.json_response(
            {"error": {"message": message, "type": kind}}, status=status, headers=headers
        )

    def _refuse(self, record: dict[str, Any] | None, message: str) -> web.Response:
        self.errors.append(message)
        if record is not None:
            record["error"] = message
        error = {"message": message, "type": "invalid_request_error", "code": "replay_mismatch"}
        return web.json_response({"error": error}, status=400)

    async def _models(self, request: web.Request) -> web.Response:
        created = int(time.time())
        data = [
            {"id": name, "object": "model", "created": created, "owned_by": "replay", **caps}
            for name, caps in self.script.models.items()
        ]
        return web.json_response({"object": "list", "data": data})

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return self._refuse(None, "replay: a file upload needs a multipart 'file' field")
        content = upload.file.read()
        info = {
            "id": f"file-replay{len(self.uploads) + 1}",
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": upload.filename,
            "purpose": str(form.get("purpose", "")),
            "status": "processed",
        }
        self.uploads.append({**info, "content_type": upload.content_type, "content": content})
        return web.json_response(info)

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        for upload in self.uploads:
            if upload["id"] == file_id:
                return web.json_response(
                    {k: v for k, v in upload.items() if k not in ("content", "content_type")}
                )
        return web.json_response({"error": {"message": f"no file {file_id}"}}, status=404)

    async def _state(self, request: web.Request) -> web.Response:
        """What a test in another process needs: requests, errors, uploads (without bytes)."""
        uploads = [{k: v for k, v in u.items() if k != "content"} for u in self.uploads]
        return web.json_response(
            {
                "requests": self.requests,
                "errors": self.errors,
                "uploads": uploads,
                "limits": self.cap.state(),
            }
        )

    # -- helpers --------------------------------------------------------------

    def _setting(self, turn: dict[str, Any], name: str, default: float) -> Any:
        if name in turn:
            return turn[name]
        return self.script.defaults.get(name, default)

    def _latency(self, turn: dict[str, Any]) -> float:
        if self.latency_ms is not None:
            return self.latency_ms / 1000
        return float(self._setting(turn, "latency_ms", 0)) / 1000

    @staticmethod
    async def _sleep(seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)


@contextlib.contextmanager
def replay_in_thread(script: dict[str, Any] | str | Path, **options: Any) -> Iterator[ReplayServer]:
    """A running ReplayServer on its own event loop in a thread; for sync tests and subprocesses."""
    server = ReplayServer(script, **options)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, name="replay-server", daemon=True)
    thread.start()
    ready.wait()
    if failure:
        raise failure[0]
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def serve(script_path: Path, host: str, port: int, latency_ms: float | None, **limits: Any) -> None:
    """Serve until SIGINT/SIGTERM; prints the base URL on stdout once listening.

    `limits`: `max_in_flight`, `retry_after`, `requests_per_minute` (see ProviderCap).
    """

    async def main() -> None:
        server = ReplayServer(script_path, host=host, port=port, latency_ms=latency_ms, **limits)
        await server.start()
        print(server.url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(main())


def _peer(request: web.Request) -> str | None:
    """The client's address and port: requests on one kept-alive connection share it."""
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else None
