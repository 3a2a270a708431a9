"""Append-only JSONL session logs under the platform data dir.

One line per record, written and flushed as it happens, so a crash loses at
most the line in flight. Records: `meta` (first line), `message` (history),
`event` (what UIs saw), `compaction` (the history as rewritten). Resuming reads
the last compaction plus the messages after it, and repairs tool calls left
without results (a session cut off mid-call) so the API never sees them dangling.

The log grows with the conversation, not with steps times history: each
message carries an `id`, and a compaction record lists the new history as
references (`{"ref": id}`) to messages already in the log, writing out only
what is new (the summary, elided copies the first time). Loading keeps only
the messages the current history can still reference, and skips events unless
asked for them. Logs written before ids (whole-history compactions) still load.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimicode.errors import UsageError
from kimicode.paths import data_dir
from kimicode.sessions.coalesce import FlushLater

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
    """An open session file; each line is flushed by the end of the loop turn that wrote it
    (`kimicode.sessions.coalesce`)."""

    def __init__(self, path: Path, session_id: str) -> None:
        self.id = session_id
        self.path = path
        self.dir = path.with_suffix("")
        self._fh = path.open("a", encoding="utf-8")
        self._epoch = secrets.token_hex(3)
        """Ids are `<epoch>.<n>`: a reopened log never reuses the ids written before."""
        self._count = 0
        self._ids: dict[bytes, str] = {}
        """Digest of a message's JSON -> the id it was logged under."""
        self._later = FlushLater(self.flush)

    def write(self, kind: str, **data: Any) -> None:
        line = json.dumps({"kind": kind, "t": round(time.time(), 3), **data}, default=str)
        self._fh.write(line + "\n")
        self._later.request()

    def flush(self) -> None:
        if not self._fh.closed:
            self._fh.flush()

    def message(self, message: Message) -> None:
        self.write("message", id=self._new_id(message), message=message)

    def event(self, event: Any) -> None:
        if event.type not in SKIP_EVENTS:
            self.write("event", event=event.to_dict())

    def compaction(self, messages: list[Message]) -> None:
        """The rewritten history: references where a message is already logged."""
        items: list[dict[str, Any]] = []
        for message in messages:
            known = self._ids.get(_digest(message))
            if known is not None:
                items.append({"ref": known})
            else:
                items.append({"id": self._new_id(message), "message": message})
        self.write("compaction", items=items)

    def _new_id(self, message: Message) -> str:
        self._count += 1
        message_id = f"{self._epoch}.{self._count}"
        self._ids[_digest(message)] = message_id
        return message_id

    def close(self) -> None:
        self._fh.close()  # flushes what this turn wrote


def _digest(message: Message) -> bytes:
    text = json.dumps(message, sort_keys=True, default=str).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).digest()


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

    def load(self, session_id: str, *, events: bool = False) -> LoadedSession:
        """The history to resume (and, with `events`, what UIs saw), read in one pass."""
        path = self._path(session_id)
        info = _read_info(path)
        if info is None:
            raise UsageError(f"session {session_id} is empty or damaged")
        messages: list[Message] = []
        ids: list[str | None] = []
        by_id: dict[str, Message] = {}
        seen: list[dict[str, Any]] = []
        for record in _records(path, events=events):
            kind = record.get("kind")
            if kind == "message":
                messages.append(record["message"])
                ids.append(record.get("id"))
            elif kind == "compaction":
                by_id.update((i, m) for i, m in zip(ids, messages, strict=True) if i)
                messages, ids = _rebuilt(record, by_id)
                by_id = {i: m for i, m in zip(ids, messages, strict=True) if i}
            elif kind == "event":
                seen.append(record["event"])
        return LoadedSession(info, repair_dangling(messages), seen)


def _rebuilt(
    record: dict[str, Any], by_id: dict[str, Message]
) -> tuple[list[Message], list[str | None]]:
    """The history a compaction record describes (references resolved)."""
    if "items" not in record:  # a log from before ids: the whole history inline
        old = list(record.get("messages") or [])
        return old, [None] * len(old)
    messages: list[Message] = []
    ids: list[str | None] = []
    for item in record["items"]:
        if "ref" in item:
            found = by_id.get(item["ref"])
            if found is None:  # the line it points at was lost in a crash
                continue
            messages.append(found)
            ids.append(item["ref"])
        else:
            messages.append(item["message"])
            ids.append(item.get("id"))
    return messages, ids


def _records(path: Path, *, events: bool) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not events and line.startswith('{"kind": "event"'):
                continue  # most of a long log; resuming does not need it
            try:
                yield json.loads(line)
            except ValueError:  # the line in flight when a crash happened
                continue


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
