"""Answer quality of ours against three baselines on the dev question set, one table.

    python -m bench.quality [--questions tests/eval/questions.jsonl]

Builds a private index of knowledge/ (under BENCH_SCRATCH), runs the textbook LangChain RAG,
BM25 only, dense only and ours on every question, prints the table overall, by question kind
and by jurisdiction, then every question where a baseline beats ours; writes
bench/results/quality.json. Deterministic: no timing in the scores.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.common import KNOWLEDGE, QUESTIONS, make_settings, quiet_logs, scratch, table, write_result
from bot.build import build
from bot.eval import baselines, evaluate
from bot.index.embeddings import LocalEmbeddings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    args = parser.parse_args()
    quiet_logs()
    rows = evaluate.read_questions(args.questions)
    embeddings = LocalEmbeddings()
    with scratch("quality") as work:
        settings = make_settings(KNOWLEDGE, work / "data")
        parts = build(settings, embeddings=embeddings)
        report = parts.indexer.reindex()
        systems = baselines.make_systems(settings, embeddings=parts.embeddings, client=parts.client)
        comparison = baselines.compare(systems, rows, knowledge_dir=settings.knowledge_dir)
    print(f"{len(rows)} questions, {report.chunks} chunks from {report.files} files\n")
    print(baselines.format_comparison(comparison))
    losses = baselines.where_ours_loses(comparison)
    print(f"\nWhere a baseline beats ours ({len(losses)}):")
    print(
        table(
            ["id", "kind", "baseline", "metric", "ours", "baseline did"],
            [[x.id, x.kind, x.baseline, x.what, x.ours, x.theirs] for x in losses],
        )
    )
    per_question: dict[str, dict[str, Any]] = {}
    for name, results in comparison.results.items():
        for row, result, retrieved in results:
            entry = per_question.setdefault(
                str(row["id"]),
                {"question": row["question"], "kind": row.get("kind"), "expect": row.get("expect")},
            )
            entry[name] = {
                "status": result.status.value,
                "top": list(dict.fromkeys(retrieved))[:5],
                "cited": [c.source for c in result.citations],
            }
    path = write_result(
        "quality",
        {
            "questions_file": str(args.questions),
            "questions": len(rows),
            "chunks": report.chunks,
            **comparison.to_dict(),
            "table": baselines.format_comparison(comparison),
            "per_question": per_question,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
