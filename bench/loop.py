"""Responsiveness: the largest event-loop stall while a full reindex runs and 20 questions are
answered at once, as the Discord bot would run them.

    python -m bench.loop [--questions 20]

A ticker task asks to wake every 10 ms and records how late each wake-up is. Four phases, each
on a fresh ticker: idle (the noise floor of this machine), 20 questions at once via
Engine.astream, a full reindex in a thread (asyncio.to_thread, as /reindex does), and both
together. Engine and Indexer are built the way bot/discordbot/runner.py builds them (bot.build).
Aim: largest stall under 100 ms (Discord's heartbeat is safe well below that).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import (
    KNOWLEDGE,
    answerable_questions,
    make_settings,
    percentile,
    quiet_logs,
    scratch,
    summary_ms,
    table,
    wait_for_quiet,
    write_result,
)
from bot.build import build
from bot.config import Settings
from bot.core.types import Answer, Status
from bot.rag.engine import Engine

PERIOD = 0.010
COLUMNS = ("seconds", "max_stall_ms", "p99_ms", "over_50ms", "over_100ms", "ticks")


async def ticker(stop: asyncio.Event, lateness: list[float]) -> None:
    """Wake every PERIOD; record how late each wake-up was."""
    loop = asyncio.get_running_loop()
    due = loop.time() + PERIOD
    while not stop.is_set():
        await asyncio.sleep(max(0.0, due - loop.time()))
        now = loop.time()
        lateness.append(max(0.0, now - due))
        due = now + PERIOD


async def measured(work: Callable[[], Awaitable[Any]]) -> tuple[list[float], Any, float]:
    """Run `work` with a ticker beside it: (lateness of each tick, work's result, seconds)."""
    stop = asyncio.Event()
    lateness: list[float] = []
    tick = asyncio.create_task(ticker(stop, lateness))
    await asyncio.sleep(0.2)  # the ticker's own start-up is not part of the work
    started = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - started
    stop.set()
    await tick
    return lateness, result, seconds


def stalls(lateness: list[float], seconds: float) -> dict[str, Any]:
    ms = [x * 1000 for x in lateness]
    return {
        "seconds": round(seconds, 2),
        "ticks": len(ms),
        "max_stall_ms": round(max(ms), 1) if ms else 0.0,
        "p99_ms": round(percentile(ms, 99), 1),
        "p50_ms": round(percentile(ms, 50), 1),
        "over_50ms": sum(x > 50 for x in ms),
        "over_100ms": sum(x > 100 for x in ms),
    }


async def ask_all(engine: Engine, questions: list[str]) -> list[tuple[Answer, float]]:
    async def one(question: str) -> tuple[Answer, float]:
        started = time.perf_counter()
        answer = await engine.aanswer(question)
        return answer, time.perf_counter() - started

    return list(await asyncio.gather(*(one(q) for q in questions)))


async def run(settings: Settings, questions: list[str]) -> dict[str, Any]:
    parts = await asyncio.to_thread(build, settings)
    engine, indexer = parts.engine, parts.indexer
    await asyncio.to_thread(indexer.reindex)
    await ask_all(engine, questions[:3])  # warm: model, Chroma, BM25 corpus

    phases: dict[str, Any] = {}

    async def idle() -> None:
        await asyncio.sleep(3.0)

    lateness, _, seconds = await measured(idle)
    phases["idle"] = stalls(lateness, seconds)

    lateness, answers, seconds = await measured(lambda: ask_all(engine, questions))
    phases["questions"] = {**stalls(lateness, seconds), "answers": summary_ms([s for _, s in answers])}

    lateness, report, seconds = await measured(lambda: asyncio.to_thread(indexer.reindex, full=True))
    phases["reindex"] = {**stalls(lateness, seconds), "chunks": report.chunks}

    async def both() -> tuple[Any, list[tuple[Answer, float]]]:
        reindex = asyncio.create_task(asyncio.to_thread(indexer.reindex, full=True))
        await asyncio.sleep(0.5)  # questions arrive while the reindex is under way
        answers = await ask_all(engine, questions)
        return await reindex, answers

    lateness, (report, answers), seconds = await measured(both)
    phases["reindex_and_questions"] = {
        **stalls(lateness, seconds),
        "chunks": report.chunks,
        "answers": summary_ms([s for _, s in answers]),
        "answered": sum(a.status is Status.ANSWERED for a, _ in answers),
    }
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    quiet_logs()
    load_before = wait_for_quiet()
    questions = answerable_questions(args.questions)
    with scratch("loop") as work:
        settings = make_settings(KNOWLEDGE, work / "data")
        phases = asyncio.run(run(settings, questions))
    heads = ["phase", "seconds", "largest stall ms", "p99 ms", "ticks > 50 ms", "ticks > 100 ms", "ticks"]
    print(
        table(
            heads,
            [[name, *(p[k] for k in COLUMNS)] for name, p in phases.items()],
        )
    )
    both = phases["reindex_and_questions"]
    print(
        f"\n{len(questions)} questions during a full reindex: answers p50 {both['answers']['p50_ms']} ms, "
        f"p95 {both['answers']['p95_ms']} ms, {both['answered']} answered"
    )
    result = {
        "questions": questions,
        "period_ms": PERIOD * 1000,
        "phases": phases,
        "load_average_before": load_before,
    }
    print(f"\nwrote {write_result('loop', result)}")


if __name__ == "__main__":
    main()
