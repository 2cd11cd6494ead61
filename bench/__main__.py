"""Run every benchmark, one after another, each in a fresh process: `python -m bench`.

    python -m bench                      # all: quality, index, query, loop, concurrency, scale
    python -m bench quality loop         # some
    python -m bench --quick              # scale with 1k and 10k chunks only

Each prints its table and writes bench/results/<name>.json (scale also writes scale.png).
Figures from a shared or busy machine are noisy: each benchmark waits (up to 3 minutes) for
the load average to fall below 1 and records the load before and after.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.common import ROOT

ALL = ("quality", "index", "query", "loop", "concurrency", "scale")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(ALL)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="scale: 1k and 10k chunks only")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(ALL)}")
    failed = []
    for name in args.names or ALL:
        extra = ["--sizes", "1000", "10000"] if name == "scale" and args.quick else []
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], cwd=ROOT, check=False)
        took = time.perf_counter() - started
        print(f"=== bench.{name}: exit {done.returncode}, {took:.0f} s ===", flush=True)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
