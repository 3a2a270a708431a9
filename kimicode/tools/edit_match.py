"""Finding where `old_string` sits in a file: exactly, then tolerant of whitespace.

Models often copy a block with the wrong indentation or with trailing spaces
lost. The tolerant match compares whole lines with runs of whitespace
collapsed, replaces the original lines, and re-indents the new text so it sits
where the old block sat. When nothing matches, `closest_lines` finds the most
similar block so the error can show the model what the file really says.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from difflib import SequenceMatcher

from kimicode.tools.text_files import split_lines

MAX_COMPARED_CHARS = 20_000
"""No line (or old_string) longer than this is compared for similarity."""


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    """Character offset where the replaced text begins."""
    end: int
    replacement: str
    line: int
    """1-based line number of the start, for messages."""


def exact_matches(text: str, old: str, new: str) -> list[Match]:
    out = []
    pos = text.find(old)
    line, counted = 1, 0
    while pos != -1:
        line += text.count("\n", counted, pos)  # counted once, left to right: linear
        counted = pos
        out.append(Match(pos, pos + len(old), new, line))
        pos = text.find(old, pos + len(old))
    return out


def tolerant_matches(text: str, old: str, new: str) -> list[Match]:
    """Whole-line matches of `old` ignoring how whitespace is laid out in each line.

    Linear in the file: the normalised lines are searched with Knuth-Morris-Pratt,
    so no file (one 50 MB line, a million identical ones) makes it quadratic.
    """
    old_lines = split_lines(old)
    wanted = _trim_blank(old_lines)
    if not wanted:
        return []
    lead = next(i for i, line in enumerate(old_lines) if line.strip())
    trail = len(old_lines) - lead - len(wanted)
    new_lines = _drop_blank_ends(split_lines(new), lead, trail)
    wanted_norm = [_norm(line) for line in wanted]
    spans = _line_spans(text)
    file_norm = [_norm(text[s:e]) for s, e, _ in spans]
    k = len(wanted_norm)
    out = []
    for i in _occurrences(file_norm, wanted_norm):
        block = [text[s:e] for s, e, _ in spans[i : i + k]]
        start, end = spans[i][0], spans[i + k - 1][2]
        ends_with_newline = text[spans[i + k - 1][1] : end] != ""
        newline = "\r\n" if block[0].endswith("\r") else "\n"
        block = [line.rstrip("\r") for line in block]
        lines = _reindent(new_lines, wanted, block)
        replacement = newline.join(lines)
        if lines and ends_with_newline:
            replacement += newline
        out.append(Match(start, end, replacement, i + 1))
    return out


def _occurrences(items: list[str], wanted: list[str]) -> list[int]:
    """Start indexes of non-overlapping occurrences of `wanted` in `items`, left to right."""
    k = len(wanted)
    fail = [0] * k
    j = 0
    for i in range(1, k):
        while j and wanted[i] != wanted[j]:
            j = fail[j - 1]
        if wanted[i] == wanted[j]:
            j += 1
        fail[i] = j
    out: list[int] = []
    j = 0
    for i, item in enumerate(items):
        while j and item != wanted[j]:
            j = fail[j - 1]
        if item == wanted[j]:
            j += 1
        if j == k:
            out.append(i - k + 1)
            j = 0  # non-overlapping: start afresh after a match
    return out


def apply(text: str, matches: list[Match]) -> str:
    parts = []
    pos = 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(m.replacement)
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)


def closest_lines(text: str, old: str, *, context: int = 2) -> str:
    """The file's block most similar to `old`, numbered like read_file; "" when none is close.

    Similarity is quadratic in a line's length, so lines far longer than the
    ones looked for (minified code) are never compared: the cost stays bounded.
    """
    lines = split_lines(text)
    wanted = _trim_blank(split_lines(old))
    if not lines or not wanted:
        return ""
    k = len(wanted)
    target = "\n".join(_norm(line) for line in wanted)
    limit = _comparable_length(max(len(line) for line in wanted))
    if len(target) > MAX_COMPARED_CHARS:
        return ""
    starts: set[int] = set()
    for anchor_index in {0, k - 1}:
        for i in _most_similar(lines, _norm(wanted[anchor_index]), limit):
            starts.add(max(0, min(i - anchor_index, len(lines) - k)))
    best_score, best_start = 0.0, -1
    for start in sorted(starts):
        if any(len(line) > limit for line in lines[start : start + k]):
            continue
        window = "\n".join(_norm(line) for line in lines[start : start + k])
        score = SequenceMatcher(None, window, target, autojunk=False).ratio()
        if score > best_score:
            best_score, best_start = score, start
    if best_start < 0 or best_score < 0.5:
        return ""
    lo = max(0, best_start - context)
    hi = min(len(lines), best_start + k + context)
    return "\n".join(f"{n + 1:>6}\t{lines[n]}" for n in range(lo, hi))


def _comparable_length(longest_wanted: int) -> int:
    """Lines longer than this cannot be "the most similar" to a line of that length."""
    return min(4 * longest_wanted + 200, MAX_COMPARED_CHARS)


def _most_similar(lines: list[str], probe: str, limit: int, keep: int = 8) -> list[int]:
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(probe)
    best: list[tuple[float, int]] = []
    for i, line in enumerate(lines):
        if len(line) > limit:
            continue
        matcher.set_seq1(_norm(line))
        floor = best[0][0] if len(best) == keep else -1.0
        if matcher.real_quick_ratio() <= floor or matcher.quick_ratio() <= floor:
            continue
        score = matcher.ratio()
        if len(best) < keep:
            heapq.heappush(best, (score, i))
        elif score > floor:
            heapq.heapreplace(best, (score, i))
    return [i for _, i in best]


def _line_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, end without newline, end with newline) for each line."""
    spans = []
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        if nl == -1:
            spans.append((pos, len(text), len(text)))
            break
        spans.append((pos, nl, nl + 1))
        pos = nl + 1
    return spans


def _norm(line: str) -> str:
    return " ".join(line.split())


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _drop_blank_ends(lines: list[str], lead: int, trail: int) -> list[str]:
    """Drop as many blank lines from each end as were trimmed from the old text."""
    start, end = 0, len(lines)
    while lead and start < end and not lines[start].strip():
        start, lead = start + 1, lead - 1
    while trail and end > start and not lines[end - 1].strip():
        end, trail = end - 1, trail - 1
    return lines[start:end]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(new_lines: list[str], old_lines: list[str], file_lines: list[str]) -> list[str]:
    """Shift `new_lines` by the indentation difference between the old text and the file."""
    old_ind = next((_indent(x) for x in old_lines if x.strip()), "")
    file_ind = next((_indent(x) for x in file_lines if x.strip()), "")
    if old_ind == file_ind:
        return new_lines
    out = []
    for line in new_lines:
        if not line.strip():
            out.append("")
        elif line.startswith(old_ind):
            out.append(file_ind + line[len(old_ind) :])
        else:  # dedented past the block's first line: take the same amount off the file's indent
            shortfall = len(old_ind) - len(_indent(line))
            out.append(file_ind[: max(0, len(file_ind) - shortfall)] + line.lstrip())
    return out
