"""Keeping the head and the tail of a command's output within a character budget.

Output is collected as it arrives with bounded memory (a command that prints
gigabytes costs no more than the budget), and rendered with a marker saying
how much was cut from the middle, where the least useful part usually is.
"""

from __future__ import annotations

from collections import deque


class OutputCapture:
    def __init__(self, max_chars: int) -> None:
        self.max_chars = max(max_chars, 2)
        self._keep = self.max_chars * 4  # bytes per side: room for any UTF-8 text
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.dropped_bytes = 0

    def feed(self, chunk: bytes) -> None:
        room = self._keep - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size - len(self._tail[0]) >= self._keep:
            gone = len(self._tail.popleft())
            self._tail_size -= gone
            self.dropped_bytes += gone
        excess = self._tail_size - self._keep
        if excess > 0:
            self._tail[0] = self._tail[0][excess:]
            self._tail_size -= excess
            self.dropped_bytes += excess

    def text(self) -> str:
        """The output, or its head and tail around a `[… N characters cut …]` marker."""
        head = self._head.decode("utf-8", "replace")
        tail = b"".join(self._tail).decode("utf-8", "replace")
        if not self.dropped_bytes and len(head) + len(tail) <= self.max_chars:
            return head + tail
        half = self.max_chars // 2
        if not self.dropped_bytes:
            whole = head + tail
            kept_head, kept_tail = whole[:half], whole[len(whole) - half :]
            cut = len(whole) - 2 * half
        else:
            kept_head, kept_tail = head[:half], tail[len(tail) - half :] if half else ""
            cut = (len(head) - len(kept_head)) + self.dropped_bytes + (len(tail) - len(kept_tail))
        return f"{kept_head}\n[… {cut} characters cut …]\n{kept_tail}"
