"""Two bot processes sharing one Chroma server, against one process: 100 questions at once.

    python -m bench.scale_out [--questions 100] [--processes 1 2]

Starts `chroma run` on 127.0.0.1, indexes knowledge/ into it, then for each process count starts
that many worker processes (each an Engine, as a bot process has), waits until all have loaded
their model, releases them together, and measures the wall time until every question is
answered. Extractive answers (no model server): the work is retrieval and embedding, on the CPU.
Writes bench/results/scale_out.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def questions(count: int) -> list[str]:
    rows = [
        json.loads(line) for line in (ROOT / "tests/eval/questions.jsonl").read_text().splitlines() if line
    ]
    texts = [r["question"] for r in rows]
    return [texts[i % len(texts)] for i in range(count)]


def worker(host: str, port: int, prefix: str, batch: list[str], threads: int) -> None:
    """A bot-like process: load the engine, say ready, wait for go, answer all at once."""
    import torch

    from bot.build import build
    from bot.config import Settings

    torch.set_num_threads(threads)  # the processes share the cores instead of fighting over them
    settings = Settings(_env_file=None, chroma_host=host, chroma_port=port, collection_prefix=prefix)  # type: ignore[call-arg]
    engine = build(settings).engine
    engine.answer("warm up: who owns an AI image in China?")
    print("ready", flush=True)
    sys.stdin.readline()

    async def run() -> list[str]:
        answers = await asyncio.gather(*(engine.aanswer(q) for q in batch))
        return [a.status.value for a in answers]

    started = time.perf_counter()
    statuses = asyncio.run(run())
    print(json.dumps({"seconds": time.perf_counter() - started, "statuses": statuses}), flush=True)


def measure(host: str, port: int, prefix: str, total: list[str], processes: int) -> dict[str, object]:
    batches = [total[i::processes] for i in range(processes)]
    procs = []
    for batch in batches:
        threads = max(1, (os.cpu_count() or 1) // processes)
        spec = json.dumps({"host": host, "port": port, "prefix": prefix, "batch": batch, "threads": threads})
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.scale_out", "--worker", spec],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "HF_HUB_OFFLINE": "1"},
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"a worker did not start: {line!r}")
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        assert proc.stdout is not None
        results.append(json.loads(proc.stdout.readline()))
        proc.wait(timeout=60)
    wall = time.perf_counter() - started
    statuses = [s for r in results for s in r["statuses"]]
    return {
        "processes": processes,
        "questions": len(statuses),
        "wall_seconds": round(wall, 2),
        "questions_per_second": round(len(statuses) / wall, 2),
        "answered": statuses.count("answered"),
        "declined": len(statuses) - statuses.count("answered"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        worker(spec["host"], spec["port"], spec["prefix"], spec["batch"], spec["threads"])
        return

    from bot.build import build
    from bot.config import Settings
    from tests.chroma_server import ChromaServer

    with tempfile.TemporaryDirectory() as tmp:
        server = ChromaServer(Path(tmp)).start()
        try:
            host, port = server.address
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                chroma_host=host,
                chroma_port=port,
                data_dir=Path(tmp) / "data",
                collection_prefix="bench",
            )
            report = build(settings).indexer.reindex()
            print(f"indexed {report.chunks} chunks into the Chroma server at {host}:{port}")
            total = questions(args.questions)
            rows = [measure(host, port, "bench", total, n) for n in args.processes]
        finally:
            server.stop()
    base = rows[0]["questions_per_second"]
    print(f"{'processes':>10} {'questions':>10} {'wall s':>8} {'q/s':>8} {'speed-up':>9}")
    for row in rows:
        speedup = float(row["questions_per_second"]) / float(base)  # type: ignore[arg-type]
        row["speedup"] = round(speedup, 2)
        print(
            f"{row['processes']:>10} {row['questions']:>10} {row['wall_seconds']:>8} "
            f"{row['questions_per_second']:>8} {speedup:>8.2f}x"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "rows": rows}
    (RESULTS / "scale_out.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
