"""Append-only JSONL session logs under the platform data dir.

One line per record, written and flushed as it happens, so a crash loses at
most the line in flight. Records: `meta` (first line), `message` (history),
`event` (what UIs saw), `compaction` (the history as rewritten). Resuming reads
the last compaction plus the messages after it, and repairs tool calls left
without results (a session cut off mid-call) so the API never sees them dangling.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode.errors import UsageError
from kimicode.paths import data_dir

Message = dict[str, Any]
SKIP_EVENTS = {"text_delta", "reasoning_delta"}
INTERRUPTED = "interrupted: the session ended before this tool call finished"


@dataclass(slots=True)
class SessionInfo:
    id: str
    cwd: str
    created: float
    model: str
    title: str
    path: Path
    messages: int = 0


@dataclass(slots=True)
class LoadedSession:
    info: SessionInfo
    messages: list[Message]
    events: list[dict[str, Any]] = field(default_factory=list)


class SessionLog:
    """An open session file; every write is one flushed line."""

    def __init__(self, path: Path, session_id: str) -> None:
        self.id = session_id
        self.path = path
        self.dir = path.with_suffix("")
        self._fh = path.open("a", encoding="utf-8")

    def write(self, kind: str, **data: Any) -> None:
        line = json.dumps({"kind": kind, "t": round(time.time(), 3), **data}, default=str)
        self._fh.write(line + "\n")
        self._fh.flush()

    def message(self, message: Message) -> None:
        self.write("message", message=message)

    def event(self, event: Any) -> None:
        if event.type not in SKIP_EVENTS:
            self.write("event", event=event.to_dict())

    def compaction(self, messages: list[Message]) -> None:
        self.write("compaction", messages=messages)

    def close(self) -> None:
        self._fh.close()


class SessionStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir() / "sessions"

    def create(self, cwd: Path, model: str, title: str = "") -> SessionLog:
        self.root.mkdir(parents=True, exist_ok=True)
        session_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        log = SessionLog(self.root / f"{session_id}.jsonl", session_id)
        log.write("meta", id=session_id, cwd=str(cwd), model=model, title=title[:120])
        return log

    def reopen(self, session_id: str) -> SessionLog:
        return SessionLog(self._path(session_id), session_id)

    def _path(self, session_id: str) -> Path:
        path = self.root / f"{session_id}.jsonl"
        if not path.is_file() or "/" in session_id:
            raise UsageError(f"no session {session_id!r}; `kimicode sessions list` shows them")
        return path

    def list(self, cwd: Path | None = None) -> list[SessionInfo]:
        if not self.root.is_dir():
            return []
        infos = []
        for path in self.root.glob("*.jsonl"):
            info = _read_info(path)
            if info and (cwd is None or Path(info.cwd) == cwd):
                infos.append(info)
        return sorted(infos, key=lambda i: (i.created, i.id), reverse=True)

    def latest(self, cwd: Path) -> str | None:
        found = self.list(cwd)
        return found[0].id if found else None

    def load(self, session_id: str) -> LoadedSession:
        path = self._path(session_id)
        info = _read_info(path)
        if info is None:
            raise UsageError(f"session {session_id} is empty or damaged")
        messages: list[Message] = []
        events: list[dict[str, Any]] = []
        for record in _records(path):
            kind = record.get("kind")
            if kind == "message":
                messages.append(record["message"])
            elif kind == "compaction":
                messages = list(record["messages"])
            elif kind == "event":
                events.append(record["event"])
        return LoadedSession(info, repair_dangling(messages), events)


def _records(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except ValueError:  # the line in flight when a crash happened
                continue
    return out


def _read_info(path: Path) -> SessionInfo | None:
    try:
        with path.open(encoding="utf-8") as fh:
            meta = json.loads(fh.readline())
            count, title = 0, str(meta.get("title", ""))
            for line in fh:
                if not line.startswith('{"kind": "message"'):
                    continue
                count += 1
                if not title and '"role": "user"' in line:
                    title = _title_of(line)
    except (OSError, ValueError):
        return None
    if meta.get("kind") != "meta":
        return None
    return SessionInfo(
        id=meta["id"],
        cwd=meta.get("cwd", ""),
        created=meta.get("t", 0.0),
        model=meta.get("model", ""),
        title=title,
        path=path,
        messages=count,
    )


def _title_of(line: str, limit: int = 60) -> str:
    """A session's title: the first line of its first prompt."""
    try:
        message = json.loads(line).get("message", {})
    except ValueError:
        return ""
    content = message.get("content")
    if isinstance(content, list):
        content = next((p.get("text", "") for p in content if isinstance(p, dict)), "")
    first = str(content or "").strip().split("\n", 1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1] + "…"


def repair_dangling(messages: list[Message]) -> list[Message]:
    """Give every tool call a result; drop results whose call is gone."""
    out: list[Message] = []
    pending: list[str] = []

    def flush() -> None:
        for call_id in pending:
            out.append({"role": "tool", "tool_call_id": call_id, "content": INTERRUPTED})
        pending.clear()

    known: set[str] = set()
    for msg in messages:
        role = msg.get("role")
        if role == "tool":
            call_id = msg.get("tool_call_id")
            if call_id in pending:
                pending.remove(call_id)
                out.append(msg)
            continue  # an orphan result (its call was compacted away) is dropped
        flush()
        out.append(msg)
        if role == "assistant":
            for call in msg.get("tool_calls") or ():
                if call["id"] not in known:
                    known.add(call["id"])
                    pending.append(call["id"])
    flush()
    return out
