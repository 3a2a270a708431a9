"""Start-up time of the CLI: median wall time of `kimicode --version` and `--help`.

Targets: under 100 ms and 180 ms. Usage: python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def command() -> list[str]:
    exe = shutil.which("kimicode")
    return [exe] if exe else [sys.executable, "-m", "kimicode"]


def measure(args: list[str], runs: int) -> list[float]:
    base = command()
    subprocess.run([*base, *args], capture_output=True, check=True)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*base, *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    bare = measure_python(opts.runs)
    print(f"{'command':<22}{'median ms':>10}{'min ms':>9}{'target ms':>11}")
    print(f"{'python -c pass':<22}{bare * 1000:>10.0f}")
    for args, target in ((["--version"], 100), (["--help"], 180)):
        times = measure(args, opts.runs)
        label = "kimicode " + " ".join(args)
        print(
            f"{label:<22}{statistics.median(times) * 1000:>10.0f}"
            f"{min(times) * 1000:>9.0f}{target:>11}"
        )


def measure_python(runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()
