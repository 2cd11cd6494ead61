"""Question speed: retrieval and extractive answers (warm), cold start, peak memory.

    python -m bench.query [--rounds 2] [--cold-runs 3]

Builds a private index of knowledge/, then, in this process and warm: retrieval latency (the
hybrid search the engine runs) and end-to-end extractive answer latency over the dev question
set. Cold start: `python bot.py ask --json` as a subprocess with that index already built, from
spawn to the answer on stdout, with its peak RSS (from wait4), and a breakdown of where the cold
start goes. Peak RSS of `python bot.py eval` over the whole question set too.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    KNOWLEDGE,
    QUESTIONS,
    ROOT,
    clean_environ,
    make_settings,
    quiet_logs,
    scratch,
    summary_ms,
    table,
    wait_for_quiet,
    write_result,
)
from bot.build import build
from bot.core.types import Status
from bot.eval import evaluate
from bot.index.embeddings import LocalEmbeddings
from bot.jurisdictions import jurisdictions_in
from bot.rag.engine import PASSAGES

COLD_QUESTION = "Can an AI-generated image be protected by copyright in China?"

# Run in a fresh interpreter: how long each step of a cold start takes, in the CLI's order.
BREAKDOWN = """
import time
t0 = time.perf_counter()
import json, sys
import bot.cli
from bot.config import Settings
t1 = time.perf_counter()
import sentence_transformers, torch
t2 = time.perf_counter()
from bot.build import build
parts = build(Settings())
parts.indexer.ensure_index()
engine = parts.engine
t3 = time.perf_counter()
engine.retriever.corpus()
t4 = time.perf_counter()
engine.answer(sys.argv[1])
t5 = time.perf_counter()
engine.answer(sys.argv[1])
t6 = time.perf_counter()
print(json.dumps({"import_bot_cli_s": t1 - t0, "import_torch_sentence_transformers_s": t2 - t1,
                  "load_model_open_chroma_s": t3 - t2, "read_chunks_build_bm25_s": t4 - t3,
                  "first_answer_s": t5 - t4, "second_answer_s": t6 - t5}))
"""

# Runs a command and reports its peak RSS. A child inherits, across exec, the RSS high-water
# mark of the process it was forked from, so the bot is started from this small launcher rather
# than from the benchmark (about 1 GB), whose high-water mark would otherwise be reported.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
sys.stderr.write("peak_rss_kib=%d exit=%d\\n" % (usage.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


def run_measured(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Spawn the bot; seconds to its first stdout line and to exit; its peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(  # our own CLI, fixed arguments
        [sys.executable, "-c", LAUNCHER, sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    first_output = time.perf_counter() - started
    rest, errors = process.communicate()
    exited = time.perf_counter() - started
    report = errors.strip().splitlines()[-1] if errors.strip() else ""
    fields = dict(part.split("=") for part in report.split() if "=" in part)
    if process.returncode != 0 or fields.get("exit") != "0":
        raise RuntimeError(f"{args} failed: {errors[-2000:]}")
    return {
        "to_answer_s": first_output,
        "to_exit_s": exited,
        "peak_rss_mib": int(fields["peak_rss_kib"]) / 1024,
        "stdout": first_line + rest,
    }


def profile_top(profiler: cProfile.Profile, limit: int = 10) -> list[dict[str, Any]]:
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = [
        {
            "function": f"{Path(path).name}:{line}({name})",
            "calls": calls,
            "own_s": round(own, 3),
            "cumulative_s": round(cum, 3),
        }
        for (path, line, name), (_, calls, own, cum, _) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return rows[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="retrieval passes over the question set")
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    quiet_logs()
    load_before = wait_for_quiet()
    rows = evaluate.read_questions(QUESTIONS)
    questions = [str(r["question"]) for r in rows]
    embeddings = LocalEmbeddings()
    with scratch("query") as work:
        data = work / "data"
        settings = make_settings(KNOWLEDGE, data)
        parts = build(settings, embeddings=embeddings)
        parts.indexer.ensure_index()
        engine = parts.engine
        for q in questions[:5]:  # warm-up: model, Chroma, BM25 corpus
            engine.answer(q)

        retrieval: list[float] = []
        embed_query: list[float] = []
        profiler = cProfile.Profile()
        for _ in range(args.rounds):
            for q in questions:
                started = time.perf_counter()
                embeddings.embed_query(q)
                embed_query.append(time.perf_counter() - started)
                profiler.enable()
                started = time.perf_counter()
                engine.retriever.search(q, k=PASSAGES, boost=jurisdictions_in(q) or None)
                retrieval.append(time.perf_counter() - started)
                profiler.disable()
        retrieval_hot = profile_top(profiler)

        answers_all: list[float] = []
        answers_answered: list[float] = []
        profiler = cProfile.Profile()
        for q in questions:
            profiler.enable()
            started = time.perf_counter()
            answered = engine.answer(q)
            seconds = time.perf_counter() - started
            profiler.disable()
            answers_all.append(seconds)
            if answered.status is Status.ANSWERED:
                answers_answered.append(seconds)
        answer_hot = profile_top(profiler)
        in_process_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        env = clean_environ(KNOWLEDGE_DIR=str(KNOWLEDGE), DATA_DIR=str(data))
        cold = [run_measured(["bot.py", "ask", "--json", COLD_QUESTION], env) for _ in range(args.cold_runs)]
        assert all(json.loads(c["stdout"])["status"] == "answered" for c in cold)
        breakdowns = []
        for _ in range(args.cold_runs):
            done = subprocess.run(  # our own code, fixed arguments
                [sys.executable, "-c", BREAKDOWN, COLD_QUESTION],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            breakdowns.append(json.loads(done.stdout.strip().splitlines()[-1]))
        eval_run = run_measured(["bot.py", "eval", str(QUESTIONS), "--json"], env)
        startup = []
        for _ in range(args.cold_runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)  # fixed arguments
            startup.append(time.perf_counter() - started)

    breakdown = {"python_startup_s": round(statistics.median(startup), 2)}
    breakdown.update({k: round(statistics.median(b[k] for b in breakdowns), 2) for k in breakdowns[0]})
    result: dict[str, Any] = {
        "questions": len(questions),
        "retrieval": summary_ms(retrieval),
        "embed_query": summary_ms(embed_query),
        "answer_all": summary_ms(answers_all),
        "answer_answered_only": summary_ms(answers_answered),
        "cold_start_to_answer_s": [round(c["to_answer_s"], 2) for c in cold],
        "cold_start_to_exit_s": [round(c["to_exit_s"], 2) for c in cold],
        "cold_start_breakdown_median_s": breakdown,
        "peak_rss_ask_mib": [round(c["peak_rss_mib"], 1) for c in cold],
        "peak_rss_eval_97_questions_mib": round(eval_run["peak_rss_mib"], 1),
        "eval_97_questions_s": round(eval_run["to_exit_s"], 1),
        "peak_rss_this_benchmark_mib": round(in_process_rss, 1),
        "retrieval_profile_top_own_time": retrieval_hot,
        "answer_profile_top_own_time": answer_hot,
        "load_average_before": load_before,
    }
    r, a, aa = result["retrieval"], result["answer_all"], result["answer_answered_only"]
    e = result["embed_query"]
    cold_median = statistics.median(c["to_answer_s"] for c in cold)
    print(
        table(
            ["measure", "p50", "p95", "n"],
            [
                ["retrieval (hybrid search), ms, warm", r["p50_ms"], r["p95_ms"], r["n"]],
                ["  of which embedding the question, ms", e["p50_ms"], e["p95_ms"], e["n"]],
                ["extractive answer, end to end, ms, warm", a["p50_ms"], a["p95_ms"], a["n"]],
                ["  answered questions only, ms", aa["p50_ms"], aa["p95_ms"], aa["n"]],
            ],
        )
    )
    print()
    print(
        table(
            ["measure", "value"],
            [
                ["cold start to first answer, s (median)", round(cold_median, 2)],
                ["cold start runs, s", ", ".join(f"{c['to_answer_s']:.2f}" for c in cold)],
                *[[f"  {k}", v] for k, v in breakdown.items()],
                ["peak RSS, `bot.py ask`, MiB", max(result["peak_rss_ask_mib"])],
                ["peak RSS, `bot.py eval` (97 questions), MiB", result["peak_rss_eval_97_questions_mib"]],
            ],
        )
    )
    print("\nanswer, top functions by own time (cProfile):")
    print(table(["function", "calls", "own s", "cumulative s"], [list(x.values()) for x in answer_hot[:8]]))
    print(f"\nwrote {write_result('query', result)}")


if __name__ == "__main__":
    main()
