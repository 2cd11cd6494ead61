"""Whether the scores the offline engine has could tell a question to decline from one to answer.

    python -m bench.declines [--questions tests/eval/real.jsonl:dev tests/eval/fresh.jsonl ...]

Builds a private index of knowledge/, answers every question offline, and keeps the scores of
the question's first search: the best passage's similarity (`dense`), the nearest front-matter
question's (`asked`) and the best share of the question's weighted words in a passage
(`lexical`). Among the questions the engine answered, it compares those its set expects it to
decline with those it expects answered:

- AUC: the chance that a question to decline scores lower than one to answer (0.5 is a coin,
  1.0 a floor that parts them all);
- for floors that would decline a half and all of the wrongly answered ones, how many rightly
  answered questions each would decline too.

A floor on a score can only raise declines where this parts the two. Deterministic; writes
bench/results/declines.json.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from bench.common import KNOWLEDGE, ROOT, make_settings, quiet_logs, scratch, table, write_result
from bot.build import build
from bot.core.types import Status
from bot.eval import evaluate
from bot.index.embeddings import LocalEmbeddings
from bot.rag.engine import Engine
from bot.rag.retriever import Hit

SCORES = ("dense", "asked", "lexical")
DEFAULT_SETS = ("tests/eval/real.jsonl:dev", "tests/eval/fresh.jsonl")


@dataclass
class Scored:
    id: str
    expect: str
    answered: bool
    scores: dict[str, float]


def read_sets(specs: list[str]) -> list[dict[str, Any]]:
    """Question rows of `path` or `path:split`, in order."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        path, _, split = spec.partition(":")
        rows.extend(evaluate.read_questions(ROOT / path, split or None))
    return rows


def auc(low: list[float], high: list[float]) -> float:
    """The chance that a value of `low` is below one of `high` (ties count a half)."""
    if not low or not high:
        return float("nan")
    wins = sum((a < b) + 0.5 * (a == b) for a in low for b in high)
    return wins / (len(low) * len(high))


def cost_of_floor(low: list[float], high: list[float], share: float) -> tuple[float, int]:
    """The floor under which `share` of `low` falls, and how many of `high` fall under it too."""
    if not low:
        return float("nan"), 0
    ordered = sorted(low)
    floor = ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
    return floor, sum(b <= floor for b in high)


def score_all(engine: Engine, rows: list[dict[str, Any]]) -> list[Scored]:
    """Each question answered, with the scores of its first search."""
    retriever = engine.retriever
    first: list[list[Hit]] = []
    search = retriever.search

    def recording(*args: Any, **kwargs: Any) -> list[Hit]:
        hits = search(*args, **kwargs)
        if not first:
            first.append(hits)
        return hits

    retriever.search = recording  # type: ignore[method-assign]
    out = []
    try:
        for row in rows:
            first.clear()
            result = engine.answer(str(row["question"]))
            hits = first[0] if first else []
            scores = {name: max((float(getattr(h, name)) for h in hits), default=0.0) for name in SCORES}
            answered = result.status == Status.ANSWERED
            out.append(Scored(str(row["id"]), str(row.get("expect", "answer")), answered, scores))
    finally:
        retriever.search = search  # type: ignore[method-assign]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", nargs="+", default=list(DEFAULT_SETS), metavar="PATH[:SPLIT]")
    args = parser.parse_args()
    quiet_logs()
    rows = read_sets(args.questions)
    with scratch("declines") as work:
        settings = make_settings(KNOWLEDGE, work / "data")
        parts = build(settings, embeddings=LocalEmbeddings())
        parts.indexer.reindex()
        scored = score_all(parts.engine, rows)
    answered = [s for s in scored if s.answered]
    wrong = [s for s in answered if s.expect == "decline"]
    right = [s for s in answered if s.expect == "answer"]
    expected_declines = sum(s.expect == "decline" for s in scored)
    print(
        f"{len(scored)} questions, {expected_declines} to decline; answered {len(answered)}: "
        f"{len(wrong)} of them to decline, {len(right)} to answer\n"
    )
    lines = []
    figures: dict[str, Any] = {}
    for name in SCORES:
        low = [s.scores[name] for s in wrong]
        high = [s.scores[name] for s in right]
        half_floor, half_cost = cost_of_floor(low, high, 0.5)
        all_floor, all_cost = cost_of_floor(low, high, 1.0)
        area = auc(low, high)
        figures[name] = {
            "auc": area,
            "half": {"floor": half_floor, "answers_lost": half_cost},
            "all": {"floor": all_floor, "answers_lost": all_cost},
        }
        lines.append(
            [
                name,
                f"{area:.3f}",
                f"{half_floor:.3f}",
                f"{half_cost}/{len(high)}",
                f"{all_floor:.3f}",
                f"{all_cost}/{len(high)}",
            ]
        )
    print(
        table(
            ["score", "AUC", "floor: half", "answers lost", "floor: all", "answers lost"],
            lines,
        )
    )
    path = write_result(
        "declines",
        {
            "sets": args.questions,
            "questions": len(scored),
            "answered": len(answered),
            "wrongly_answered": len(wrong),
            "scores": figures,
            "per_question": [vars(s) for s in scored],
        },
    )
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
