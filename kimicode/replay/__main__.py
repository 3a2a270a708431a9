"""`python -m kimicode.replay SCRIPT --port N`: serve a replay script until interrupted."""

from __future__ import annotations

import argparse
from pathlib import Path

from kimicode.replay.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kimicode.replay", description=__doc__)
    parser.add_argument("script", type=Path, help="replay script (JSON)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--latency-ms", type=float, default=None, help="wait before every answer's first byte"
    )
    parser.add_argument(
        "--max-in-flight", type=int, default=None, help="answer 429 past N requests at once"
    )
    parser.add_argument(
        "--retry-after", type=float, default=None, help="Retry-After seconds sent with a 429"
    )
    parser.add_argument(
        "--requests-per-minute", type=int, default=None, help="answer 429 past N a minute"
    )
    args = parser.parse_args(argv)
    serve(
        args.script,
        args.host,
        args.port,
        args.latency_ms,
        max_in_flight=args.max_in_flight,
        retry_after=args.retry_after,
        requests_per_minute=args.requests_per_minute,
    )


if __name__ == "__main__":
    main()
