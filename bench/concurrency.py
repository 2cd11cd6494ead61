"""Concurrency: 20 questions at once against an OpenAI-compatible server that takes 1 s each.

    python -m bench.concurrency [--questions 20] [--delay 1.0]

The server is tests/llm_server.py on 127.0.0.1 (streamed chat completions, scripted delay).
The engine answers through Engine.astream, as the Discord bot does, over a private index of
knowledge/. Aim: total wall time under 3 s, i.e. the model calls overlap.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from typing import Any

from pydantic import SecretStr

from bench.common import (
    KNOWLEDGE,
    answerable_questions,
    make_settings,
    quiet_logs,
    scratch,
    summary_ms,
    table,
    wait_for_quiet,
    write_result,
)
from bot.build import build
from bot.core.types import Answer, Status
from bot.index.embeddings import LocalEmbeddings
from bot.rag.engine import Engine
from tests.llm_server import LLMServer, Reply

CONTENT = "The sources say a person can own what they made with AI as a tool [1]."


class TimedServer(LLMServer):
    """The test server, noting when each chat request arrives and how many are in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []
        self._count_lock = threading.Lock()

    def _next(self) -> Reply:
        with self._count_lock:
            self.arrivals.append(time.perf_counter())
        return super()._next()


async def ask_all(engine: Engine, questions: list[str]) -> list[tuple[Answer, float, float]]:
    async def one(question: str) -> tuple[Answer, float, float]:
        started = time.perf_counter()
        answer = await engine.aanswer(question)
        return answer, started, time.perf_counter()

    return list(await asyncio.gather(*(one(q) for q in questions)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    quiet_logs()
    load_before = wait_for_quiet()
    questions = answerable_questions(args.questions)
    server = TimedServer()
    server.start()
    server.default = Reply(CONTENT, delay=args.delay)
    embeddings = LocalEmbeddings()
    try:
        with scratch("concurrency") as work:
            settings = make_settings(
                KNOWLEDGE,
                work / "data",
                openai_base_url=server.base_url,
                openai_api_key=SecretStr("bench"),
                openai_max_retries=0,
            )
            parts = build(settings, embeddings=embeddings)
            parts.indexer.reindex()
            engine = parts.engine
            asyncio.run(ask_all(engine, questions[:2]))  # warm: model, Chroma, BM25, HTTP client
            server.arrivals.clear()
            started = time.perf_counter()
            results = asyncio.run(ask_all(engine, questions))
            wall = time.perf_counter() - started
    finally:
        server.stop()

    arrivals = sorted(a - started for a in server.arrivals)
    llm = sum(a.mode == "llm" and a.status is Status.ANSWERED for a, _, _ in results)
    result: dict[str, Any] = {
        "questions": len(questions),
        "model_delay_s": args.delay,
        "wall_s": round(wall, 2),
        "sequential_model_time_s": round(args.delay * len(questions), 1),
        "answered_by_model": llm,
        "statuses": [a.status.value for a, _, _ in results],
        "per_question": summary_ms([end - begin for _, begin, end in results]),
        "model_requests": len(arrivals),
        "first_request_after_s": round(arrivals[0], 2) if arrivals else None,
        "last_request_after_s": round(arrivals[-1], 2) if arrivals else None,
        "load_average_before": load_before,
    }
    per = result["per_question"]
    spread = f"{arrivals[0]:.2f} .. {arrivals[-1]:.2f}" if arrivals else "-"
    print(
        table(
            ["measure", "value"],
            [
                ["questions at once", len(questions)],
                ["model delay per answer, s", args.delay],
                ["total wall time, s (aim < 3)", round(wall, 2)],
                ["if the calls did not overlap, s (at least)", round(args.delay * len(questions), 1)],
                ["answered by the model (verified)", f"{llm} / {len(questions)}"],
                ["model requests arrived between, s", spread],
                ["per question p50 / p95, ms", f"{per['p50_ms']} / {per['p95_ms']}"],
            ],
        )
    )
    print(f"\nwrote {write_result('concurrency', result)}")


if __name__ == "__main__":
    main()
