"""A helper process for the cold scan: `python -m kimicode.repo.scan_worker OUT`.

Reads the repository root and NUL-separated relative paths from stdin, writes
the marshalled [(path, plain tags or None)] to OUT. Run as its own interpreter
(not multiprocessing) so it never re-imports the caller's main module.
"""

from __future__ import annotations

import marshal
import sys

from kimicode.repo.tags import scan_batch


def main() -> None:
    root, *rels = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\0")
    results = scan_batch(root, [r for r in rels if r])
    with open(sys.argv[1], "wb") as out:
        marshal.dump(results, out)


if __name__ == "__main__":
    main()
