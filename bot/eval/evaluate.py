"""Evaluation on a question set: per-question results and, with gold fields, quality metrics."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from bot.core.types import Answer, Citation, Status
from bot.knowledge import loader

_SPACE = re.compile(r"\s+")


def normalise_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


class QuoteChecker:
    """Checks that a citation's quote is verbatim in its source file, whitespace aside."""

    def __init__(self, knowledge_dir: Path) -> None:
        self.knowledge_dir = knowledge_dir
        self._texts: dict[str, str | None] = {}

    def __call__(self, cite: Citation) -> bool:
        if cite.source not in self._texts:
            path = loader.source_path(self.knowledge_dir, cite.source)
            try:
                self._texts[cite.source] = normalise_space(loader.load_file(self.knowledge_dir, path).text)
            except (OSError, loader.LoadError):
                self._texts[cite.source] = None
        text = self._texts[cite.source]
        quote = normalise_space(cite.quote)
        return bool(text) and bool(quote) and quote in (text or "")


class AnsweringSystem(Protocol):
    """What an evaluation runs: the engine or a baseline, each answering one question at a time."""

    def answer(self, question: str, *, jurisdiction: str | None = None) -> Answer: ...


def answer_all(
    engine: AnsweringSystem, rows: list[dict[str, Any]], out: IO[str] | None = None
) -> list[tuple[dict[str, Any], Answer, list[str]]]:
    """Answer every question; write one `ask --json` object plus the `id` a line to `out`."""
    results = []
    for row in rows:
        started = time.perf_counter()
        result = engine.answer(str(row["question"]), jurisdiction=row.get("filter_jurisdiction"))
        result.latency_ms = round((time.perf_counter() - started) * 1000)
        results.append((row, result, result.retrieved))
        if out is not None:
            record = {"id": row["id"], **result.to_dict(), "context": result.context}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return results


def read_questions(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    """The question set: one JSON object a line, each with at least `id` and `question`; with
    `split`, only the rows of that part ("dev", "holdout")."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
        if not isinstance(row, dict) or "id" not in row or "question" not in row:
            raise ValueError(f'{path}:{number}: each line needs at least "id" and "question"')
        if split is None or row.get("split", "dev") == split:
            rows.append(row)
    return rows


def facts_found(groups: Sequence[Sequence[str]], text: str) -> int:
    """How many key-fact groups the text holds: a group counts when any of its patterns matches."""
    return sum(any(re.search(p, text, re.I | re.S) for p in group) for group in groups if group)


def forbidden_found(patterns: Sequence[str], text: str) -> list[str]:
    """The patterns of clearly wrong claims that the text matches."""
    return [p for p in patterns if re.search(p, text, re.I | re.S)]


def context_text(result: Answer) -> str:
    return "\n\n".join(str(c.get("text", "")) for c in result.context)


@dataclass
class Tally:
    """Counts behind the metrics for one group of questions."""

    answerable: int = 0
    hit1: int = 0
    hit5: int = 0
    rr: float = 0.0
    answered: int = 0
    declinable: int = 0
    declined: int = 0  # of the declinable
    declined_all: int = 0  # of every question
    citations: int = 0
    verbatim: int = 0
    cited_expected: int = 0
    cited_checked: int = 0
    right_cited: int = 0  # answerable questions with sources whose answer cites one of them
    right_in_context: int = 0  # ... whose context holds a passage of one of them
    with_sources: int = 0
    fact_rows: int = 0
    facts_answer: float = 0.0
    facts_context: float = 0.0
    forbidden: int = 0  # answers holding a clearly wrong claim

    def metrics(self) -> dict[str, float | int]:
        def ratio(a: float, b: int) -> float:
            return round(a / b, 3) if b else float("nan")

        return {
            "questions": self.answerable + self.declinable,
            "hit@1": ratio(self.hit1, self.answerable),
            "hit@5": ratio(self.hit5, self.answerable),
            "mrr": ratio(self.rr, self.answerable),
            "answer_rate": ratio(self.answered, self.answerable),
            "decline_accuracy": ratio(self.declined, self.declinable),
            "decline_precision": ratio(self.declined, self.declined_all),
            "citation_validity": ratio(self.verbatim, self.citations),
            "citation_precision": ratio(self.cited_expected, self.cited_checked),
            "right_source_cited": ratio(self.right_cited, self.with_sources),
            "right_source_in_context": ratio(self.right_in_context, self.with_sources),
            "fact_recall_answer": ratio(self.facts_answer, self.fact_rows),
            "fact_recall_context": ratio(self.facts_context, self.fact_rows),
            "forbidden_hits": self.forbidden,
        }


@dataclass
class Report:
    overall: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_jurisdiction: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.metrics(),
            "by_kind": {k: t.metrics() for k, t in sorted(self.by_kind.items())},
            "by_jurisdiction": {k: t.metrics() for k, t in sorted(self.by_jurisdiction.items())},
        }


def score(
    rows: Iterable[tuple[dict[str, Any], Answer, list[str]]], check: Callable[[Citation], bool]
) -> Report:
    """Metrics from (gold row, answer, retrieved sources in rank order) triples.

    Fact recall counts, for each answerable question with key facts, the share of its fact groups
    found in the answer text (a decline finds none) and in the passages given to the answerer."""
    report = Report()
    for row, result, retrieved in rows:
        if "expect" not in row:
            continue
        tallies = [
            report.overall,
            report.by_kind[str(row.get("kind", "unknown"))],
            report.by_jurisdiction[str(row.get("jurisdiction") or "-")],
        ]
        expected = set(row.get("sources") or [])
        ranked = list(dict.fromkeys(retrieved))
        answered = result.status is Status.ANSWERED
        groups = [g for g in row.get("facts") or [] if g]
        in_answer = facts_found(groups, result.answer) if answered else 0
        in_context = facts_found(groups, context_text(result))
        wrong = bool(forbidden_found(row.get("forbidden") or [], result.answer)) if answered else False
        for tally in tallies:
            for cite in result.citations:
                tally.citations += 1
                tally.verbatim += int(check(cite))
            tally.declined_all += int(not answered)
            tally.forbidden += int(wrong)
            if row["expect"] == "answer":
                tally.answerable += 1
                tally.answered += int(answered)
                tally.hit1 += int(bool(ranked[:1]) and ranked[0] in expected)
                tally.hit5 += int(any(s in expected for s in ranked[:5]))
                rank = next((i for i, s in enumerate(ranked, start=1) if s in expected), None)
                tally.rr += 1.0 / rank if rank else 0.0
                if expected:
                    tally.cited_checked += len(result.citations)
                    tally.cited_expected += sum(c.source in expected for c in result.citations)
                    tally.with_sources += 1
                    tally.right_cited += int(any(c.source in expected for c in result.citations))
                    tally.right_in_context += int(any(c.get("source") in expected for c in result.context))
                if groups:
                    tally.fact_rows += 1
                    tally.facts_answer += in_answer / len(groups)
                    tally.facts_context += in_context / len(groups)
            else:
                tally.declinable += 1
                tally.declined += int(not answered)
    return report


COLUMNS = [
    ("questions", "n"),
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("answer_rate", "answered"),
    ("decline_accuracy", "declined"),
    ("decline_precision", "decl.prec"),
    ("right_source_cited", "right.src"),
    ("right_source_in_context", "right.ctx"),
    ("fact_recall_answer", "facts.ans"),
    ("fact_recall_context", "facts.ctx"),
    ("forbidden_hits", "forbidden"),
    ("citation_validity", "verbatim"),
    ("citation_precision", "precision"),
]


def format_table(report: Report) -> str:
    """The metrics as a plain-text table: overall, then by kind and by jurisdiction."""
    heads = ["group", *(head for _, head in COLUMNS)]
    lines = ["  ".join(f"{h:>9}" for h in heads)]

    def row(name: str, tally: Tally) -> None:
        metrics = tally.metrics()
        cells = [f"{name[:9]:>9}"]
        for col, _ in COLUMNS:
            value = metrics[col]
            cells.append(
                f"{value:>9}" if isinstance(value, int) else f"{'-' if value != value else f'{value:.3f}':>9}"
            )
        lines.append("  ".join(cells))

    row("overall", report.overall)
    for kind, tally in sorted(report.by_kind.items()):
        row(kind, tally)
    for code, tally in sorted(report.by_jurisdiction.items()):
        row(f"jur:{code}", tally)
    return "\n".join(lines)
