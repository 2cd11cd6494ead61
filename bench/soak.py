"""Soak: 300 questions over about a minute through Engine.astream, with a local model server.

    python -m bench.soak [--questions 300] [--seconds 60] [--concurrency 3] [--model-delay 0.05]

Builds a private index of knowledge/ (under BENCH_SCRATCH), starts the OpenAI-compatible test
server on 127.0.0.1 (tests/llm_server.py) and asks the dev questions and the abuse questions,
cycled, at an even rate, a few at a time as a busy Discord server would. About one question in
twenty meets a model fault (HTTP 500, 429, malformed JSON, a stream cut half-way, a timeout).

Checks: every question answered or declined, no exception, every quote verbatim in its file;
reports latency (from arrival, so queueing counts) and resident memory over the run, comparing
the first and the last 50 questions. Writes bench/results/soak.json; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    make_settings,
    quiet_logs,
    scratch,
    summary_ms,
    table,
    wait_for_quiet,
    write_result,
)
from bot.build import build
from bot.core.types import Answer
from bot.eval.evaluate import QuoteChecker
from bot.index.embeddings import LocalEmbeddings
from bot.rag.engine import MODEL_UNAVAILABLE_NOTE, Engine
from tests.llm_server import LLMServer, Reply

QUESTION_FILES = (ROOT / "tests" / "eval" / "questions.jsonl", ROOT / "tests" / "eval" / "abuse.jsonl")
WINDOW = 50  # questions compared at the start and the end for memory growth
GROWTH_LIMIT = 0.10
TIMEOUT = 2.0  # the model client's timeout in the soak; one fault waits it out
# What the model says when nothing goes wrong: two cited claims and one invented citation,
# so that verification has something to drop on every answer.
ANSWER = (
    "The sources describe how the courts and lawmakers treat this question [1]. "
    "They also note where the rules differ between countries [2]. "
    "A higher court has since settled it for good [9]."
)


def rss_kib() -> int:
    """Resident memory of this process, from /proc (psutil is not a dependency)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def questions(count: int, seed: int) -> list[str]:
    pool: list[str] = []
    for path in QUESTION_FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        pool += [json.loads(line)["question"] for line in lines if line]
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        batch = pool[:]
        rng.shuffle(batch)
        out += batch
    return out[:count]


def faults() -> list[Reply]:
    """The model faults the soak injects, in turn."""
    return [
        Reply(status=500),
        Reply(status=429, headers={"Retry-After": "0"}),
        Reply(raw_body="{not json"),
        Reply(ANSWER, cut_after=5),
        Reply(status=503),
        Reply(ANSWER, delay=TIMEOUT + 0.5),
    ]


@dataclass
class Result:
    index: int
    question: str
    seconds: float = 0.0
    status: str = ""
    mode: str = ""
    fallback: bool = False
    citations: int = 0
    bad_quotes: int = 0
    error: str = ""
    rss_kib: int = 0


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)  # in the order they finished
    warnings: Counter[str] = field(default_factory=Counter)
    model_requests: int = 0


WARNINGS: Counter[str] = Counter()


class CountWarnings(logging.Handler):
    """Counts the engine's warnings (model failures) instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        WARNINGS[f"{record.name}: {record.getMessage()[:60]}"] += 1


async def ask(engine: Engine, check: QuoteChecker, result: Result, arrived: float) -> None:
    try:
        final: Answer | None = None
        async for event in engine.astream(result.question):
            if isinstance(event, Answer):
                final = event
        if final is None:
            raise RuntimeError("the stream ended without an answer")
        result.status, result.mode = final.status.value, final.mode
        result.fallback = final.note == MODEL_UNAVAILABLE_NOTE
        result.citations = len(final.citations)
        result.bad_quotes = sum(not check(c) for c in [*final.citations, *final.closest])
    except Exception as error:  # counted, never fatal: the soak reports every failure
        result.error = f"{type(error).__name__}: {error}"[:200]
    result.seconds = time.perf_counter() - arrived
    result.rss_kib = rss_kib()


async def soak(
    engine: Engine,
    server: LLMServer,
    check: QuoteChecker,
    args: argparse.Namespace,
    *,
    count: int,
    seconds: float,
    seed: int,
) -> Run:
    """`count` questions spread evenly over `seconds` (0: as fast as they are answered)."""
    run = Run()
    asked = questions(count, seed)
    interval = seconds / max(1, count)
    fault_cycle = faults()
    slots = asyncio.Semaphore(args.concurrency)
    started = time.perf_counter()

    async def one(i: int, question: str) -> None:
        result = Result(i, question)
        arrived = time.perf_counter()
        async with slots:
            await ask(engine, check, result, arrived)
        run.results.append(result)
        seen = len(server.requests)  # the test server keeps every request: count, then forget them
        run.model_requests += seen
        del server.requests[:seen]

    tasks = []
    for i, question in enumerate(asked):
        due = started + i * interval
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if i % 20 == 10:  # one in twenty: the next request the model server gets fails
            server.script(fault_cycle[(i // 20) % len(fault_cycle)])
        tasks.append(asyncio.create_task(one(i, question)))
    await asyncio.gather(*tasks)
    return run


async def measure(
    engine: Engine, server: LLMServer, check: QuoteChecker, args: argparse.Namespace
) -> tuple[Run, float, tuple[int, int], tuple[int, int]]:
    """Warm up in this same loop (the model client belongs to it), then soak.

    The warm-up asks the same mix unpaced, so that the caches of the embedding model and the
    store and the allocator's per-thread arenas are filled before memory is compared."""
    rss_cold = rss_kib()
    warm = await soak(engine, server, check, args, count=args.warmup, seconds=0.0, seed=args.seed + 1)
    if any(r.error for r in warm.results):
        raise SystemExit(f"the warm-up failed: {[r.error for r in warm.results if r.error][:3]}")
    WARNINGS.clear()  # the warm-up's model faults are not the soak's
    gc.collect()
    objects_before = len(gc.get_objects())
    rss_ready = rss_kib()
    started = time.perf_counter()
    run = await soak(engine, server, check, args, count=args.questions, seconds=args.seconds, seed=args.seed)
    seconds = time.perf_counter() - started
    gc.collect()
    return run, seconds, (rss_cold, rss_ready), (objects_before, len(gc.get_objects()))


def report(
    run: Run, seconds: float, rss_start: int, rss_warm: tuple[int, int], objects: tuple[int, int]
) -> dict[str, Any]:
    done = sorted(run.results, key=lambda r: r.index)
    first = statistics.fmean(r.rss_kib for r in run.results[:WINDOW])
    last = statistics.fmean(r.rss_kib for r in run.results[-WINDOW:])
    growth = (last - first) / first if first else float("nan")
    errors = [r for r in done if r.error]
    statuses = Counter(r.status for r in done if not r.error)
    return {
        "questions": len(done),
        "seconds": round(seconds, 1),
        "rate_per_second": round(len(done) / seconds, 2) if seconds else 0.0,
        "statuses": dict(statuses),
        "modes": dict(Counter(r.mode for r in done if not r.error)),
        "model_fallbacks": sum(r.fallback for r in done),
        "errors": len(errors),
        "error_examples": [r.error for r in errors[:5]],
        "citations": sum(r.citations for r in done),
        "bad_quotes": sum(r.bad_quotes for r in done),
        "latency": summary_ms([r.seconds for r in done]),
        "latency_by_status": {
            status: summary_ms([r.seconds for r in done if r.status == status]) for status in sorted(statuses)
        },
        "rss_mib": {
            "start": round(rss_start / 1024, 1),
            "before_warmup": round(rss_warm[0] / 1024, 1),
            "ready": round(rss_warm[1] / 1024, 1),
            f"first_{WINDOW}_mean": round(first / 1024, 1),
            f"last_{WINDOW}_mean": round(last / 1024, 1),
            "peak": round(max(r.rss_kib for r in done) / 1024, 1),
        },
        "rss_growth": round(growth, 4),
        f"rss_mib_by_{WINDOW}": [
            round(statistics.fmean(r.rss_kib for r in run.results[i : i + WINDOW]) / 1024, 1)
            for i in range(0, len(run.results), WINDOW)
        ],
        "gc_objects": {"before": objects[0], "after": objects[1]},
        "warnings": dict(run.warnings.most_common(8)),
    }


def verdict(data: dict[str, Any], expected: int) -> list[str]:
    problems = []
    answered_or_declined = sum(data["statuses"].values())
    if answered_or_declined != expected:
        problems.append(f"{expected - answered_or_declined} questions were neither answered nor declined")
    if data["errors"]:
        problems.append(f"{data['errors']} questions raised an error")
    if data["bad_quotes"]:
        problems.append(f"{data['bad_quotes']} quotes were not verbatim in their files")
    if not data["rss_growth"] < GROWTH_LIMIT:
        problems.append(f"memory grew {data['rss_growth']:.1%} from the first to the last {WINDOW} questions")
    return problems


def summary(data: dict[str, Any]) -> str:
    """The two tables the soak prints."""
    latency, rss, statuses, modes = data["latency"], data["rss_mib"], data["statuses"], data["modes"]
    objects = data["gc_objects"]
    counts = " / ".join(str(statuses.get(s, 0)) for s in ("answered", "no_answer", "out_of_scope", "refused"))
    ms = " / ".join(f"{latency[k]:,.0f}" for k in ("p50_ms", "p95_ms", "max_ms"))
    keys = ("before_warmup", "ready", f"first_{WINDOW}_mean", f"last_{WINDOW}_mean", "peak")
    memory = " / ".join(str(rss[k]) for k in keys)
    rows = [
        ["questions", data["questions"]],
        ["wall time (s)", data["seconds"]],
        ["rate (questions/s)", data["rate_per_second"]],
        ["answered / no_answer / out_of_scope / refused", counts],
        ["by the model / quoting the sources", f"{modes.get('llm', 0)} / {modes.get('extractive', 0)}"],
        ["model faults met (fell back to quotes)", data["model_fallbacks"]],
        ["errors", data["errors"]],
        ["quotes not verbatim", f"{data['bad_quotes']} of {data['citations']} citations"],
        ["latency p50 / p95 / max (ms)", ms],
        [f"RSS before / after warm-up / first {WINDOW} / last {WINDOW} / peak (MiB)", memory],
        [f"RSS growth, first to last {WINDOW}", f"{data['rss_growth']:+.1%} (limit {GROWTH_LIMIT:.0%})"],
        ["Python objects before / after", f"{objects['before']:,} / {objects['after']:,}"],
    ]
    by_status = [
        [status, v["n"], v["p50_ms"], v["p95_ms"], v["max_ms"]]
        for status, v in data["latency_by_status"].items()
    ]
    heads = ["status", "n", "p50 ms", "p95 ms", "max ms"]
    return table(["soak", "result"], rows) + "\n\n" + table(heads, by_status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0, help="spread the questions over this long")
    parser.add_argument("--concurrency", type=int, default=3, help="questions answered at once")
    parser.add_argument("--model-delay", type=float, default=0.05, help="seconds the model server waits")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=100, help="questions asked, unpaced, before measuring")
    args = parser.parse_args()
    quiet_logs()
    logging.getLogger("bot").addHandler(CountWarnings())
    load_before = wait_for_quiet()  # latency on a busy shared machine says little
    logging.getLogger("bot").propagate = False
    rss_start = rss_kib()
    server = LLMServer().start()
    server.default = Reply(ANSWER, delay=args.model_delay)
    # The timeout fault writes to a connection the client has given up on: expected, not news.
    server.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    try:
        with scratch("soak") as work:
            embeddings = LocalEmbeddings()
            settings = make_settings(
                ROOT / "knowledge",
                work / "data",
                openai_base_url=server.base_url,
                openai_model="soak-model",
                openai_timeout_seconds=TIMEOUT,
                openai_max_retries=0,
            )
            parts = build(settings, embeddings=embeddings)
            built = parts.indexer.reindex()
            engine = parts.engine
            check = QuoteChecker(settings.knowledge_dir)
            print(
                f"Index: {built.chunks} chunks from {built.files} files. Asking {args.questions} "
                f"questions over {args.seconds:.0f} s, {args.concurrency} at a time…",
                flush=True,
            )
            run, seconds, rss_warm, objects = asyncio.run(measure(engine, server, check, args))
            run.warnings = Counter(WARNINGS)
            data = report(run, seconds, rss_start, rss_warm, objects)
    finally:
        server.stop()
    data["model_requests"] = run.model_requests
    data["load_average_before"] = load_before
    data["settings"] = {
        "questions": args.questions,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "model_delay": args.model_delay,
        "fault_every": 20,
        "model_timeout": TIMEOUT,
        "model_retries": 0,
        "warmup_questions": args.warmup,
        "knowledge_files": built.files,
        "chunks": built.chunks,
    }
    problems = verdict(data, args.questions)
    data["passed"] = not problems
    data["problems"] = problems
    print(summary(data))
    path = write_result("soak", data)
    outcome = "PASSED" if not problems else "FAILED: " + "; ".join(problems)
    print(f"\n{outcome}. Wrote {path.relative_to(ROOT)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
