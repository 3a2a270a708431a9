"""Client CPU per streamed chunk: kimicode's raw SSE client against the openai SDK's typed stream.

100 parallel streams of 50 chunks each (50 chunks a second per stream by
default) from the replay server, which runs in its own process so that the
process CPU time measured here is the client's alone.

    python benchmarks/stream_cpu.py [--streams 100] [--chunks 50] [--chunk-delay-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kimicode.config import ModelSettings, RetrySettings
from kimicode.llm.client import OpenAIChatModel


def write_script(directory: Path, chunks: int, delay_ms: float, rounds: int) -> Path:
    turn = {"content": "token " * chunks, "chunks": chunks, "chunk_delay_ms": delay_ms}
    script = {
        "conversations": [{"match": r"stream (\d+)", "turns": [{**turn, "repeat": rounds}]}],
    }
    path = directory / "stream_cpu.json"
    path.write_text(json.dumps(script))
    return path


async def ours(url: str, streams: int) -> int:
    settings = ModelSettings(base_url=url, provider="openai", max_output_tokens=0)
    model = OpenAIChatModel(settings, RetrySettings(attempts=1), "sk-bench", concurrency=streams)
    chunks = 0

    async def one(i: int) -> None:
        nonlocal chunks
        done = await model.complete(
            [{"role": "user", "content": f"stream {i}"}],
            [],
            on_delta=lambda d: None,
        )
        chunks += len(done.content.split())

    await asyncio.gather(*(one(i) for i in range(streams)))
    await model.aclose()
    return chunks


async def sdk_typed(url: str, streams: int) -> int:
    import openai

    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=url, max_retries=0)
    chunks = 0

    async def one(i: int) -> None:
        nonlocal chunks
        stream = await client.chat.completions.create(
            model="kimi-k2.5",
            messages=[{"role": "user", "content": f"stream {i}"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        parts = []
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        chunks += len("".join(parts).split())

    await asyncio.gather(*(one(i) for i in range(streams)))
    await client.close()
    return chunks


def measure(run, url: str, streams: int) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, chunks) of one run after a warm-up run."""
    asyncio.run(run(url, streams))
    cpu, wall = time.process_time(), time.perf_counter()
    chunks = asyncio.run(run(url, streams))
    return time.process_time() - cpu, time.perf_counter() - wall, chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=50)
    parser.add_argument("--chunk-delay-ms", type=float, default=20.0)
    args = parser.parse_args()
    import openai  # loaded before measuring, so neither side pays for the import

    del openai
    with tempfile.TemporaryDirectory() as tmp:
        script = write_script(Path(tmp), args.chunks, args.chunk_delay_ms, rounds=8)
        server = subprocess.Popen(
            [sys.executable, "-m", "kimicode.replay", str(script), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            rows = [("kimicode client", *measure(ours, url, args.streams))]
            rows.append(("openai SDK typed stream", *measure(sdk_typed, url, args.streams)))
        finally:
            server.terminate()
            server.wait()
    print(f"{args.streams} parallel streams x {args.chunks} chunks, {args.chunk_delay_ms} ms apart")
    print(f"{'client':<26}{'CPU s':>8}{'wall s':>8}{'chunks':>8}{'µs/chunk':>10}{'cores':>7}")
    for name, cpu, wall, chunks in rows:
        print(
            f"{name:<26}{cpu:>8.3f}{wall:>8.2f}{chunks:>8}"
            f"{cpu / max(chunks, 1) * 1e6:>10.1f}{cpu / wall:>7.2f}"
        )


if __name__ == "__main__":
    main()
