"""Which files and definitions matter for a task: a personalised PageRank.

Files are nodes; a file that uses an identifier defined in another file links
to it. The walk restarts at the files the task points at (named outright, or
defining an identifier the task names), so rank flows from there along the
reference graph. Each file's rank is then shared out among the definitions its
referrers use. Everything iterates in sorted order so equal input gives equal
output.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass
from operator import mul, sub

from kimicode.repo.languages import language_for
from kimicode.repo.tags import PlainTags

DAMPING = 0.85
ITERATIONS = 40
TOLERANCE = 1e-5
MAX_DEFINERS = 12
"""An identifier defined in more files than this (get, save, __init__) says nothing about links."""

_WORD = re.compile(r"[A-Za-z_$][\w$-]*")


@dataclass(frozen=True, slots=True)
class RankedDefinition:
    score: float
    path: str
    name: str
    kind: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Mentions:
    """What a task names: identifiers and file paths."""

    identifiers: frozenset[str]
    files: dict[str, float]
    """Path -> how strongly the task names it (full path beats base name beats stem)."""


def find_mentions(task: str, paths: list[str], defined: set[str]) -> Mentions:
    tokens = {t.strip(".,:;()[]{}'\"`<>!?") for t in task.split()}
    words = set(_WORD.findall(task))
    identifiers = frozenset(w for w in words if w in defined and len(w) >= 3)
    by_base: dict[str, list[str]] = {}
    by_stem: dict[str, list[str]] = {}
    files: dict[str, float] = {}
    for path in paths:
        base = path.rsplit("/", 1)[-1]
        if path in tokens:
            files[path] = 10.0
        by_base.setdefault(base, []).append(path)
        by_stem.setdefault(base.split(".", 1)[0], []).append(path)
    # A bare name shared by many files (models.py, index.ts) points at none of them.
    for token in sorted(tokens):
        for table, strength in ((by_base, 3.0), (by_stem, 1.0)):
            hits = table.get(token, [])
            if strength == 1.0 and (len(token) < 5 or not _looks_like_code(token)):
                continue
            for path in hits:
                files.setdefault(path, strength / len(hits))
    return Mentions(identifiers, files)


def _looks_like_code(word: str) -> bool:
    return "_" in word.strip("_") or _is_camel(word)


def rank(
    tags: dict[str, PlainTags], task: str = "", *, limit: int | None = None
) -> tuple[list[RankedDefinition], list[str]]:
    """Definitions best first (at most `limit`), and the files the task names (best first)."""
    paths = sorted(tags)
    index = {path: i for i, path in enumerate(paths)}
    families = [_family(path) for path in paths]
    definers: dict[str, list[int]] = {}
    # Links stay within a language family: Python's .replace() is not xregexp's replace.
    family_definers: dict[tuple[str, str], list[int]] = {}
    for i, path in enumerate(paths):
        for name in {d[0] for d in tags[path][0]}:
            definers.setdefault(name, []).append(i)
            family_definers.setdefault((families[i], name), []).append(i)
    for where in definers.values():
        where.sort()
    mentions = find_mentions(task, paths, set(definers))

    # Edges src -> dst through an identifier, weighted by how telling the identifier is.
    triples: list[list[tuple[int, str, float]]] = [[] for _ in paths]
    name_weight: dict[str, float] = {}
    sqrt = math.sqrt
    for src, path in enumerate(paths):
        out = triples[src]
        family = families[src]
        for name, count in tags[path][1].items():
            found = family_definers.get((family, name))
            if found is None or len(found) > MAX_DEFINERS:
                continue
            base = name_weight.get(name)
            if base is None:
                base = _weight(name, len(definers[name]), name in mentions.identifiers)
                name_weight[name] = base
            base /= len(found)
            w = base * sqrt(count)
            for dst in where:
                if dst != src:
                    out.append((dst, name, w))

    personal = [0.0] * len(paths)
    for path, strength in mentions.files.items():
        personal[index[path]] += strength
    for name in sorted(mentions.identifiers):
        strength = 5.0 if _looks_like_code(name) else 0.5
        for i in definers[name]:
            personal[i] += strength / len(definers[name])
    if not any(personal):
        personal = [1.0] * len(paths)
    total = sum(personal)
    personal = [p / total for p in personal]

    file_rank = _pagerank(triples, personal)

    scores: dict[tuple[int, str], float] = {}
    for src, out in enumerate(triples):
        if not out:
            continue
        share = file_rank[src] / sum(w for _, _, w in out)
        for dst, name, w in out:
            key = (dst, name)
            scores[key] = scores.get(key, 0.0) + share * w
    bonus = {
        name: (1.0 if _looks_like_code(name) else 0.01) / len(definers[name])
        for name in mentions.identifiers
    }
    candidates: list[tuple[float, str, int, str, int]] = []
    for i, path in enumerate(paths):
        defs = tags[path][0]
        if not defs:
            continue
        own = file_rank[i] * 0.1 / sqrt(len(defs))
        for j, (name, _, line, _) in enumerate(defs):
            score = scores.get((i, name), 0.0) + own + bonus.get(name, 0.0)
            candidates.append((-score, path, line, name, j))
    if limit is None:
        candidates.sort()
    else:
        candidates = heapq.nsmallest(limit, candidates)
    ranked = [
        RankedDefinition(-neg, path, *_pick(tags[path][0][j])) for neg, path, _, _, j in candidates
    ]
    named_files = sorted(mentions.files, key=lambda p: (-mentions.files[p], p))
    return ranked, named_files


def _pick(d: tuple[str, str, int, str]) -> tuple[str, str, int, str]:
    return d[0], d[1], d[2], d[3]


_FAMILIES = {
    "javascript": "js",
    "typescript": "js",
    "tsx": "js",
    "html": "web",
    "css": "web",
    "c": "c",
    "cpp": "c",
}


def _family(path: str) -> str:
    language = language_for(path) or ""
    return _FAMILIES.get(language, language)


def _weight(name: str, n_definers: int, mentioned: bool) -> float:
    w = 1.0
    if mentioned:
        w *= 10.0
    if len(name) >= 8 and _looks_like_code(name):
        w *= 3.0
    if name.startswith("_"):
        w *= 0.1
    if n_definers > 5:
        w *= 0.1
    return w


def _is_camel(name: str) -> bool:
    return any(c.isupper() for c in name[1:]) and any(c.islower() for c in name)


def _pagerank(triples: list[list[tuple[int, str, float]]], personal: list[float]) -> list[float]:
    n = len(personal)
    if n == 0:
        return []
    # Collapse the identifier level into one weighted edge per (src, dst), then
    # store edges by destination so each step is a C-level sum per node.
    sources: list[list[int]] = [[] for _ in range(n)]
    weights: list[list[float]] = [[] for _ in range(n)]
    dangling_nodes: list[int] = []
    for src, out in enumerate(triples):
        merged: dict[int, float] = {}
        for dst, _, w in out:
            merged[dst] = merged.get(dst, 0.0) + w
        total = sum(merged.values())
        if not total:
            dangling_nodes.append(src)
            continue
        for dst, w in sorted(merged.items()):
            sources[dst].append(src)
            weights[dst].append(DAMPING * w / total)
    incoming = [(i, s, w) for i, (s, w) in enumerate(zip(sources, weights, strict=True)) if s]
    rank = personal[:]
    for _ in range(ITERATIONS):
        dangling = sum(rank[i] for i in dangling_nodes)
        restart = 1.0 - DAMPING + DAMPING * dangling
        nxt = [restart * p for p in personal]
        get = rank.__getitem__
        for dst, srcs, ws in incoming:
            nxt[dst] += sum(map(mul, map(get, srcs), ws))
        delta = sum(map(abs, map(sub, nxt, rank)))
        rank = nxt
        if delta < TOLERANCE:
            break
    return rank
